"""Magpie against the loopback server: raw pre-queries on /completions, cleaning, answers on chat."""

from __future__ import annotations

from pathlib import Path

import pytest

from curator_synth.clients import FORMATTERS, AsyncOpenAIClient, OpenAIClient
from curator_synth.errors import BadRequestError, ConfigError
from curator_synth.generators.magpie import (
    AsyncMagpieGenerator,
    MagpieGenerator,
    MagpieRecord,
    clean_query,
    query_key,
)
from curator_synth.generators.nemotron_run import PipelineFailure
from curator_synth.prompts.magpie import MAGPIE_TEMPLATES, MagpieTemplate, formatter_prefix, magpie_template
from curator_synth.testing import FakeLLMServer, FakeRequest


class Magpie:
    """Completions: the query of the draw's seed (from ``queries``). Chat: an answer naming the query."""

    def __init__(self, queries: dict[int, str] | None = None) -> None:
        self.queries = queries or {}
        self.requests: list[FakeRequest] = []

    def __call__(self, request: FakeRequest) -> str:
        self.requests.append(request)
        if request.endpoint == "completions":
            seed = request.body["seed"]
            query = self.queries.get(seed, f"Question number {seed} about something?")
            if query == "FAIL":
                raise RuntimeError("draw failed")
            return query
        if "answer fails" in request.prompt:
            raise RuntimeError("answer failed")
        return f" Answer to: {request.prompt} "


# ------------------------------------------------------------------------------------------------ templates
def test_templates_cover_the_chat_formats_and_match_their_formatters() -> None:
    assert set(MAGPIE_TEMPLATES.names()) == {"nemotron", "mixtral", "llama3", "chatml"}
    assert set(MAGPIE_TEMPLATES.names()) <= set(FORMATTERS.names())
    for name in MAGPIE_TEMPLATES.names():
        template = MAGPIE_TEMPLATES.get(name)
        assert template.id == f"magpie.{name}"
        assert template.namespace == f"magpie.{name}@1"
        assert template.pre_query == formatter_prefix(name)
        assert FORMATTERS.get(name).stop[0] in template.stop or name == "mixtral"
        assert "{" not in template.pre_query
        assert "}" not in template.pre_query
    assert magpie_template("llama3").pre_query == "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n"
    assert magpie_template("chatml").pre_query == "<|im_start|>user\n"
    assert magpie_template("nemotron").pre_query == "<extra_id_0>System\n\n<extra_id_1>User\n"
    assert magpie_template("mixtral").pre_query == "<s> [INST] "
    assert magpie_template("mixtral").stop[0] == "[/INST]"  # the user turn ends at [/INST], not at </s>
    assert magpie_template("chatml").render("You teach chemistry.") == (
        "<|im_start|>system\nYou teach chemistry.<|im_end|>\n<|im_start|>user\n"
    )
    with pytest.raises(ConfigError, match="unknown magpie_templates"):
        magpie_template("vicuna")
    with pytest.raises(ConfigError):
        MagpieTemplate("x", "prefix", stop=())


@pytest.mark.parametrize("chat_format", ["llama3", "chatml", "nemotron", "mixtral"])
async def test_pre_query_goes_raw_to_completions_with_the_stop(chat_format: str) -> None:
    responder = Magpie()
    template = magpie_template(chat_format)
    with FakeLLMServer(responder) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            generator = AsyncMagpieGenerator(client, "m", params={"temperature": 0.0})
            result = await generator.generate(3, chat_format, seed=7)
    draws = [r for r in responder.requests if r.endpoint == "completions"]
    assert len(draws) == 3
    for draw in draws:
        assert draw.body["prompt"] == template.pre_query
        assert draw.body["stop"] == list(template.stop)
        assert draw.body["temperature"] == 1.0
        assert draw.body["max_tokens"] == 256
        assert "messages" not in draw.body
    assert sorted(d.body["seed"] for d in draws) == [7, 8, 9]
    answers = [r for r in responder.requests if r.endpoint == "chat"]
    assert all(r.body["temperature"] == 0.0 for r in answers)  # the generator's params, not the draw's
    assert next(r.messages for r in answers) == [{"role": "user", "content": "Question number 7 about something?"}]
    assert [(r.instruction, r.response) for r in result.items] == [
        (f"Question number {s} about something?", f"Answer to: Question number {s} about something?") for s in (7, 8, 9)
    ]
    record = result.items[0]
    assert isinstance(record, MagpieRecord)
    assert record.provenance["template"] == f"magpie.{chat_format}"
    assert record.provenance["seed"] == 7
    assert record.provenance["response_template"] == "responses.answer"
    assert "conversation_formatter" not in record.provenance["params"]


