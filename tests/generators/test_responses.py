"""Response generation against the loopback server: n samples (API n / distinct seeds), journal, failures."""

from __future__ import annotations

import string
from pathlib import Path

import pytest

from curator_synth.clients import AsyncOpenAIClient, OpenAIClient
from curator_synth.errors import BadRequestError, ConfigError
from curator_synth.generators.responses import (
    AsyncResponseGenerator,
    ResponseGenerator,
    ResponseRecord,
    answer_template,
)
from curator_synth.prompts import PROMPTS
from curator_synth.prompts.responses import ANSWER, ASSISTANT_SYSTEM_PROMPT, USER_TURN, transcript
from curator_synth.testing import FakeLLMServer, FakeRequest


def sampler(request: FakeRequest) -> str:
    """Says which choice and which seed answered which prompt; fails on purpose for prompts with "boom"."""
    if "boom" in request.prompt:
        raise RuntimeError("boom")
    return f"{request.prompt} | choice {request.choice_index} seed {request.body.get('seed')}"


async def test_n_samples_with_the_api_n() -> None:
    with FakeLLMServer(sampler) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            generator = AsyncResponseGenerator(client, "m", params={"temperature": 0.8})
            result = await generator.generate_responses(["Name a fruit.", "Name a tree."], n=3)
        stats = server.stats()
    assert result.ok
    assert stats["requests"] == 2  # one request per instruction, n=3 choices each
    first = result.items[0]
    assert isinstance(first, ResponseRecord)
    assert first.instruction == "Name a fruit."
    assert first.responses == tuple(f"Name a fruit. | choice {k} seed None" for k in range(3))
    assert first.provenance["sampling"] == "n"
    assert first.provenance["template"] == "responses.answer"
    assert first.provenance["params"] == {"temperature": 0.8}
    assert first.provenance["n"] == 3
    assert result.items[1].instruction == "Name a tree."
    assert first.as_dict()["responses"] == list(first.responses)


async def test_n_samples_with_distinct_seeds() -> None:
    with FakeLLMServer(sampler) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            generator = AsyncResponseGenerator(client, "m")
            result = await generator.generate_responses(["Name a fruit."], n=3, sampling="seeds", seed=10)
        stats = server.stats()
    assert stats["requests"] == 3
    (record,) = result.items
    assert record.responses == tuple(f"Name a fruit. | choice 0 seed {s}" for s in (10, 11, 12))
    assert record.provenance["seeds"] == [10, 11, 12]


@pytest.mark.parametrize("sampling", ["n", "seeds"])
async def test_a_rerun_is_answered_from_the_journal(tmp_path: Path, sampling: str) -> None:
    instructions = ["Name a fruit.", "Name a tree.", "Name a river."]
    with FakeLLMServer(sampler) as server:
        runs = []
        for _ in range(2):
            server.reset_stats()
            async with AsyncOpenAIClient(base_url=server.base_url, cache_dir=tmp_path) as client:
                generator = AsyncResponseGenerator(client, "m")
                result = await generator.generate_responses(instructions, n=2, sampling=sampling)  # type: ignore[arg-type]
            runs.append((server.stats()["requests"], [r.responses for r in result.items]))
    (first_cost, first), (second_cost, second) = runs
    assert first_cost == (3 if sampling == "n" else 6)
    assert second_cost == 0
    assert first == second
    assert all(len(set(responses)) == 2 for responses in first)  # the journal kept the samples apart


async def test_system_prompt_is_sent_literally() -> None:
    seen: list[FakeRequest] = []

    def record(request: FakeRequest) -> str:
        seen.append(request)
        return "ok"

    system = 'Answer in JSON like {"answer": ...}.'
    with FakeLLMServer(record) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            generator = AsyncResponseGenerator(client, "m")
            (record_,) = (await generator.generate_responses(["Q {not a field}"], system_prompt=system)).items
            await generator.generate_responses(["Q2"], system_prompt=ASSISTANT_SYSTEM_PROMPT)
    assert seen[0].messages == [
        {"role": "system", "content": system},
        {"role": "user", "content": "Q {not a field}"},
    ]
    assert seen[1].messages is not None
    assert seen[1].messages[0] == {"role": "system", "content": ASSISTANT_SYSTEM_PROMPT}
    assert record_.provenance["system_prompt"] == system
    assert record_.provenance["template"] == "responses.answer"


