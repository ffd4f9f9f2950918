"""Evol-Instruct (WizardLM) and Code Evol-Instruct (WizardCoder): evolve instructions over rounds.

Each round, every item's current version is evolved by one operation drawn uniformly from the op set (the
five in-depth ops and in-breadth, or the five code ops), with a generator seeded by ``(seed, round, root)``
so a run is reproducible whatever the concurrency. An evolution is eliminated, as in the paper, when

- it copies template text (``#Rewritten Instruction#``, "given prompt", ...: :data:`LEAK_MARKERS`);
- the equality judge finds it equal to its parent in constraints, depth and breadth (no information gain);
- its response is a short apology ("sorry" in fewer than 80 words) or only punctuation and stop words;
- a request for it failed (reported with the typed error, never raised).

An eliminated item is evolved again next round from its previous version. Every record carries its
lineage: id, parent id, root id, op, round and the provenance of :meth:`BaseGenerator.provenance`.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from curator_synth.errors import ConfigError, CuratorSynthError, ResponseParseError
from curator_synth.generators.base import BaseGenerator
from curator_synth.generators.blocking import BlockingGenerator, blocking
from curator_synth.outcome import reason_counts
from curator_synth.prompts.base import PromptTemplate
from curator_synth.prompts.evol import BREADTH, CODE_OPS, DEPTH_OPS, EQUALITY, LEAK_MARKERS, RESPONSE
from curator_synth.records import record_id
from curator_synth.redact import redact

__all__ = [
    "EVOL_OPS",
    "AsyncEvolInstruct",
    "Elimination",
    "EvolInstruct",
    "EvolRecord",
    "EvolResult",
    "is_apology",
    "is_contentless",
    "leaked_marker",
    "parse_equality",
]

#: Every evolution op by name: in-depth, in-breadth (``"breadth"``) and the code ops.
EVOL_OPS: dict[str, PromptTemplate] = {**DEPTH_OPS, "breadth": BREADTH, **CODE_OPS}
_GENERAL_OPS = (*DEPTH_OPS, "breadth")
_CODE_OPS = tuple(CODE_OPS)

# A compact English stop-word list (the "stop words only" elimination rule).
_STOP_WORD_TEXT = """
a about above after again against all am an and any are as at be because been before being below between both but by
can could did do does doing don down during each few for from further had has have having he her here hers herself him
himself his how i if in into is it its itself just me more most my myself no nor not now of off ok okay on once only or
other our ours ourselves out over own s same she should so some such t than that the their theirs them themselves then
there these they this those through to too under until up very was we were what when where which while who whom why
will with would yes you your yours yourself yourselves
"""
_STOP_WORDS = frozenset(_STOP_WORD_TEXT.split())
_WORD = re.compile(r"[^\W_]+")


def leaked_marker(text: str, markers: Sequence[str] = LEAK_MARKERS) -> str | None:
    """The first template marker found in ``text`` (case-insensitive), or None."""
    lowered = text.lower()
    return next((marker for marker in markers if marker.lower() in lowered), None)


def is_apology(response: str, *, max_words: int = 80) -> bool:
    """The paper's "hard to answer" rule: the response says "sorry" and is short (fewer than 80 words)."""
    return "sorry" in response.lower() and len(response.split()) < max_words


def is_contentless(response: str) -> bool:
    """True when the response holds only punctuation, whitespace and stop words."""
    return all(word in _STOP_WORDS for word in _WORD.findall(response.lower()))


def parse_equality(answer: str) -> bool:
    """The judge's verdict: True for "Equal", False for "Not Equal"; ResponseParseError for anything else."""
    text = " ".join(re.sub(r"[^a-z]+", " ", answer.lower()).split())
    if re.search(r"\b(not equal|unequal|different)\b", text):
        return False
    if re.search(r"\bequal\b", text):
        return True
    raise ResponseParseError("the equality judge answered neither 'Equal' nor 'Not Equal'", raw=answer)


@dataclass(frozen=True)
class EvolRecord:
    """One version of an instruction. Seeds have ``round == 0``, ``op == "seed"`` and no parent."""

    id: str
    parent_id: str | None
    root_id: str
    round: int
    op: str
    instruction: str
    response: str | None = None
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Elimination:
    """An evolution that was dropped, and why (``reason``: a short code; ``detail``: the specifics)."""

    round: int
    op: str
    parent_id: str
    root_id: str
    reason: str
    detail: str = ""
    instruction: str | None = None
    response: str | None = None