async def test_cleaning_drops_empty_short_and_duplicate_queries_and_draws_more() -> None:
    queries = {
        0: "  How do I bake sourdough bread?  ",
        1: "how do i   bake SOURDOUGH bread?",  # duplicate of 0
        2: "   ",  # empty
        3: "Hi there",  # too short
        4: '"Explain the Krebs cycle simply."',
        5: "What is a monad in Haskell?<|eot_id|>",  # a server that ignored stop
    }
    with FakeLLMServer(Magpie(queries)) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            result = await AsyncMagpieGenerator(client, "m").generate(3, "llama3", max_draws=10)
    assert [r.instruction for r in result.items] == [
        "How do I bake sourdough bread?",
        "Explain the Krebs cycle simply.",
        "What is a monad in Haskell?",
    ]
    assert result.draws == 6  # 3 drawn, 1 kept; 2 more, 1 kept; 1 more, kept
    assert [(d.seed, d.reason) for d in result.dropped] == [(1, "duplicate"), (2, "empty"), (3, "too_short")]
    assert result.drop_counts() == {"duplicate": 1, "empty": 1, "too_short": 1}
    assert result.ok


async def test_draw_budget_and_respond_false(tmp_path: Path) -> None:
    same = dict.fromkeys(range(10), "Always the same question here?")
    with FakeLLMServer(Magpie(same)) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, cache_dir=tmp_path) as client:
            result = await AsyncMagpieGenerator(client, "m").generate(3, "chatml", respond=False)
            assert server.stats()["by_endpoint"].get("chat", 0) == 0
    assert [(r.instruction, r.response) for r in result.items] == [("Always the same question here?", None)]
    assert result.draws == 6  # the default budget is 2 * n
    assert result.drop_counts() == {"duplicate": 5}


async def test_failures_are_reported_by_stage_and_a_rerun_is_free(tmp_path: Path) -> None:
    queries = {1: "FAIL", 2: "Please answer fails on this one."}
    with FakeLLMServer(Magpie(queries)) as server:
        outcomes = []
        for _ in range(2):
            server.reset_stats()
            async with AsyncOpenAIClient(base_url=server.base_url, max_retries=0, cache_dir=tmp_path) as client:
                result = await AsyncMagpieGenerator(client, "m").generate(3, "llama3", max_draws=3)
            outcomes.append((server.stats()["requests"], result))
    (cost, first), (rerun_cost, second) = outcomes
    assert cost == 5  # 3 draws + 2 answers
    assert rerun_cost == 2  # only the failed draw and the failed answer are asked again
    assert [r.instruction for r in first.items] == ["Question number 0 about something?"]
    assert [(f.index, f.stage, f.input) for f in first.failures] == [
        (1, "query", {"seed": 1}),
        (2, "response", {"seed": 2, "instruction": "Please answer fails on this one."}),
    ]
    assert all(isinstance(f, PipelineFailure) and isinstance(f.error, BadRequestError) for f in first.failures)
    assert first.failures[0].reason.startswith("query: BadRequestError")
    assert [r.id for r in second.items] == [r.id for r in first.items]


def test_sync_twin_with_system_prompt() -> None:
    responder = Magpie()
    with FakeLLMServer(responder) as server, OpenAIClient(base_url=server.base_url) as client:
        generator = MagpieGenerator(client, "m")
        result = generator.generate(2, "llama3", system="You are a chess coach.", response_model="r")
        with pytest.raises(ConfigError, match="max_draws"):
            generator.generate(3, max_draws=2)
        with pytest.raises(ConfigError, match="positive integer"):
            generator.generate(0)
    draw = next(r for r in responder.requests if r.endpoint == "completions")
    assert draw.body["prompt"] == (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a chess coach.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\n"
    )
    assert {r.model for r in responder.requests if r.endpoint == "chat"} == {"r"}
    assert len(result.items) == 2
    assert result.items[0].provenance["system"] == "You are a chess coach."
    assert result.items[0].provenance["response_model"] == "r"


def test_clean_query_and_key() -> None:
    assert clean_query("  Why is the sky blue?<|eot_id|><|start_header_id|>", ("<|eot_id|>",)) == "Why is the sky blue?"
    assert clean_query("**Why?**") == "Why?"
    assert query_key("  Why  IS\nthe sky blue? ") == "why is the sky blue?"
