"""Evol-Instruct against a loopback FakeLLMServer: rounds, eliminations and retries, lineage, code ops, templates."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest
from data_paths import SEED_TASKS

from curator_synth.clients import AsyncOpenAIClient, OpenAIClient
from curator_synth.errors import ConfigError, ResponseParseError
from curator_synth.generators.evol import (
    EVOL_OPS,
    AsyncEvolInstruct,
    EvolInstruct,
    EvolResult,
    is_apology,
    is_contentless,
    leaked_marker,
    parse_equality,
)
from curator_synth.prompts import PROMPTS
from curator_synth.prompts.evol import CODE_OPS, DEPTH_OPS, EQUALITY, LEAK_MARKERS
from curator_synth.testing import FakeLLMServer, FakeRequest, Faults


def real_seeds(count: int) -> list[dict[str, str]]:
    rows = [json.loads(line) for line in SEED_TASKS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{"id": row["id"], "instruction": row["instruction"]} for row in rows[:count]]


def _digest(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


_SECTION = re.compile(r"#Original Instruction#:\n(?P<instruction>.*?)\n\n#(?:Rewritten|New) Instruction#:", re.S)


class EvolServer:
    """A scripted model: evolves by appending a clause, sometimes leaks markers, apologises or judges Equal.

    Every answer is a function of the prompt alone, so runs are reproducible whatever the concurrency.
    """

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()

    def __call__(self, request: FakeRequest) -> str:
        prompt = request.prompt
        if prompt.startswith("Below are two instructions"):
            self.kinds["judge"] += 1
            return "Equal" if _digest(prompt) % 9 == 0 else "Not Equal."
        match = _SECTION.search(prompt)
        if match is None:  # the response request: the prompt is the evolved instruction itself
            self.kinds["response"] += 1
            roll = _digest(prompt) % 10
            if roll == 0:
                return "I'm sorry, but I can't help with that request."
            if roll == 1:
                return "... the, of it!"
            return f"Here is a careful answer to: {prompt[:60]} " + "with details " * 10
        self.kinds["evolve"] += 1
        instruction = match["instruction"]
        roll = _digest(prompt) % 8
        clause = f"Also satisfy requirement {_digest(prompt) % 1000}."
        if roll == 0:
            return f"#Rewritten Instruction#: {instruction} {clause}"
        if roll == 1:
            return f"Here is the rewritten instruction: {instruction} {clause}"
        return f"{instruction} {clause}"


async def run_evolve(server: FakeLLMServer, seeds: Sequence[str | dict[str, str]], **options: object) -> EvolResult:
    async with AsyncOpenAIClient(base_url=server.base_url, max_retries=0, max_concurrency=32) as client:
        generator = AsyncEvolInstruct(client, "fake-model")
        return await generator.evolve(seeds, **options)  # type: ignore[arg-type]


async def test_four_rounds_over_50_real_seeds_eliminate_and_retry_with_full_lineage() -> None:
    seeds = real_seeds(50)
    responder = EvolServer()
    with FakeLLMServer(responder) as server:
        result = await run_evolve(server, seeds, rounds=4, seed=7)
    assert len(result.seeds) == 50
    assert len(result.rounds) == 4
    counts = result.elimination_counts()
    # the scripted model leaks markers, apologises, answers with stop words only and repeats itself
    assert counts.keys() >= {"leaked_marker", "apology", "no_content", "no_information_gain"}, counts
    assert "request_failed" not in counts

    # every elimination is explained, and none of the eliminated texts is kept
    kept_texts = {record.instruction for record in result.evolved}
    for elimination in result.eliminations:
        if elimination.reason == "leaked_marker":
            assert leaked_marker(elimination.instruction or "") is not None
            assert elimination.instruction not in kept_texts
        if elimination.reason == "apology":
            assert is_apology(elimination.response or "")
        if elimination.reason == "no_content":
            assert is_contentless(elimination.response or "")
    for record in result.evolved:
        assert leaked_marker(record.instruction) is None
        assert record.response
        assert not is_apology(record.response)
        assert not is_contentless(record.response)

    # an item eliminated in round r is evolved again in round r + 1 from the same parent version
    attempts = {(r.round, r.root_id): r.parent_id for r in result.evolved}
    attempts.update({(e.round, e.root_id): e.parent_id for e in result.eliminations})
    assert len(attempts) == 4 * 50  # every item is attempted in every round
    for elimination in result.eliminations:
        if elimination.round < 4:
            assert attempts[(elimination.round + 1, elimination.root_id)] == elimination.parent_id
    retried = [e for e in result.eliminations if e.round < 4]
    assert retried, "the scripted model should make some evolutions fail before the last round"

    # lineage: every kept record leads back to its seed through parent ids, one round at a time
    seed_ids = {seed["id"] for seed in seeds}
    for record in result.records:
        chain = result.lineage(record.id)
        assert chain[0].id == record.root_id in seed_ids
        assert chain[0].round == 0
        assert chain[0].op == "seed"
        assert chain[0].parent_id is None
        assert [r.round for r in chain] == sorted({r.round for r in chain})
        for parent, child in itertools.pairwise(chain):
            assert child.parent_id == parent.id
            assert child.root_id == parent.root_id
            assert child.instruction.startswith(parent.instruction)  # the scripted model appends a clause
        if record.round:
            provenance = record.provenance
            assert provenance["template"] == EVOL_OPS[record.op].id
            assert provenance["template_version"] == EVOL_OPS[record.op].version
            assert provenance["model"] == "fake-model"
            assert provenance["parents"] == [record.parent_id]
            assert provenance["round"] == record.round
            assert provenance["root_id"] == record.root_id
            assert provenance["judge"].startswith(EQUALITY.namespace)
    assert len(result.final()) == 50
    assert {record.op for record in result.evolved} <= {*DEPTH_OPS, "breadth"}
    ops_drawn = Counter(op for (_, _), op in _ops_by_attempt(result).items())
    assert set(ops_drawn) == {*DEPTH_OPS, "breadth"}  # 200 uniform draws hit all six ops


def _ops_by_attempt(result: EvolResult) -> dict[tuple[int, str], str]:
    ops = {(r.round, r.root_id): r.op for r in result.evolved}
    ops.update({(e.round, e.root_id): e.op for e in result.eliminations})
    return ops


async def test_runs_are_reproducible_and_the_seed_changes_the_ops() -> None:
    seeds = real_seeds(12)
    with FakeLLMServer(EvolServer()) as server:
        first = await run_evolve(server, seeds, rounds=2, seed=1)
        again = await run_evolve(server, seeds, rounds=2, seed=1)
        other = await run_evolve(server, seeds, rounds=2, seed=2)
    assert [r.id for r in first.records] == [r.id for r in again.records]
    assert _ops_by_attempt(first) == _ops_by_attempt(again)
    assert _ops_by_attempt(first) != _ops_by_attempt(other)


async def test_code_evol_uses_the_code_ops() -> None:
    seeds = ["Write a function that reverses a linked list.", "Implement binary search over a sorted array."]
    with FakeLLMServer(EvolServer()) as server:
        result = await run_evolve(server, seeds, rounds=3, code=True, respond=False)
    ops = _ops_by_attempt(result)
    assert set(ops.values()) <= set(CODE_OPS)
    assert all(record.response is None for record in result.evolved)
    assert all(record.provenance["response_template"] is None for record in result.evolved)
    assert result.evolved, "some code evolutions are kept"


async def test_failed_requests_are_reported_and_retried_next_round() -> None:
    faults = Faults(script=["500", "500"])  # both round-1 evolutions fail
    with FakeLLMServer(EvolServer(), faults=faults) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, max_retries=0, max_concurrency=1) as client:
            generator = AsyncEvolInstruct(client, "fake-model", max_pending=1)
            result = await generator.evolve(["Name three rivers in Europe."] * 2 + ["Explain photosynthesis."], 2)
    assert len(result.seeds) == 2  # identical seeds are evolved once
    failed = [e for e in result.eliminations if e.reason == "request_failed"]
    assert len(failed) == 2
    assert all(e.round == 1 for e in failed)
    assert all("ServerError" in e.detail for e in failed)
    second = {(r.root_id, r.parent_id) for r in result.rounds[1]} | {
        (e.root_id, e.parent_id) for e in result.eliminations if e.round == 2
    }
    for elimination in failed:
        assert (elimination.root_id, elimination.root_id) in second  # round 2 starts again from the seed


def test_sync_twin_and_judge_off(tmp_path: Path) -> None:
    with FakeLLMServer(EvolServer()) as server, OpenAIClient(base_url=server.base_url) as client:
        generator = EvolInstruct(client, "fake-model")
        result = generator.evolve(["Describe the water cycle."], rounds=1, judge=False, respond=False, seed=3)
        stats = server.stats()
    assert stats["requests"] == 1  # one evolution, no judge, no response
    assert len(result.records) in (1, 2)
    assert getattr(EvolInstruct, "evolve").__doc__ == AsyncEvolInstruct.evolve.__doc__  # noqa: B009 (a generated class)


def test_bad_arguments() -> None:
    with FakeLLMServer(EvolServer()) as server, OpenAIClient(base_url=server.base_url) as client:
        with pytest.raises(ConfigError, match="unknown evol ops"):
            EvolInstruct(client, "m").evolve(["x y z"], ops=["deepen", "nope"])
        with pytest.raises(ConfigError, match="pass model="):
            EvolInstruct(client).evolve(["x y z"])
        with pytest.raises(ConfigError, match="mapping with an 'instruction'"):
            EvolInstruct(client, "m").evolve([{"text": "x"}])
        assert server.stats()["requests"] == 0


# ------------------------------------------------------------------------------------------- rules alone
def test_elimination_rules() -> None:
    assert is_apology("Sorry, I cannot do that.")
    assert not is_apology("Sorry " + "word " * 90)  # long answers that apologise once are kept (paper: < 80 words)
    assert not is_apology("Here is the answer.")
    assert is_contentless("... , ! the of and")
    assert is_contentless("")
    assert not is_contentless("Paris is the capital.")
    assert parse_equality("Equal") is True
    assert parse_equality("**Not Equal**") is False
    assert parse_equality("They are not equal.") is False
    with pytest.raises(ResponseParseError):
        parse_equality("I think the second one is harder")
    assert leaked_marker("Rewrite: #Rewritten Instruction# do x") == "#rewritten instruction#"
    assert leaked_marker("Based on the given prompt, write a poem") == "given prompt"
    assert leaked_marker("Write a new instruction manual for a toaster") is None


# ------------------------------------------------------------------------------------------- templates
EVOL_TEMPLATES = [PROMPTS.get(name) for name in PROMPTS.names() if name.startswith("evol.")]


def test_every_op_and_template_is_registered() -> None:
    assert {t.id for t in EVOL_TEMPLATES} == {t.id for t in EVOL_OPS.values()} | {"evol.equality", "evol.response"}
    assert set(DEPTH_OPS) == {"add_constraints", "deepen", "concretize", "increase_reasoning", "complicate_input"}
    assert len(CODE_OPS) == 5


@pytest.mark.parametrize("template", EVOL_TEMPLATES, ids=lambda t: t.id)
def test_templates_fill_without_stray_braces(template: object) -> None:
    from curator_synth.prompts import PromptTemplate

    assert isinstance(template, PromptTemplate)
    assert template.version >= 1
    assert template.description
    filled = template.format(**{name: f"<{name}>" for name in template.fields})
    assert "{" not in filled
    assert "}" not in filled
    for name in template.fields:
        assert f"<{name}>" in filled


@pytest.mark.parametrize("template", [*DEPTH_OPS.values(), EVOL_OPS["breadth"], *CODE_OPS.values()], ids=lambda t: t.id)
def test_every_forbidden_phrase_is_a_leak_marker(template: object) -> None:
    """The elimination list is derived from the templates' own wording: what they forbid, we check."""
    from curator_synth.prompts import PromptTemplate

    assert isinstance(template, PromptTemplate)
    sentence = re.search(r"The words (.*?) must\s+not appear", template.text, re.S)
    assert sentence, template.id
    forbidden = re.findall(r"'([^']+)'", sentence.group(1))
    assert len(forbidden) >= 3
    for phrase in forbidden:
        assert phrase.lower() in LEAK_MARKERS, phrase
    for marker in re.findall(r"#[A-Z][A-Za-z ]+#", template.text):
        assert marker.lower() in LEAK_MARKERS
