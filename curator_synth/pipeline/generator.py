"""``SyntheticDataGenerator``: the seed pipeline's generator — seed instructions in, answered samples out.

One call runs three existing generators in order, each with its own prompts, parsers and failure reporting:

1. Self-Instruct (:class:`~curator_synth.generators.AsyncSelfInstruct`) grows ``num_samples`` new
   instructions from the seeds (the paper's filters and ROUGE-L novelty against the seeds and each other);
2. with ``evolve=True``, Evol-Instruct (:class:`~curator_synth.generators.AsyncEvolInstruct`) evolves each
   instruction once per round; a kept evolution replaces its parent (an eliminated one leaves it as it was);
3. the response generator (:class:`~curator_synth.generators.AsyncResponseGenerator`) answers every
   instruction (with ``include_seeds``, the seeds too: they are instructions of the data set, ``source="seed"``).

Every :class:`Sample` carries its provenance (one entry per step: generator, template and version, model,
parameters, parents, time). Items that fail — an unparseable list, an eliminated evolution, a failed request —
are counted by reason in :attr:`AsyncSyntheticDataGenerator.last_report`, never raised. The model is a client
object or a Hugging Face model + tokenizer (:func:`~curator_synth.clients.accept.resolve_client`).
:class:`SyntheticDataGenerator` is the blocking twin over the async class (no second copy).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curator_synth._files import atomic_write
from curator_synth.clients.accept import as_async_client, resolve_client
from curator_synth.errors import ConfigError
from curator_synth.generators.blocking import Blocking, blocking, passthrough
from curator_synth.generators.evol import AsyncEvolInstruct
from curator_synth.generators.responses import AsyncResponseGenerator
from curator_synth.generators.self_instruct import AsyncSelfInstruct
from curator_synth.records import Sample, prompt_text, record_id

__all__ = [
    "AsyncSyntheticDataGenerator",
    "GenerationReport",
    "Sample",
    "SyntheticDataGenerator",
    "prompt_mix",
    "read_seeds",
]


@dataclass
class GenerationReport:
    """What one :meth:`~AsyncSyntheticDataGenerator.generate` did: how many items each step kept, and the
    reasons (with counts) of those it dropped."""

    seeds: int = 0
    instructions: int = 0
    discarded: dict[str, int] = field(default_factory=dict)
    evolved: int = 0
    eliminated: dict[str, int] = field(default_factory=dict)
    answered: int = 0
    response_failures: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seeds": self.seeds,
            "instructions": self.instructions,
            "discarded": dict(self.discarded),
            "evolved": self.evolved,
            "eliminated": dict(self.eliminated),
            "answered": self.answered,
            "response_failures": dict(self.response_failures),
        }


def read_seeds(seeds: Iterable[str] | str | os.PathLike[str], field: str = "instruction") -> list[str]:
    """Seed instructions from a list of strings, or from a file: ``.txt`` (one per line) or JSON Lines (``field``)."""
    if isinstance(seeds, (str, os.PathLike)):
        path = Path(os.fspath(seeds))
        if not path.is_file():
            raise ConfigError(f"seeds: {os.fspath(seeds)!r} is not a file; pass a list of instructions or a file path")
        from curator_synth.pipeline.context import read_seed_texts

        texts = read_seed_texts(path, field)
    else:
        texts = list(seeds)
    bad = [text for text in texts if not isinstance(text, str) or not text.strip()]
    if bad:
        raise ConfigError(f"every seed must be a non-empty string, got {bad[0]!r:.80}")
    if not texts:
        raise ConfigError("no seed instructions given")
    return [" ".join(text.split()) for text in texts]


def prompt_mix(num_seeds: int) -> tuple[int, int]:
    """``(num_human, num_machine)`` for Self-Instruct prompts from ``num_seeds`` seeds: the paper's 6 + 2 when there
    are enough seeds, fewer otherwise (a prompt's first steps show ``num_human + num_machine`` seeds)."""
    num_human = max(1, min(6, num_seeds - 2))
    return num_human, max(0, min(2, num_seeds - num_human))


class AsyncSyntheticDataGenerator:
    """Generates answered instruction samples from seed instructions (see the module docstring).

    ``model_or_client``: a client (``AsyncOpenAIClient(...)``, ``TransformersClient(...)``, ...) or a Hugging Face
    model with its ``tokenizer`` (or a local model directory). ``model_name``: the model to ask (default: the
    client's own name; endpoint clients need it). ``params``: request parameters of every step (temperature,
    max_tokens, ...).
    """

    def __init__(
        self,
        model_or_client: Any,
        tokenizer: Any = None,
        *,
        model_name: str | None = None,
        params: Mapping[str, Any] | None = None,
        max_pending: int = 256,
    ) -> None:
        client, name = resolve_client(model_or_client, tokenizer, model_name=model_name)
        if name is None:
            raise ConfigError(
                f"{type(self).__name__}: pass model_name= (the model the endpoint serves); "
                f"{type(client).__name__} has no model name of its own"
            )
        self.client = as_async_client(client)
        self.model_name = name
        self.params = dict(params or {})
        self.max_pending = max_pending
        #: The class name recorded in provenance (the blocking twin sets its own).
        self.public_name = type(self).__name__
        #: Counts of the last :meth:`generate` (kept items per step, dropped ones by reason).
        self.last_report = GenerationReport()

    async def generate(
        self,
        seed_instructions: Iterable[str] | str | os.PathLike[str],
        num_samples: int = 100,
        evolve: bool = True,
        *,
        include_seeds: bool = True,
        evol_rounds: int = 1,
        max_steps: int | None = None,
        batch_size: int = 5,
        system_prompt: str | None = None,
        seed: int = 0,
    ) -> list[Sample]:
        """Up to ``num_samples`` new answered samples grown from ``seed_instructions`` (a list of instructions, or a
        ``.txt``/``.jsonl`` file), preceded, with ``include_seeds``, by the answered seeds.

        ``evolve`` runs ``evol_rounds`` rounds of Evol-Instruct over the new instructions. ``max_steps`` bounds
        Self-Instruct's rounds of ``batch_size`` requests (default: ``num_samples``, enough for a model that writes
        usable lists; a model that does not only uses up the steps). ``seed`` makes sampling reproducible.
        Dropped items are counted in :attr:`last_report`.
        """
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 0:
            raise ConfigError(f"num_samples must be a non-negative integer, got {num_samples!r}")
        seeds = read_seeds(seed_instructions)
        report = GenerationReport(seeds=len(seeds))
        self.last_report = report
        samples = [self._seed_sample(text) for text in seeds] if include_seeds else []
        if num_samples:
            samples += await self._self_instruct(seeds, num_samples, report, max_steps, batch_size, seed)
        if evolve and evol_rounds > 0:
            samples = await self._evolve(samples, evol_rounds, report, seed)
        return await self._answer(samples, report, system_prompt)

    def save(self, samples: Iterable[Sample | Mapping[str, Any]], path: str | os.PathLike[str]) -> Path:
        """Write ``samples`` to ``path`` as JSON Lines (one :meth:`Sample.to_dict` per line), atomically: the
        file is either complete or as it was. Returns the path."""
        lines = [json.dumps(Sample.of(item).to_dict(), ensure_ascii=False, default=str) + "\n" for item in samples]
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        return atomic_write(target, lambda temp: temp.write_text("".join(lines), encoding="utf-8"))

    # ------------------------------------------------------------------------------------------------ steps
    def _seed_sample(self, text: str) -> Sample:
        provenance = {"seed": {"generator": self.public_name, "method": "seed"}}
        return Sample(instruction=text, source="seed", provenance=provenance, id=record_id("self_instruct.seed", text))

    async def _self_instruct(
        self, seeds: Sequence[str], num_samples: int, report: GenerationReport, max_steps: int | None,
        batch_size: int, seed: int,
    ) -> list[Sample]:  # fmt: skip
        generator = AsyncSelfInstruct(self.client, self.model_name, params=self.params, max_pending=self.max_pending)
        num_human, num_machine = prompt_mix(len(seeds))
        result = await generator.bootstrap(
            seeds, num_samples, max_steps=max_steps, batch_size=batch_size, num_human=num_human,
            num_machine=num_machine, seed=seed,
        )  # fmt: skip
        report.instructions = len(result.instructions)
        report.discarded = result.discard_counts()
        return [
            Sample(
                instruction=record.instruction,
                source="self_instruct",
                provenance={"self_instruct": {**record.provenance, "avg_similarity": record.avg_similarity}},
                id=record.id,
            )
            for record in result.instructions
        ]

    async def _evolve(self, samples: list[Sample], rounds: int, report: GenerationReport, seed: int) -> list[Sample]:
        todo = [sample for sample in samples if sample.source != "seed"]
        if not todo:
            return samples
        evol = AsyncEvolInstruct(self.client, self.model_name, params=self.params, max_pending=self.max_pending)
        result = await evol.evolve(
            [{"id": sample.id, "instruction": sample.instruction} for sample in todo], rounds, seed, respond=False
        )
        report.evolved = len(result.evolved)
        report.eliminated = result.elimination_counts()
        latest = {root: record for root, record in result.final().items() if record.round > 0}
        evolved = []
        for sample in samples:
            record = latest.get(sample.id)
            if record is None:
                evolved.append(sample)
                continue
            provenance = {**sample.provenance, "evol_instruct": {**record.provenance, "parent_id": record.parent_id}}
            evolved.append(Sample(record.instruction, source="evol_instruct", provenance=provenance, id=record.id))
        return evolved

    async def _answer(self, samples: list[Sample], report: GenerationReport, system_prompt: str | None) -> list[Sample]:
        responder = AsyncResponseGenerator(
            self.client, self.model_name, params=self.params, max_pending=self.max_pending
        )
        prompts = [prompt_text(s.instruction, s.input) for s in samples]
        result = await responder.generate_responses(prompts, system_prompt=system_prompt)
        failed = {failure.index for failure in result.failures}
        report.response_failures = result.failure_counts()
        answered = [sample for index, sample in enumerate(samples) if index not in failed]
        for sample, record in zip(answered, result.items, strict=True):
            sample.response = record.responses[0]
            sample.provenance["response"] = record.provenance
        report.answered = len(answered)
        return answered


class SyntheticDataGenerator(Blocking[AsyncSyntheticDataGenerator]):
    """Blocking version of :class:`AsyncSyntheticDataGenerator` (same arguments and methods, no ``await``)."""

    async_class = AsyncSyntheticDataGenerator

    generate = blocking(AsyncSyntheticDataGenerator.generate)
    save = passthrough(AsyncSyntheticDataGenerator.save)