@dataclass
class EvolResult:
    """Seeds, the records kept in each round (``rounds[0]`` is round 1), and every elimination."""

    seeds: list[EvolRecord] = field(default_factory=list)
    rounds: list[list[EvolRecord]] = field(default_factory=list)
    eliminations: list[Elimination] = field(default_factory=list)

    @property
    def evolved(self) -> list[EvolRecord]:
        return [record for kept in self.rounds for record in kept]

    @property
    def records(self) -> list[EvolRecord]:
        """Seeds and every kept evolution, round by round (the paper's final data set)."""
        return [*self.seeds, *self.evolved]

    def final(self) -> dict[str, EvolRecord]:
        """The latest kept version of each root, by root id."""
        return {record.root_id: record for record in self.records}

    def lineage(self, id: str) -> list[EvolRecord]:
        """The chain from the root seed to record ``id`` (KeyError for an unknown id)."""
        by_id = {record.id: record for record in self.records}
        chain = [by_id[id]]
        while chain[-1].parent_id is not None:
            chain.append(by_id[chain[-1].parent_id])
        return chain[::-1]

    def elimination_counts(self) -> dict[str, int]:
        return reason_counts(elimination.reason for elimination in self.eliminations)


class AsyncEvolInstruct(BaseGenerator):
    """Evolve instructions with Evol-Instruct (``code=False``) or Code Evol-Instruct (``code=True``)."""

    family: ClassVar[str] = "evol"

    async def evolve(
        self,
        instructions: Iterable[str | Mapping[str, Any]],
        rounds: int = 4,
        seed: int = 0,
        *,
        code: bool = False,
        ops: Sequence[str] | None = None,
        respond: bool = True,
        judge: bool = True,
        model: str | None = None,
        judge_model: str | None = None,
        response_model: str | None = None,
        model_kwargs: Mapping[str, Any] | None = None,
    ) -> EvolResult:
        """Run ``rounds`` rounds of evolution over ``instructions``; return kept records and eliminations.

        ``instructions`` are strings or mappings with ``instruction`` (and optionally ``id`` and
        ``response``/``output``). ``ops`` picks op names from :data:`EVOL_OPS` (default: in-depth and
        in-breadth, or the code ops with ``code=True``). ``respond`` asks for each evolution's response (used
        by the apology and stop-word rules); ``judge`` runs the equality judge. ``judge_model`` and
        ``response_model`` default to ``model``. Identical seeds are evolved once; two different seeds with
        the same ``id`` are a ConfigError.
        """
        if rounds < 0:
            raise ConfigError(f"rounds must be >= 0, got {rounds}")
        names = tuple(ops) if ops is not None else (_CODE_OPS if code else _GENERAL_OPS)
        unknown = [name for name in names if name not in EVOL_OPS]
        if unknown or not names:
            problem = f"unknown evol ops {unknown}" if unknown else "ops is empty"
            raise ConfigError(f"{problem}; known: {sorted(EVOL_OPS)}")
        settings = _Settings(
            model=self.model_for(model),
            judge_model=self.model_for(judge_model or model),
            response_model=self.model_for(response_model or model),
            model_kwargs=dict(model_kwargs or {}),
            respond=respond,
            judge=judge,
        )
        result = EvolResult(seeds=self._seed_records(instructions))
        current = list(result.seeds)
        for number in range(1, rounds + 1):
            jobs = [(record, _draw(names, seed, number, record.root_id)) for record in current]
            step = functools.partial(self._evolve_job, number=number, settings=settings)
            outcomes = await self.fan_out(step, jobs)
            for failure in outcomes.failures:
                parent, op = failure.input
                result.eliminations.append(
                    Elimination(number, op, parent.id, parent.root_id, "request_failed", failure.reason)
                )
            kept: list[EvolRecord] = []
            for outcome in outcomes.items:
                if isinstance(outcome, Elimination):
                    result.eliminations.append(outcome)
                else:
                    kept.append(outcome)
            result.rounds.append(kept)
            newer = {record.root_id: record for record in kept}
            current = [newer.get(record.root_id, record) for record in current]
        return result

    def _seed_records(self, instructions: Iterable[str | Mapping[str, Any]]) -> list[EvolRecord]:
        records: dict[str, EvolRecord] = {}
        for item in instructions:
            if isinstance(item, str):
                text, given, response = item, None, None
            elif isinstance(item, Mapping) and isinstance(item.get("instruction"), str):
                text, given = item["instruction"], item.get("id")
                response = item.get("response", item.get("output"))
            else:
                raise ConfigError(f"a seed must be a str or a mapping with an 'instruction' str, got {item!r:.80}")
            identifier = str(given) if given is not None else record_id("evol.seed", text.strip())
            if identifier in records:
                if records[identifier].instruction != text.strip():
                    raise ConfigError(f"two different seeds have the id {identifier!r}")
                continue
            provenance = {"generator": type(self).__name__, "method": "seed", "source_id": given}
            records[identifier] = EvolRecord(
                identifier, None, identifier, 0, "seed", text.strip(), response, provenance
            )
        return list(records.values())

    async def _evolve_job(
        self, job: tuple[EvolRecord, str], *, number: int, settings: _Settings
    ) -> EvolRecord | Elimination:
        parent, op = job
        template = EVOL_OPS[op]

        def drop(
            reason: str, detail: str = "", instruction: str | None = None, response: str | None = None
        ) -> Elimination:
            return Elimination(number, op, parent.id, parent.root_id, reason, detail, instruction, response)

        kwargs = settings.model_kwargs
        try:
            fill = {"instruction": parent.instruction}
            candidate = (await self.ask_one(template, fill, model=settings.model, model_kwargs=kwargs)).strip()
            if not candidate:
                return drop("empty", "the evolved instruction is empty")
            marker = leaked_marker(candidate)
            if marker is not None:
                return drop("leaked_marker", f"contains {marker!r}", candidate)
            if " ".join(candidate.split()) == " ".join(parent.instruction.split()):
                return drop("no_information_gain", "identical to its parent", candidate)
            if settings.judge:
                fill = {"first": parent.instruction, "second": candidate}
                verdict = await self.ask_one(EQUALITY, fill, model=settings.judge_model, model_kwargs=kwargs)
                try:
                    equal = parse_equality(verdict)
                except ResponseParseError:
                    return drop("judge_unclear", f"judge answered {redact(verdict)[:80]!r}", candidate)
                if equal:
                    return drop("no_information_gain", "the judge found it equal to its parent", candidate)
            response = None
            if settings.respond:
                fill = {"instruction": candidate}
                response = await self.ask_one(RESPONSE, fill, model=settings.response_model, model_kwargs=kwargs)
                if is_apology(response):
                    return drop("apology", "short response that apologises", candidate, response)
                if is_contentless(response):
                    return drop("no_content", "response of punctuation and stop words only", candidate, response)
        except CuratorSynthError as error:
            return drop("request_failed", f"{type(error).__name__}: {error}")
        provenance = self.provenance(
            template,
            method=op,
            model=settings.model,
            model_kwargs=kwargs,
            parents=[parent.id],
            round=number,
            root_id=parent.root_id,
            judge=f"{EQUALITY.namespace} ({settings.judge_model})" if settings.judge else None,
            response_template=f"{RESPONSE.namespace} ({settings.response_model})" if settings.respond else None,
        )
        identifier = record_id("evol", parent.id, op, number, candidate)
        return EvolRecord(identifier, parent.id, parent.root_id, number, op, candidate, response, provenance)


@dataclass(frozen=True)
class _Settings:
    model: str
    judge_model: str
    response_model: str
    model_kwargs: dict[str, Any]
    respond: bool
    judge: bool


def _draw(names: Sequence[str], seed: int, number: int, root_id: str) -> str:
    """The op of ``root_id`` in round ``number``: uniform, and independent of order and concurrency."""
    return random.Random(f"{seed}:{number}:{root_id}").choice(list(names))


class EvolInstruct(BlockingGenerator[AsyncEvolInstruct]):
    """Blocking version of :class:`AsyncEvolInstruct` (same arguments and methods, no ``await``)."""

    async_class = AsyncEvolInstruct

    evolve = blocking(AsyncEvolInstruct.evolve)
