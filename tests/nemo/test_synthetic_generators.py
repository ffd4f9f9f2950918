"""``curator_synth.nemo.synthetic``'s Nemotron generators: NeMo Curator 0.9's API over the native steps. Real
clients drive them over loopback (``FakeLLMServer``); small client objects of this file check NeMo's rules on counts
and failures, that the client given is the one used, and that a blocking generator's pipelines call its own
methods."""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
from collections.abc import Mapping
from typing import Any

import openai
import pytest
import yaml

from curator_synth import errors
from curator_synth.clients import OpenAIClient as NativeOpenAIClient
from curator_synth.errors import ConfigError, RequestSummary, ServerError
from curator_synth.generators.blocking import public_methods
from curator_synth.nemo import synthetic
from curator_synth.nemo.services import AsyncOpenAIClient, OpenAIClient
from curator_synth.nemo.synthetic import (
    AsyncNemotronGenerator,
    NemotronCCGenerator,
    NemotronGenerator,
    YamlConversionError,
)
from curator_synth.testing import FakeLLMServer
from curator_synth.testing.responders import FakeRequest

CONVERSION = "Rewrite only that list as a YAML list of strings"  # words of the YAML conversion template


def lists_of_two(request: FakeRequest) -> str:
    """A two-item numbered list for every prompt (items unique per request); a YAML conversion copies the items
    of the response it is given."""
    if CONVERSION in request.prompt:
        response = request.prompt.split("RESPONSE:\n", 1)[1]
        return yaml.safe_dump(re.findall(r"^\d+\. (.+)$", response, flags=re.MULTILINE))
    return f"1. item {request.request_number}a\n2. item {request.request_number}b"


class Answers:
    """A client object (not an LLMClient): answers in turn, the last one repeated; an exception is raised."""

    def __init__(self, *answers: str | Exception) -> None:
        self.answers = list(answers)
        self.calls: list[dict[str, Any]] = []

    def next(self, kwargs: dict[str, Any]) -> list[str]:
        self.calls.append(kwargs)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return [answer]


class AsyncAnswers(Answers):
    async def query_model(self, **kwargs: Any) -> list[str]:
        await asyncio.sleep(0)
        return self.next(kwargs)


class BlockingAnswers(Answers):
    def query_model(self, **kwargs: Any) -> list[str]:
        return self.next(kwargs)


async def test_a_real_async_client_runs_the_open_qa_pipeline_over_loopback() -> None:
    with FakeLLMServer(responder=lists_of_two) as server:
        client = AsyncOpenAIClient(openai.AsyncOpenAI(base_url=server.base_url, api_key="x"))
        generator = AsyncNemotronGenerator(client, max_concurrent_requests=3)
        assert generator.client is client
        questions = await generator.run_open_qa_pipeline(2, 2, 2, 2, model="m", base_model_kwargs={"temperature": 0.5})
        # 2 macro topics, 4 subtopics (+ the 2 macro topics), 2 questions on each of the 6, 2 revisions of each
        assert len(questions) == 24
        assert len(set(questions)) == 24
        assert all(re.fullmatch(r"item \d+[ab]", question) for question in questions)
        assert server.stats()["requests"] == 2 * (1 + 2 + 6 + 12)  # every list is converted by the model


def test_a_blocking_generator_takes_a_nemo_client_and_a_native_one_over_loopback() -> None:
    with FakeLLMServer(responder=lists_of_two) as server:
        nemo_client = OpenAIClient(openai.OpenAI(base_url=server.base_url, api_key="x"))
        generator = NemotronGenerator(nemo_client)
        assert generator.client is nemo_client
        pairs = generator.run_closed_qa_pipeline(["first doc", "second doc"], 2, model="m")
        assert [index for index, _ in pairs] == [0, 0, 1, 1]
        with NativeOpenAIClient(base_url=server.base_url) as native:
            generator = NemotronGenerator(native)
            assert generator.client is native
            tasks = generator.run_writing_pipeline(["rivers"], ["Essay", "Poem"], 2, 2, model="m")
            assert len(tasks) == 8
            assert generator.generate_macro_topics(2, model="m") == ["1. item 16a\n2. item 16b"]


async def test_a_blocking_pipeline_runs_inside_a_running_event_loop() -> None:
    generator = NemotronGenerator(BlockingAnswers("1. a\n2. b", "- a\n- b"))  # a notebook cell, say
    assert generator.run_closed_qa_pipeline(["doc"], 2, model="m") == [(0, "a"), (0, "b")]