async def test_one_failing_item_is_reported_and_the_others_kept() -> None:
    with FakeLLMServer(sampler) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, max_retries=0) as client:
            generator = AsyncResponseGenerator(client, "m")
            result = await generator.generate_responses(["Name a fruit.", "boom now", "", "Name a tree."], n=2)
    assert [r.instruction for r in result.items] == ["Name a fruit.", "Name a tree."]
    assert [(f.index, f.input) for f in result.failures] == [(1, "boom now"), (2, "")]
    assert isinstance(result.failures[0].error, BadRequestError)
    assert "responder failed" in result.failures[0].reason
    assert isinstance(result.failures[1].error, ConfigError)


async def test_seeds_mode_keeps_the_samples_that_arrived(tmp_path: Path) -> None:
    """One seed failing fails the item, but its sibling samples are journaled: the retry pays for one."""
    broken = {"on": True}

    def flaky(request: FakeRequest) -> str:
        if broken["on"] and request.body.get("seed") == 1:
            raise RuntimeError("seed 1 is down")
        return f"seed {request.body.get('seed')}"

    with FakeLLMServer(flaky) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, max_retries=0, cache_dir=tmp_path) as client:
            generator = AsyncResponseGenerator(client, "m")
            failed = await generator.generate_responses(["Q"], n=3, sampling="seeds")
            assert not failed.items
            assert len(failed.failures) == 1
            broken["on"] = False
            server.reset_stats()
            fixed = await generator.generate_responses(["Q"], n=3, sampling="seeds")
        assert server.stats()["requests"] == 1
    assert fixed.items[0].responses == ("seed 0", "seed 1", "seed 2")


def test_sync_twin() -> None:
    with FakeLLMServer(sampler) as server, OpenAIClient(base_url=server.base_url) as client:
        generator = ResponseGenerator(client, "m")
        result = generator.generate_responses(["Hi there."], n=2, sampling="seeds")
        single = generator.generate_response("Hello.", seed=5)
    assert result.items[0].responses == ("Hi there. | choice 0 seed 0", "Hi there. | choice 0 seed 1")
    assert single.responses == ("Hello. | choice 0 seed 5",)
    assert ResponseGenerator.generate_responses.__doc__ == AsyncResponseGenerator.generate_responses.__doc__


def test_bad_arguments_fail_before_sending() -> None:
    with FakeLLMServer(sampler) as server, OpenAIClient(base_url=server.base_url) as client:
        generator = ResponseGenerator(client, "m")
        with pytest.raises(ConfigError, match="sampling"):
            generator.generate_responses(["x"], sampling="beam")
        with pytest.raises(ConfigError, match="positive integer"):
            generator.generate_responses(["x"], n=0)
        with pytest.raises(ConfigError, match="pass model="):
            ResponseGenerator(client).generate_responses(["x"])
        failed = generator.generate_responses(["x"], model_kwargs={"n": 2})
        assert isinstance(failed.failures[0].error, ConfigError)
        assert server.stats()["requests"] == 0


# ------------------------------------------------------------------------------------------------ templates
def test_response_templates_fill_without_stray_braces() -> None:
    templates = [PROMPTS.get(name) for name in PROMPTS.names() if name.startswith("responses.")]
    assert {t.id for t in templates} == {"responses.answer", "responses.user_turn"}
    for template in templates:
        assert template.version == 1
        filled = template.format(**{name: "VALUE" for name in template.fields})
        assert not {"{", "}"} & set(filled), template.id
        assert "VALUE" in filled
    assert ANSWER.format(instruction="Do {this}") == "Do {this}"
    assert USER_TURN.fields == {"conversation"}
    assert not any(name for _, name, _, _ in string.Formatter().parse(ASSISTANT_SYSTEM_PROMPT) if name)


def test_answer_template_and_transcript() -> None:
    assert answer_template(None) is ANSWER
    custom = answer_template("Be {brief}.")
    assert custom.id == ANSWER.id
    assert custom.messages(instruction="x")[0] == {"role": "system", "content": "Be {brief}."}
    messages = [
        {"role": "system", "content": "hidden"},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
    ]
    assert transcript(messages) == "User: Hi\n\nAssistant: Hello"
