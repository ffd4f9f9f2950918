"""The Nemotron pipelines end to end against FakeLLMServer: stage counts, provenance chains, the YAML
fallback, count policies, and per-item failures (one bad answer among 500 loses only its own item)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

import pytest

from curator_synth.clients import AsyncOpenAIClient, OpenAIClient
from curator_synth.errors import ConfigError, MalformedResponseError, ResponseParseError, YamlConversionError
from curator_synth.generators.nemotron import AsyncNemotronGenerator, NemotronGenerator
from curator_synth.generators.nemotron_pipelines import NemotronPipelineResult, PipelineFailure, StepInput
from curator_synth.prompts import nemotron as prompts
from curator_synth.records import record_id
from curator_synth.testing import FakeLLMServer, FakeRequest, Faults

MODEL = "fake-model"
Override = Callable[[FakeRequest], "str | None"]

# Which default template a prompt comes from → the label of the items the fake model lists for it.
LABELS = [
    ("Here is a question:", "Revised question"),
    ("Here is a writing task:", "Revised task"),
    ("broad topics", "Macro topic"),
    ("key concepts of the Python", "Macro topic"),
    ("different aspects of", "Subtopic"),
    ("key Python concepts related", "Subtopic"),
    ("might bring to an AI assistant", "Question"),
    ("each asking for a", "Task"),
    ("questions or instructions about this text", "Instruction"),
    ("problems", "Problem"),
]
COUNT = re.compile(r"(?:Propose|Write|Name|Rewrite it in) (\d+) ")


class ListModel:
    """A fake model: answers list prompts with as many numbered items as asked (items unique per prompt),
    classification prompts with Yes (No for macro topics), YAML conversions from ``conversions``."""

    def __init__(self, override: Override | None = None, conversions: dict[str, str] | None = None) -> None:
        self.override = override
        self.conversions = conversions or {}
        self.prompts: list[str] = []

    def __call__(self, request: FakeRequest) -> str:
        prompt = request.prompt
        self.prompts.append(prompt)
        if self.override is not None and (reply := self.override(request)) is not None:
            return reply
        if "YAML list of strings" in prompt:
            original = prompt.split("RESPONSE:\n", 1)[1]
            return next((yaml for key, yaml in self.conversions.items() if key in original), "not a list at all")
        if "entity of one of" in prompt:
            return "No, it is too broad." if '"Macro topic' in prompt else "Yes."
        label = next(label for marker, label in LABELS if marker in prompt)
        count = int(COUNT.findall(prompt)[-1])
        tag = hashlib.sha256(prompt.encode()).hexdigest()[:6]
        items = "\n".join(f"{i}. {label} {i} [{tag}]" for i in range(1, count + 1))
        return f"Here you go:\n\n{items}\n\nI hope these help!"


def by_id(result: NemotronPipelineResult) -> dict[str, dict[str, Any]]:
    return {record["id"]: record for records in result.stages.values() for record in records}


async def run_async(responder: ListModel, method: str, *args: Any, faults: Faults | None = None, **kwargs: Any) -> Any:
    with FakeLLMServer(responder, faults=faults) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, max_retries=0) as client:
            generator = AsyncNemotronGenerator(client, MODEL)
            result = await getattr(generator, method)(*args, **kwargs)
        result.requests = server.stats()["requests"]
    return result


# ------------------------------------------------------------------------------------------ end to end
async def test_open_qa_pipeline_stages_counts_and_provenance() -> None:
    result = await run_async(
        ListModel(),
        "run_open_qa_pipeline",
        2,
        2,
        2,
        2,
        base_model_kwargs={"temperature": 0.5},
        additional_macro_topics=["Music"],
        additional_subtopics=["Jazz"],
    )
    assert result.ok
    stages = {name: len(records) for name, records in result.stages.items()}
    # 2 macro topics + Music; 2 subtopics each + Jazz; questions about all 10 topics; 2 revisions of each
    assert stages == {"macro_topics": 3, "subtopics": 7, "openlines": 20, "revisions": 40}
    assert len(result.items) == len(result.texts) == 40
    assert len(set(result.texts)) == 40
    assert result.requests == 1 + 3 + 10 + 20  # no YAML conversion was needed

    records = by_id(result)
    revision = result.items[0]
    assert revision["stage"] == "revisions"
    assert revision["text"].startswith("Revised question 1 [")
    provenance = revision["provenance"]
    assert provenance["template"] == "nemotron.revise_open_qa"
    assert provenance["template_version"] == 1
    assert provenance["method"] == "revise_open_qa"
    assert provenance["model"] == MODEL
    assert provenance["params"] == {"temperature": 0.5}
    assert provenance["parsed_by"] == "parse_list"
    # revision → question → subtopic → macro topic
    question = records[provenance["parents"][0]]
    assert question["stage"] == "openlines"
    assert question["provenance"]["template"] == "nemotron.open_qa_from_topic"
    subtopic = records[question["provenance"]["parents"][0]]
    assert subtopic["stage"] == "subtopics"
    assert question["topic"] == subtopic["text"]
    macro = records[subtopic["provenance"]["parents"][0]]
    assert macro["stage"] == "macro_topics"
    assert macro["provenance"]["parents"] == []
    assert macro["provenance"]["template"] == "nemotron.macro_topics"
    assert revision["id"] == record_id("revisions", revision["text"], [question["id"]])
    jazz = next(r for r in result.stages["subtopics"] if r["text"] == "Jazz")
    assert jazz["provenance"] == {"source": "input"}


def test_open_qa_pipeline_sync_without_combined_topics() -> None:
    with FakeLLMServer(ListModel()) as server, OpenAIClient(base_url=server.base_url) as client:
        generator = NemotronGenerator(client, MODEL)
        result = generator.run_open_qa_pipeline(2, 3, 1, 1, combine_topics=False)
    assert isinstance(result, NemotronPipelineResult)
    assert {name: len(records) for name, records in result.stages.items()} == {
        "macro_topics": 2,
        "subtopics": 6,
        "openlines": 6,
        "revisions": 6,
    }


async def test_writing_pipeline() -> None:
    result = await run_async(ListModel(), "run_writing_pipeline", ["Rivers", "Cities"], ["Poem", "Email"], 2, 3)
    assert result.ok
    assert len(result.stages["writing_tasks"]) == 8
    assert len(result.items) == 24
    assert result.requests == 4 + 8
    task = result.stages["writing_tasks"][0]
    assert (task["topic"], task["text_material_type"]) == ("Rivers", "Poem")
    assert task["provenance"]["parents"] == [record_id("topics", "Rivers")]
    assert task["provenance"]["template"] == "nemotron.writing_tasks"
    assert result.items[0]["provenance"]["template"] == "nemotron.revise_writing_task"
    assert result.items[0]["provenance"]["parents"] == [task["id"]]


async def test_closed_qa_pipeline() -> None:
    documents = ["The Nile flows north.", "Bees dance to talk.", "Iron rusts in water."]
    result = await run_async(ListModel(), "run_closed_qa_pipeline", documents, 2)
    assert result.ok
    assert [record["document_index"] for record in result.items] == [0, 0, 1, 1, 2, 2]
    assert result.items[2]["provenance"]["parents"] == [record_id("documents", documents[1])]
    assert result.items[0]["provenance"]["template"] == "nemotron.closed_qa"
    assert list(result.stages) == ["instructions"]


@pytest.mark.parametrize("classify", [False, True])
async def test_math_pipeline(classify: bool) -> None:
    model = ListModel()
    result = await run_async(
        model,
        "run_math_pipeline",
        2,
        "middle school",
        2,
        2,
        math_problem_prompt_template=prompts.MATH_PROBLEM_BEGINNER_PROMPT_TEMPLATE,
        classify_topics=classify,
    )
    assert result.ok
    assert "middle school" in model.prompts[0]
    if classify:  # the 2 macro topics are classified "No" and get no problems
        verdicts = [record["accepted"] for record in result.stages["classification"]]
        assert sorted(verdicts) == [False, False, True, True, True, True]
        assert len(result.items) == 4 * 2
        assert result.requests == 1 + 2 + 6 + 4
    else:
        assert "classification" not in result.stages
        assert len(result.items) == 6 * 2
    assert result.items[0]["provenance"]["template"] == "nemotron.math_problem_beginner"
    assert result.items[0]["topic"].startswith("Subtopic")


async def test_python_pipeline_in_another_language() -> None:
    model = ListModel()
    result = await run_async(
        model,
        "run_python_pipeline",
        3,
        1,
        2,
        python_problem_prompt_template=prompts.PYTHON_PROBLEM_INTERMEDIATE_PROMPT_TEMPLATE,
        language="Rust",
        classify_topics=True,
    )
    assert result.ok
    assert len(result.items) == 3 * 2  # 3 subtopics kept, 3 macro topics classified out
    problem_prompts = [p for p in model.prompts if "programming problems" in p]
    assert len(problem_prompts) == 3
    assert all("Write 2 Rust programming problems" in p for p in problem_prompts)
    assert result.items[0]["provenance"]["template"] == "nemotron.python_problem_intermediate"
    assert result.stages["classification"][0]["provenance"]["template"] == "nemotron.python_classification"


# --------------------------------------------------------------------------------------- YAML fallback
async def test_an_unparseable_list_goes_through_the_yaml_conversion() -> None:
    def messy(request: FakeRequest) -> str | None:
        if "different aspects of Macro topic 1 " in request.prompt:
            return "My two picks are Alpha Centauri; and also Beta Pictoris. Enjoy!"
        return None

    conversions = {"Alpha Centauri": "- Alpha Centauri\n- Beta Pictoris"}
    model = ListModel(messy, conversions)
    result = await run_async(model, "run_open_qa_pipeline", 2, 2, 1, 1)
    assert result.ok
    converted = [r for r in result.stages["subtopics"] if r["provenance"]["parsed_by"] != "parse_list"]
    assert [r["text"] for r in converted] == ["Alpha Centauri", "Beta Pictoris"]
    assert converted[0]["provenance"]["parsed_by"] == "nemotron.yaml_conversion@1"
    assert sum("YAML list of strings" in p for p in model.prompts) == 1
    assert len(result.items) == (4 + 2) * 1


async def test_a_conversion_that_invents_items_is_a_reported_failure() -> None:
    def messy(request: FakeRequest) -> str | None:
        return "Just Alpha, really." if "different aspects of Macro topic 2 " in request.prompt else None

    model = ListModel(messy, {"Just Alpha": "- Alpha\n- Gamma"})
    result = await run_async(model, "run_open_qa_pipeline", 2, 2, 1, 1)
    assert len(result.failures) == 1
    failure = result.failures[0]
    assert isinstance(failure, PipelineFailure)
    assert failure.stage == "subtopics"
    assert isinstance(failure.error, YamlConversionError)
    assert "'Gamma'" in failure.reason
    assert failure.reason.startswith("subtopics: YamlConversionError")
    assert failure.raw == "- Alpha\n- Gamma"
    assert isinstance(failure.input, StepInput)
    assert failure.input.values == {"macro_topic": failure.input.parent["text"]}  # type: ignore[index]
    assert len(result.stages["subtopics"]) == 2  # only macro topic 1's subtopics
    assert len(result.items) == 2 + 2


async def test_without_the_fallback_an_unparseable_list_fails_at_once() -> None:
    model = ListModel(lambda r: "no list here" if "broad topics" in r.prompt else None)
    result = await run_async(model, "run_open_qa_pipeline", 2, 2, 1, 1, yaml_fallback=False)
    assert result.items == []
    assert [f.stage for f in result.failures] == ["macro_topics"]
    assert "no list found" in result.failures[0].reason
    assert result.requests == 1


# ---------------------------------------------------------------------------------------- count policies
def three_subtopics(request: FakeRequest) -> str | None:
    if "different aspects of Macro topic 1 " in request.prompt:
        return "1. One\n2. Two\n3. Three"
    return None


@pytest.mark.parametrize(
    ("policy", "subtopics", "failures"),
    [("error", 2, 1), ({"subtopics": "trim"}, 4, 0), ({"subtopics": "accept", "openlines": "error"}, 5, 0)],
)
async def test_count_policies(policy: Any, subtopics: int, failures: int) -> None:
    result = await run_async(
        ListModel(three_subtopics), "run_open_qa_pipeline", 2, 2, 1, 1, combine_topics=False, count_policy=policy
    )
    assert len(result.stages["subtopics"]) == subtopics
    assert len(result.failures) == failures
    if failures:
        assert "expected 2 items, found 3" in result.failures[0].reason
        assert isinstance(result.failures[0].error, ResponseParseError)


async def test_bad_options_fail_before_sending() -> None:
    with FakeLLMServer(ListModel()) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            with pytest.raises(ConfigError, match="pass model="):
                await AsyncNemotronGenerator(client).run_closed_qa_pipeline(["doc"], 2)
            generator = AsyncNemotronGenerator(client, MODEL)
            with pytest.raises(ConfigError, match="count_policy"):
                await generator.run_writing_pipeline(["a"], ["Poem"], 2, 2, count_policy={"subtopics": "trim"})
            with pytest.raises(ConfigError, match="count_policy"):
                await generator.run_closed_qa_pipeline(["doc"], 2, count_policy="lenient")  # type: ignore[arg-type]
        assert server.stats()["requests"] == 0


async def test_nemo_all_or_nothing_mode_raises_the_first_failure() -> None:
    with pytest.raises(ResponseParseError, match="expected 2 items, found 3"):
        await run_async(ListModel(three_subtopics), "run_open_qa_pipeline", 2, 2, 1, 1, ignore_conversion_failure=False)


# ------------------------------------------------------------------------------- one bad item among 500
DOCUMENTS = [f"Document number {i} talks about subject {i % 17}." for i in range(500)]


async def test_one_malformed_response_among_500_loses_only_that_item() -> None:
    faults = Faults(script=[None] * 321 + ["malformed"])  # the 322nd request gets a broken body, no retries
    result = await run_async(ListModel(), "run_closed_qa_pipeline", DOCUMENTS, 2, faults=faults)
    assert result.requests == 500
    assert len(result.failures) == 1
    failure = result.failures[0]
    assert isinstance(failure.error, MalformedResponseError)
    assert failure.reason.startswith("instructions: MalformedResponseError")
    lost = failure.input.fields["document_index"]
    assert failure.input.values["document"] == DOCUMENTS[lost]
    kept = sorted({record["document_index"] for record in result.items})
    assert kept == [i for i in range(500) if i != lost]
    assert len(result.items) == 499 * 2


async def test_one_unusable_answer_among_500_loses_only_that_item() -> None:
    def refuse(request: FakeRequest) -> str | None:
        return "I would rather not." if "Document number 137 " in request.prompt else None

    result = await run_async(ListModel(refuse), "run_closed_qa_pipeline", DOCUMENTS, 2)
    assert result.requests == 500 + 1  # the unparseable answer paid for one YAML conversion, which failed
    assert len(result.failures) == 1
    failure = result.failures[0]
    assert isinstance(failure.error, YamlConversionError)
    assert failure.input.fields == {"document_index": 137}
    assert failure.raw == "not a list at all"  # the conversion answer, kept on the error
    assert "no YAML list" in failure.reason
    assert len(result.items) == 499 * 2
    assert 137 not in {record["document_index"] for record in result.items}
