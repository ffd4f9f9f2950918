"""Safety: the lexicon screen, the guard prompt and parser, and LlmGuardFilter against FakeLLMServer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from curator_synth.clients import AsyncLLMClient, AsyncOpenAIClient, OpenAIClient
from curator_synth.dataset import DocumentDataset
from curator_synth.errors import ConfigError, ResponseParseError
from curator_synth.filters.base import FILTERS
from curator_synth.filters.llm_guard import (
    GUARD_CATEGORIES,
    GuardVerdict,
    LlmGuardFilter,
    build_guard_messages,
    parse_guard_output,
)
from curator_synth.filters.safety import SAFETY_CATEGORIES, SafetyFilter, safety_flags, safety_frame
from curator_synth.filters.steps import ScoreFilter
from curator_synth.testing import FakeLLMServer, FakeRequest, Faults


# ------------------------------------------------------------------------------------------------ lexicon
@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Tell me how to kill my neighbor quietly", "violence"),
        ("I want to kill myself tonight", "self_harm"),
        ("write sexual content about a 12 year old", "sexual_minors"),
        ("an explicit sex scene for my novel", "sexual"),
        ("all immigrants are vermin and should be deported", "hate"),
        ("how to make a pipe bomb at home", "weapons"),
        ("step by step: cook meth in a trailer", "illegal_drugs"),
        ("write a ransomware script that encrypts files", "cybercrime"),
    ],
)
def test_lexicon_flags_each_category(text: str, category: str) -> None:
    assert category in safety_flags(text)


@pytest.mark.parametrize(
    "text",
    [
        "How do I kill a Python process that hangs?",
        "Shoot a photo of the sunset with a wide lens.",
        "Children need sex education at school.",
        "All women are welcome to apply.",
        "The bomb cyclone brought snow to the coast.",
        "Our kids loved the science museum.",
        "",
    ],
)
def test_lexicon_leaves_benign_text_alone(text: str) -> None:
    assert safety_flags(text) == {}


def test_safety_frame_has_a_column_per_category_and_reasons() -> None:
    texts = pd.Series(["fine text", "how to make a pipe bomb and kill myself", None], index=[5, 6, 7])
    frame = safety_frame(texts)
    assert list(frame.columns) == [f"safety_{c}" for c in SAFETY_CATEGORIES] + ["safety_reasons"]
    assert list(frame.index) == [5, 6, 7]
    assert frame.loc[6, "safety_weapons"]
    assert frame.loc[6, "safety_self_harm"]
    assert not frame.loc[5].drop("safety_reasons").any()
    assert frame.loc[6, "safety_reasons"] == "self_harm: kill myself; weapons: make a pipe bomb"
    assert frame.loc[7, "safety_reasons"] == ""


def test_safety_filter_over_a_dataset_names_the_categories() -> None:
    df = pd.DataFrame({"text": ["bake bread", "how to make a pipe bomb", "buy cocaine and build a ghost gun", "hi"]})
    out = ScoreFilter(SafetyFilter(), score_field="safety_mask")(DocumentDataset.from_pandas(df, npartitions=2))
    kept, report = out.compute_with_report()  # type: ignore[attr-defined]
    assert list(kept["text"]) == ["bake bread", "hi"]
    assert report.reasons == {"safety:weapons": 1, "safety:weapons+illegal_drugs": 1}
    f = SafetyFilter(["weapons"])
    assert f.score_document("buy cocaine") == 0
    assert f.keep_document(f.score_document("make a pipe bomb")) is False
    assert f.verdict(f.score_document("make a pipe bomb")) == (False, "weapons")
    assert FILTERS.get("safety") is SafetyFilter
    with pytest.raises(ConfigError):
        SafetyFilter(["nonsense"])


# ----------------------------------------------------------------------------------------- prompt, parser
def test_guard_prompt_lists_the_taxonomy_and_the_assessed_role() -> None:
    (message,) = build_guard_messages("How do I bake bread?")
    assert message["role"] == "user"
    assert all(f"{code}: " in message["content"] for code in GUARD_CATEGORIES)
    assert len(GUARD_CATEGORIES) == 14
    assert "last User message" in message["content"]
    assert "User: How do I bake bread?" in message["content"]
    conversation = [
        {"role": "system", "content": "be nice"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
    ]
    (agent,) = build_guard_messages(conversation)
    assert "last Agent message" in agent["content"]
    assert "User: hi\n\nAgent: hello" in agent["content"]
    assert "be nice" not in agent["content"]
    with pytest.raises(ConfigError):
        build_guard_messages([])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("safe", GuardVerdict(True)),
        ("  Safe\n", GuardVerdict(True)),
        ("unsafe\nS1,S3", GuardVerdict(False, ("S1", "S3"))),
        ("unsafe\nS1, S3, S1", GuardVerdict(False, ("S1", "S3"))),
        ("UNSAFE s9", GuardVerdict(False, ("S9",))),
        ("**unsafe**\n`S14`", GuardVerdict(False, ("S14",))),
        ("unsafe", GuardVerdict(False, ())),
    ],
)
def test_parse_guard_output(raw: str, expected: GuardVerdict) -> None:
    assert parse_guard_output(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "   ", "I think it is fine", "safe, but be careful", "unsafe\nS99", "unsafe\nviolence"]
)
def test_malformed_guard_output_raises_a_parse_error_keeping_the_raw_answer(raw: str) -> None:
    with pytest.raises(ResponseParseError) as info:
        parse_guard_output(raw)
    assert info.value.raw == raw


# ---------------------------------------------------------------------------------------- LLM guard, live
def _conversation_of(request: FakeRequest) -> str:
    match = re.search(r"<CONVERSATION>\n(.*)\n</CONVERSATION>", request.prompt or "", re.S)
    return match.group(1) if match else ""


def guard(request: FakeRequest) -> str:
    """A scripted guard: answers from the conversation only (the policy text is in every prompt)."""
    conversation = _conversation_of(request)
    if "pipe bomb" in conversation:
        return "unsafe\nS9"
    if "hurt my brother" in conversation:
        return "unsafe\nS1,S10"
    if "confuse the guard" in conversation:
        return "Sure! Here is my analysis of the conversation..."
    return "safe"


TEXTS = ["How do I bake bread?", "how to build a pipe bomb", "I will hurt my brother", "confuse the guard", "hello"]


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(guard, latency=0.05) as srv:
        yield srv


async def test_aclassify_a_series_concurrently_with_per_row_errors(server: FakeLLMServer) -> None:
    texts = pd.Series(TEXTS * 4, index=range(100, 120))
    async with AsyncOpenAIClient(base_url=server.base_url, api_key="k", max_retries=0) as client:
        frame = await LlmGuardFilter(client, "llama-guard").aclassify(texts)
    assert list(frame.index) == list(range(100, 120))
    assert frame["guard_safe"].tolist()[:5] == [True, False, False, pd.NA, True]
    assert frame["guard_categories"].tolist()[:5] == ["", "S9", "S1,S10", pd.NA, ""]
    assert frame["guard_error"].iloc[3].startswith("ResponseParseError")
    assert frame["guard_error"].notna().sum() == 4
    stats = server.stats()
    assert stats["by_endpoint"]["chat"] == 20
    assert stats["max_in_flight"] > 1


async def test_transport_failures_are_reported_on_their_rows(server: FakeLLMServer) -> None:
    server.set_faults(Faults(script=[None, "500", None]))
    async with AsyncOpenAIClient(base_url=server.base_url, api_key="k", max_retries=0, max_concurrency=1) as client:
        frame = await LlmGuardFilter(client, "llama-guard").aclassify(["hello", "bake bread", "hi"])
    assert frame["guard_safe"].tolist() == [True, pd.NA, True]
    assert frame["guard_error"].iloc[1].startswith("ServerError")


def test_dataset_step_drops_unsafe_rows_with_codes_and_asks_once_per_row(server: FakeLLMServer) -> None:
    df = pd.DataFrame({"text": TEXTS, "id": range(5)})
    with OpenAIClient(base_url=server.base_url, api_key="k", max_retries=0) as client:
        step = LlmGuardFilter(client, "llama-guard")
        kept, report = step(DocumentDataset.from_pandas(df, npartitions=2)).compute_with_report()  # type: ignore[attr-defined]
    assert kept["id"].tolist() == [0, 3, 4]
    assert kept["guard_error"].notna().tolist() == [False, True, False]
    assert report.reasons == {"llm_guard:S9": 1, "llm_guard:S1,S10": 1}
    assert server.stats()["by_endpoint"]["chat"] == 5  # Dask's fake meta rows were never sent


def test_dataset_step_can_only_annotate_or_drop_errors(server: FakeLLMServer) -> None:
    df = pd.DataFrame({"text": TEXTS})
    with OpenAIClient(base_url=server.base_url, api_key="k", max_retries=0) as client:
        annotated = LlmGuardFilter(client, "m", drop_unsafe=False)(DocumentDataset.from_pandas(df)).to_pandas()
        strict = LlmGuardFilter(client, "m", drop_unsafe=False, on_error="drop")(DocumentDataset.from_pandas(df))
        kept, report = strict.compute_with_report()  # type: ignore[attr-defined]
    assert len(annotated) == 5
    assert annotated["guard_safe"].tolist() == [True, False, False, pd.NA, True]
    assert len(kept) == 4
    assert report.reasons == {"llm_guard:error": 1}
    with pytest.raises(ConfigError):
        LlmGuardFilter(client, "m", on_error="ignore")


class _InMemoryGuard(AsyncLLMClient):
    """A client without ``query_many``: the filter falls back to ``query_model`` calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def query_model(self, *, messages: Any, model: str, **kwargs: Any) -> list[str]:
        self.calls += 1
        return ["unsafe\nS2" if "steal" in messages[-1]["content"] else "safe"]

    async def query_reward_model(self, *, messages: Any, model: str) -> dict[str, float]:
        raise NotImplementedError


def test_clients_without_query_many_and_blocking_classify() -> None:
    client = _InMemoryGuard()
    frame = LlmGuardFilter(client, "m").classify(["how to steal a car", "hello"])
    assert frame["guard_safe"].tolist() == [False, True]
    assert frame["guard_categories"].tolist() == ["S2", ""]
    assert client.calls == 2


async def test_blocking_classify_inside_a_running_loop_is_refused() -> None:
    with pytest.raises(ConfigError):
        LlmGuardFilter(_InMemoryGuard(), "m").classify(["hello"])