def test_a_blocking_generators_pipelines_call_its_own_methods() -> None:
    class Mine(NemotronGenerator):
        def generate_writing_tasks(self, **kwargs: Any) -> list[str]:
            calls.append(kwargs)
            return ["1. Write a sonnet\n2. Write a haiku"]

    calls: list[dict[str, Any]] = []
    client = BlockingAnswers("- Write a sonnet\n- Write a haiku")
    generator = Mine(client)
    # the revisions are converted from the client's answer too: it is their own list
    result = generator.run_writing_pipeline(["love"], ["Poem"], 2, 2, model="m", trim_topics_list=True)
    assert calls == [
        {"topic": "love", "text_material_type": "Poem", "n_openlines": 2, "model": "m", "model_kwargs": {},
         "prompt_template": calls[0]["prompt_template"]},
    ]  # fmt: skip
    assert len(client.calls) == 1 + 2 * 2  # the conversion of the tasks, then a revision and its conversion each
    assert result == ["Write a sonnet", "Write a haiku"] * 2


async def test_counts_trim_topics_list_and_ignore_conversion_failure(caplog: pytest.LogCaptureFixture) -> None:
    three = "- a\n- b\n- c"
    generator = AsyncNemotronGenerator(AsyncAnswers("1. a\n2. b\n3. c", three))
    assert await generator.run_closed_qa_pipeline(["doc"], 2, model="m") == [(0, "a"), (0, "b")]  # trimmed
    generator = AsyncNemotronGenerator(AsyncAnswers("1. a\n2. b\n3. c", three))
    with pytest.raises(YamlConversionError, match="Length of parsed list 3 does not match expected length 2"):
        await generator.run_closed_qa_pipeline(["doc"], 2, model="m", trim_topics_list=False)
    generator = AsyncNemotronGenerator(AsyncAnswers("1. a\n2. b\n3. c", three))
    with caplog.at_level(logging.WARNING, logger="curator_synth.nemo.synthetic"):
        found = await generator.run_closed_qa_pipeline(
            ["doc"], 2, model="m", trim_topics_list=False, ignore_conversion_failure=True
        )
    assert found == []
    assert "left out a list that did not convert" in caplog.text
    generator = AsyncNemotronGenerator(AsyncAnswers("1. a", "- a"))
    assert await generator.run_closed_qa_pipeline(["doc"], "2", model="m") == [(0, "a")]  # shorter: kept as is


async def test_macro_topics_of_the_wrong_count_raise_unless_ignored() -> None:
    answers = ["1. a\n2. b\n3. c", "- a\n- b\n- c"]
    generator = AsyncNemotronGenerator(AsyncAnswers(*answers, "1. x\n2. y", "- x\n- y"))
    with pytest.raises(YamlConversionError, match="Length of macro topics 3 does not match desired 2"):
        await generator.run_python_pipeline(2, 2, 2, model="m")
    client = AsyncAnswers(*answers, "1. x\n2. y", "- x\n- y")
    generator = AsyncNemotronGenerator(client)
    problems = await generator.run_python_pipeline(2, 2, 2, model="m", ignore_conversion_failure=True)
    assert client.calls[2]["messages"][0]["content"].count("Python") >= 1  # the subtopics of "a"
    assert len(problems) == (2 * 2 + 2) * 2  # trimmed to 2 macro topics, each with 2 subtopics


async def test_only_lists_that_do_not_convert_are_left_out_other_failures_are_raised() -> None:
    request = RequestSummary.create("POST", "http://127.0.0.1:9/v1/chat/completions", "m")
    generator = AsyncNemotronGenerator(AsyncAnswers(ServerError("busy", status_code=503, request=request)))
    with pytest.raises(ServerError):
        await generator.run_closed_qa_pipeline(["doc"], 2, model="m", ignore_conversion_failure=True)


async def test_a_failed_conversion_says_why_as_nemo_and_keeps_the_answer() -> None:
    generator = AsyncNemotronGenerator(AsyncAnswers("key: value"))
    with pytest.raises(YamlConversionError, match=r"^Error parsing yaml response: .*not a list") as parse:
        await generator.convert_response_to_yaml_list("a list", model="m")
    assert parse.value.raw == "key: value"
    generator = AsyncNemotronGenerator(AsyncAnswers("- an invented item"))
    with pytest.raises(YamlConversionError, match=r"^Conversion introduced hallucinations: item 1"):
        await generator.convert_response_to_yaml_list("1. a real item", model="m")


