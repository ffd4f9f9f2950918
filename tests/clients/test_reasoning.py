"""Reasoning models (issue 14): the reasoning (``reasoning_content``, or ``<think>…</think>`` in the content) is
split off before anything parses the answer and kept beside it; against FakeLLMServer's ``Reasoning`` responder
in both forms, through the client, a journaled re-run, structured output and the ``responses`` stage."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pydantic import BaseModel

from curator_synth.clients import AsyncOpenAIClient
from curator_synth.clients.defaults import RequestDefaults, request_defaults
from curator_synth.clients.reasoning import Answer, reasoning_of, split_reasoning
from curator_synth.errors import ConfigError, TruncatedResponseError, UnsupportedRequestError
from curator_synth.exports import export
from curator_synth.pipeline import SyntheticDataPipeline
from curator_synth.structured import query_structured
from curator_synth.testing import FakeLLMServer, Fixed, Reasoning

HI = [{"role": "user", "content": "What is two plus two?"}]


@pytest.mark.parametrize(
    ("content", "field", "answer", "reasoning"),
    [
        ("4", None, "4", None),
        ("4", "two and two make four", "4", "two and two make four"),
        ("<think>\ntwo and two\n</think>\n\n4", None, "4", "two and two"),
        ("  <think>a</think>4 <think>not reasoning</think>", None, "4 <think>not reasoning</think>", "a"),
        ("two and two</think>\n4", None, "4", "two and two"),  # the template opened <think> in the prompt
        ("<think>still thinking when max_tokens", None, "", "still thinking when max_tokens"),
        ("<think>b</think>4", "a", "4", "a\n\nb"),
        ("a </think> in an answer that opened <think> later", None,
         "a </think> in an answer that opened <think> later", None),
    ],
)  # fmt: skip
def test_split_reasoning(content: str, field: str | None, answer: str, reasoning: str | None) -> None:
    found = split_reasoning(content, field)
    assert found == answer
    assert reasoning_of(found) == reasoning
    assert isinstance(found, Answer) is (reasoning is not None)


def test_an_answer_pickles_with_its_reasoning() -> None:
    answer = pickle.loads(pickle.dumps(Answer("4", "two and two")))
    assert (answer, answer.reasoning, type(answer)) == ("4", "two and two", Answer)
    assert json.dumps(answer) == '"4"'


def test_the_reasoning_responder_checks_its_form() -> None:
    with pytest.raises(ConfigError, match="form"):
        Reasoning(form="xml")


@pytest.mark.parametrize("form", ["field", "think"])
async def test_the_client_splits_the_reasoning_off_and_a_rerun_replays_it(form: str, tmp_path: Path) -> None:
    responder = Reasoning(Fixed("4"), reasoning="two and two make four", form=form)
    with FakeLLMServer(responder) as server:
        for _ in range(2):  # the second run answers from the journal
            async with AsyncOpenAIClient(base_url=server.base_url, cache_dir=tmp_path, api_key="k") as client:
                (answer,) = await client.query_model(messages=HI, model="m", max_tokens=50)
            assert answer == "4"
            assert reasoning_of(answer) == "two and two make four"
        assert server.stats()["requests"] == 1
    assert client.stats.from_journal == 1


async def test_a_reasoning_cut_by_max_tokens_is_a_truncated_answer() -> None:
    responder = Reasoning(Fixed("4"), reasoning="one two three four five six seven eight")
    with FakeLLMServer(responder) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, api_key="k", max_retries=0) as client:
            with pytest.raises(TruncatedResponseError), request_defaults(RequestDefaults(finish_retries=0)):
                await client.query_model(messages=HI, model="m", max_tokens=5)
            (kept,) = await client.query_model(messages=HI, model="m", max_tokens=5)  # a policy that keeps it
    assert kept == ""
    assert reasoning_of(kept) == "one two three four five"


class Sum(BaseModel):
    total: int


@pytest.mark.parametrize("form", ["field", "think"])
async def test_structured_output_parses_the_answer_not_the_reasoning(form: str) -> None:
    responder = Reasoning(Fixed('{"total": 4}'), reasoning='maybe {"total": 5}? no.', form=form)
    with FakeLLMServer(responder) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, api_key="k") as client:
            found = await query_structured(client, messages=HI, model="m", schema=Sum)
    assert found == Sum(total=4)


def test_the_responses_stage_keeps_the_reasoning_in_its_own_column(tmp_path: Path) -> None:
    records = tmp_path / "records.jsonl"
    records.write_text("".join(json.dumps({"instruction": f"Question {i}?"}) + "\n" for i in range(6)))
    recipe: dict[str, Any] = {
        "name": "reasoning", "model": "fake-model", "client": {"max_retries": 0},
        "dask": {"cluster": "threads"}, "report": {"enabled": False},
        "stages": [{"stage": "load", "path": str(records)}, {"stage": "responses", "max_tokens": 100}],
        "exports": [{"format": "messages", "path": "plain.jsonl"},
                    {"format": "messages", "path": "trace.jsonl", "trace": True}],
    }  # fmt: skip
    with FakeLLMServer(Reasoning(Fixed("The answer."), form="think")) as server:
        recipe["client"]["base_url"] = server.base_url
        result = SyntheticDataPipeline(None, recipe).run(output_dir=tmp_path / "run")
    frame = result.dataset.to_pandas().sort_values("instruction")
    assert (frame["response"] == "The answer.").all()
    assert frame["reasoning"].tolist() == [f"Let me think about Question {i}? step by step." for i in range(6)]
    plain = [json.loads(line) for line in (tmp_path / "run" / "plain.jsonl").read_text().splitlines()]
    assert {record["messages"][-1]["content"] for record in plain} == {"The answer."}
    traced = [json.loads(line) for line in (tmp_path / "run" / "trace.jsonl").read_text().splitlines()]
    assert all(record["messages"][-1]["content"].startswith("<think>\nLet me think about") for record in traced)
    assert all(record["messages"][-1]["content"].endswith("</think>\n\nThe answer.") for record in traced)


def test_a_trace_export_leaves_rows_without_reasoning_as_they_are(tmp_path: Path) -> None:
    frame = pd.DataFrame({"instruction": ["a?", "b?"], "response": ["A.", "B."], "reasoning": ["think a", None]})
    export(frame, tmp_path / "out.jsonl", "alpaca", trace=True)
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [row["output"] for row in rows] == ["<think>\nthink a\n</think>\n\nA.", "B."]
    with pytest.raises(ConfigError, match="trace"):
        export(frame, tmp_path / "bad.jsonl", "alpaca", trace="yes")  # type: ignore[arg-type]


async def test_an_endpoint_refusing_max_tokens_gets_max_completion_tokens_from_then_on() -> None:
    # OpenAI's reasoning models: 400 unsupported_parameter "Use 'max_completion_tokens' instead".
    with FakeLLMServer(Fixed("one two three four five six"), unsupported=("max_tokens",)) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, api_key="k", max_retries=0) as client:
            (first,) = await client.query_model(messages=HI, model="m", max_tokens=3)
            (second,) = await client.query_model(messages=HI, model="m", max_tokens=4)
        stats = server.stats()
    assert (first, second) == ("one two three", "one two three four")  # the same limit, under the other name
    assert client.capabilities["max_completion_tokens"] is True
    assert stats["by_status"] == {"400": 1, "200": 2}  # one refused request, then never again
    assert client.stats.failures == {"UnsupportedRequestError": 1}  # that one request, counted as the engine saw it


async def test_another_refused_field_is_a_permanent_error_naming_it() -> None:
    with FakeLLMServer(Fixed("x"), unsupported=("top_p",)) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, api_key="k") as client:
            with pytest.raises(UnsupportedRequestError, match="'top_p' is not supported") as caught:
                await client.query_model(messages=HI, model="m", top_p=0.5)
            assert server.stats()["requests"] == 1  # not retried
    assert caught.value.param == "top_p"
    with pytest.raises(ConfigError, match="unsupported"):
        FakeLLMServer(unsupported="max_tokens")  # type: ignore[arg-type]
