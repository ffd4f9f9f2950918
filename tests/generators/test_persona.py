"""Persona-driven generation against the loopback server: text → persona → task, fan-out and failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from curator_synth.clients import AsyncOpenAIClient, Journal, OpenAIClient
from curator_synth.errors import BadRequestError, ConfigError, ResponseParseError
from curator_synth.generators.persona import (
    AsyncPersonaGenerator,
    PersonaGenerator,
    PersonaRecord,
    PersonaTaskRecord,
    parse_persona,
    parse_task,
)
from curator_synth.prompts import PROMPTS
from curator_synth.prompts.persona import (
    KNOWLEDGE_QUESTION,
    MATH_PROBLEM,
    PERSONA_TASKS,
    TEXT_TO_PERSONA,
    WRITING_TASK,
)
from curator_synth.testing import FakeLLMServer, FakeRequest

PERSONAS = {
    "tide tables": "Persona: A harbour pilot who plans ship arrivals around the tides.\n\nThey read tide tables.",
    "sourdough": '"A home baker who keeps a sourdough starter alive through the winter."',
}


def persona_world(request: FakeRequest) -> str:
    """Text-to-persona answers by keyword; task answers say the kind, the persona and the seed."""
    prompt = request.prompt
    if "boom" in prompt:
        raise RuntimeError("boom")
    if "Here is a text:" in prompt:
        for keyword, answer in PERSONAS.items():
            if keyword in prompt:
                return answer
        return "   "  # no persona: a parse failure
    kind = next(
        k
        for k, t in {"math": "math problem", "knowledge": "question this", "writing": "writing"}.items()
        if t in prompt
    )
    persona = prompt.split("<persona>\n")[1].split("\n</persona>")[0]
    return f"Task: {kind} task for {persona} (seed {request.body.get('seed')}, choice {request.choice_index})"


async def test_text_to_persona_then_persona_to_task(tmp_path: Path) -> None:
    texts = ["High water at 06:12, tide tables for the estuary.", "Feed the sourdough starter twice a day."]
    with FakeLLMServer(persona_world) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, cache_dir=tmp_path) as client:
            generator = AsyncPersonaGenerator(client, "m")
            personas = await generator.text_to_persona(texts)
            tasks = await generator.persona_to_task(personas.items, kind="knowledge")
    assert personas.ok
    assert tasks.ok
    assert [p.persona for p in personas.items] == [
        "A harbour pilot who plans ship arrivals around the tides.",
        "A home baker who keeps a sourdough starter alive through the winter.",
    ]
    first = personas.items[0]
    assert isinstance(first, PersonaRecord)
    assert first.text == texts[0]
    assert first.provenance["template"] == "persona.text_to_persona"
    assert len(first.provenance["parents"]) == 1
    task = tasks.items[0]
    assert isinstance(task, PersonaTaskRecord)
    assert (
        task.task
        == "knowledge task for A harbour pilot who plans ship arrivals around the tides. (seed None, choice 0)"
    )
    assert task.kind == "knowledge"
    assert task.persona_id == first.id
    assert task.provenance["parents"] == [first.id]
    assert task.provenance["template"] == "persona.knowledge_question"
    assert task.as_dict()["persona_id"] == first.id
    namespaces = {r.namespace for r in Journal.read(tmp_path)}
    assert namespaces == {"persona.text_to_persona@1", "persona.knowledge_question@1"}


@pytest.mark.parametrize("kind", ["math", "knowledge", "writing"])
async def test_each_kind_uses_its_template(kind: str) -> None:
    with FakeLLMServer(persona_world) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            result = await AsyncPersonaGenerator(client, "m").persona_to_task(["A beekeeper."], kind=kind)  # type: ignore[arg-type]
    (record,) = result.items
    assert record.task.startswith(f"{kind} task for A beekeeper.")
    assert record.provenance["template"] == PERSONA_TASKS[kind].id
    assert record.persona_id is None


async def test_n_tasks_per_persona_with_seeds_and_with_the_api_n() -> None:
    with FakeLLMServer(persona_world) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            generator = AsyncPersonaGenerator(client, "m")
            seeded = await generator.persona_to_task(["A", "B"], "math", n=2, sampling="seeds", seed=3)
            with_n = await generator.persona_to_task(["A"], "writing", n=2)
    assert [(r.persona, r.task) for r in seeded.items] == [
        ("A", "math task for A (seed 3, choice 0)"),
        ("A", "math task for A (seed 4, choice 0)"),
        ("B", "math task for B (seed 3, choice 0)"),
        ("B", "math task for B (seed 4, choice 0)"),
    ]
    assert [r.provenance["seed"] for r in seeded.items] == [3, 4, 3, 4]
    assert [r.task for r in with_n.items] == [
        "writing task for A (seed None, choice 0)",
        "writing task for A (seed None, choice 1)",
    ]
    assert len({r.id for r in seeded.items}) == 4


async def test_failures_are_reported_per_item() -> None:
    texts = ["tide tables today", "boom", "nothing to see", "sourdough notes", 42]
    with FakeLLMServer(persona_world) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, max_retries=0) as client:
            generator = AsyncPersonaGenerator(client, "m")
            result = await generator.text_to_persona(texts)  # type: ignore[arg-type]
            tasks = await generator.persona_to_task(["A sailor.", "boom"], "math")
    assert [p.text for p in result.items] == ["tide tables today", "sourdough notes"]
    assert [f.index for f in result.failures] == [1, 2, 4]
    assert isinstance(result.failures[0].error, BadRequestError)
    assert isinstance(result.failures[1].error, ResponseParseError)
    assert result.failures[1].raw == "   "
    assert isinstance(result.failures[2].error, ConfigError)
    assert [t.persona for t in tasks.items] == ["A sailor."]
    assert [(f.index, f.input) for f in tasks.failures] == [(1, "boom")]


def test_sync_twin_truncation_and_custom_template() -> None:
    seen: list[FakeRequest] = []

    def record(request: FakeRequest) -> str:
        seen.append(request)
        return "A lighthouse keeper." if "Here is a text:" in request.prompt else "Riddle: what has a beam but no wood?"

    with FakeLLMServer(record) as server, OpenAIClient(base_url=server.base_url) as client:
        generator = PersonaGenerator(client, "m")
        (persona,) = generator.text_to_persona(["x" * 50], max_chars=10).items
        (task,) = generator.persona_to_task([persona], "writing", template="A riddle that {persona} would tell.").items
        with pytest.raises(ConfigError, match="kind"):
            generator.persona_to_task(["A"], "poetry")
        with pytest.raises(ConfigError, match="placeholders"):
            generator.text_to_persona(["x"], template="no placeholder")
    assert "x" * 10 in seen[0].prompt
    assert "x" * 11 not in seen[0].prompt
    assert persona.text == "x" * 50
    assert seen[1].prompt == "A riddle that A lighthouse keeper. would tell."
    assert task.task == "Riddle: what has a beam but no wood?"
    assert task.kind == "writing"
    assert task.provenance["template"].startswith("persona.custom.")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Persona: A ferry captain.", "A ferry captain."),
        ("**Persona:** A ferry captain.\n\nWhy: they read tide tables.", "A ferry captain."),
        ('"An archivist of sea charts."', "An archivist of sea charts."),
    ],
)
def test_parse_persona(answer: str, expected: str) -> None:
    assert parse_persona(answer) == expected


def test_parse_task_keeps_every_line() -> None:
    assert parse_task("Problem: A ship sails 12 km.\nHow far in 3 hours?") == "A ship sails 12 km.\nHow far in 3 hours?"
    assert parse_task("Question: Why do tides lag the moon?") == "Why do tides lag the moon?"
    with pytest.raises(ResponseParseError):
        parse_task("Task:")


def test_persona_templates_fill_without_stray_braces() -> None:
    templates = [PROMPTS.get(name) for name in PROMPTS.names() if name.startswith("persona.")]
    assert {t.id for t in templates} == {
        "persona.text_to_persona",
        "persona.math_problem",
        "persona.knowledge_question",
        "persona.writing_task",
    }
    for template in templates:
        assert template.version == 1
        filled = template.format(**{name: "VALUE" for name in template.fields})
        assert not {"{", "}"} & set(filled), template.id
        assert "VALUE" in filled
    assert TEXT_TO_PERSONA.fields == {"text"}
    assert MATH_PROBLEM.fields == KNOWLEDGE_QUESTION.fields == WRITING_TASK.fields == {"persona"}
    assert set(PERSONA_TASKS) == {"math", "knowledge", "writing"}