async def test_max_concurrent_requests_bounds_the_items_in_flight() -> None:
    class Counting(AsyncAnswers):
        async def query_model(self, **kwargs: Any) -> list[str]:
            self.running += 1
            self.most = max(self.most, self.running)
            await asyncio.sleep(0.01)
            self.running -= 1
            return self.next(kwargs)

    client = Counting("1. a\n2. b", "- a\n- b")
    client.running = client.most = 0
    generator = AsyncNemotronGenerator(client, max_concurrent_requests=2)
    assert len(await generator.run_closed_qa_pipeline([f"doc {i}" for i in range(6)], 2, model="m")) == 12
    assert client.most == 2


async def test_the_client_given_is_checked_and_prompt_keywords_the_template_lacks_are_ignored() -> None:
    with pytest.raises(ConfigError, match="needs a client with a query_model method"):
        AsyncNemotronGenerator(object())
    with pytest.raises(ConfigError, match="needs an async client, got the blocking OpenAIClient"):
        AsyncNemotronGenerator(OpenAIClient(openai.OpenAI(base_url="http://127.0.0.1:9", api_key="x")))
    client = AsyncAnswers("fine")
    generator = AsyncNemotronGenerator(client, logger=logging.getLogger("mine"))
    assert generator.logger.name == "mine"
    answer = await generator.generate_macro_topics(3, "m", "Name {n_macro_topics} {kind}", {"kind": "birds", "x": 1})
    assert answer == ["fine"]
    assert client.calls[0]["messages"] == [{"role": "user", "content": "Name 3 birds"}]


def test_an_exhausted_blocking_client_fails_instead_of_hanging() -> None:
    class Exhausted:
        def query_model(self, **kwargs: Any) -> list[str]:
            raise StopIteration

    with pytest.raises(RuntimeError, match=r"Exhausted\.query_model raised StopIteration"):
        NemotronGenerator(Exhausted()).generate_subtopics("birds", 2, model="m")


def test_dialogues_keep_nemos_turns() -> None:
    client = BlockingAnswers("Hi!", "User: And then?", "Then this.")
    conversation = NemotronGenerator(client).generate_dialogue("Hello", "user-m", "assistant-m", n_user_turns=2)
    assert [turn["role"] for turn in conversation] == ["user", "assistant", "user", "assistant"]
    assert conversation[2]["content"] == "And then?"
    models: list[Mapping[str, Any]] = [call["model"] for call in client.calls]
    assert models == ["assistant-m", "user-m", "assistant-m"]


@pytest.mark.parametrize("twin", [NemotronGenerator, NemotronCCGenerator], ids=lambda twin: twin.__name__)
def test_a_blocking_generator_has_every_public_method_of_its_async_one(twin: type[Any]) -> None:
    for name, method in public_methods(twin.async_class).items():
        blocking = getattr(twin, name)
        assert not inspect.iscoroutinefunction(blocking), name
        expected = inspect.signature(method)
        if "trim_topics_list" in expected.parameters:  # NeMo's blocking pipelines do not trim
            assert inspect.signature(blocking).parameters["trim_topics_list"].default is False
            expected = expected.replace(
                parameters=[p for p in expected.parameters.values() if p.name != "trim_topics_list"]
            )
            got = inspect.signature(blocking)
            got = got.replace(parameters=[p for p in got.parameters.values() if p.name != "trim_topics_list"])
            assert got == expected, name
        else:
            assert inspect.signature(blocking) == expected, name


def test_the_package_has_nemos_names() -> None:
    nemo_names = {
        "AsyncNemotronCCGenerator", "AsyncNemotronGenerator", "Mixtral8x7BFormatter", "NemotronFormatter",
        "NemotronCCDiverseQAPostprocessor", "NemotronCCGenerator", "NemotronCCKnowledgeListPostprocessor",
        "NemotronGenerator", "NoFormat", "YamlConversionError", "DEFAULT_MACRO_TOPICS_PROMPT_TEMPLATE",
        "DIVERSE_QA_PROMPT_TEMPLATE", "NEMOTRON_CC_SYSTEM_PROMPT", "PYTHON_PROBLEM_ADVANCED_PROMPT_TEMPLATE",
        "DIALOGUE_COMPLEX_USER_TURN_PROMPT_TEMPLATE",
    }  # fmt: skip
    assert nemo_names <= set(synthetic.__all__)
    assert all(hasattr(synthetic, name) for name in synthetic.__all__)
    assert synthetic.YamlConversionError is errors.YamlConversionError  # one exception tree
