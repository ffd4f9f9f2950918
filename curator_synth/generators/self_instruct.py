"""Self-Instruct (Wang et al., 2023): bootstrap new instructions from seed tasks, then their instances.

1. **Bootstrap.** Each step sends ``batch_size`` prompts at once; each prompt lists 8 pool tasks (6 seed tasks
   written by people and 2 generated earlier, fewer while there are none) and asks for more. The numbered
   list in each answer is parsed and every new instruction goes through the paper's filters
   (:func:`passes_filters`), then the novelty check: ROUGE-L above 0.7 with any pool instruction discards
   it. A kept instruction joins the pool with its 10 most similar pool instructions and their scores.
   Answers cut at ``max_tokens`` are dropped whole, as in the paper; that needs a client created with
   ``on_truncated="raise"`` (the client's answer carries no ``finish_reason`` otherwise).
2. **Classification identification** (few-shot: Yes or No).
3. **Instances**: input first for ordinary tasks, output (class label) first for classification tasks.

Failed requests and unparseable answers are reported in the result, never raised.
"""

from __future__ import annotations

import functools
import heapq
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from curator_synth.dedup.novelty import RougeLIndex, rouge_l, rouge_tokens
from curator_synth.errors import ConfigError, ResponseParseError, TruncatedResponseError
from curator_synth.generators.base import BaseGenerator
from curator_synth.generators.blocking import BlockingGenerator, blocking
from curator_synth.generators.self_instruct_tasks import (
    BLACKLIST,
    Discard,
    Instance,
    InstructionRecord,
    SeedTask,
    SelfInstructResult,
    StageFailure,
    load_seed_tasks,
    normalize_instruction,
    parse_instances,
    parse_labelled_instances,
    passes_filters,
)
from curator_synth.parsing import parse_list, starts_with_yes_no
from curator_synth.prompts.self_instruct import GENERATE_TASKS, INPUT_FIRST, IS_CLASSIFICATION, OUTPUT_FIRST
from curator_synth.records import record_id

__all__ = [
    "BLACKLIST",
    "AsyncSelfInstruct",
    "Discard",
    "Instance",
    "InstructionRecord",
    "RougeLIndex",
    "SeedTask",
    "SelfInstruct",
    "SelfInstructResult",
    "StageFailure",
    "load_seed_tasks",
    "normalize_instruction",
    "parse_instances",
    "parse_labelled_instances",
    "passes_filters",
    "rouge_l",
    "rouge_tokens",
]


# ----------------------------------------------------------------------------------------------- generator
@dataclass(frozen=True)
class _Prompt:
    index: int
    tasks: tuple[tuple[str, str], ...]  # (id, instruction) of the 8 pool tasks shown


@dataclass
class _Run:
    """The state of one bootstrap: options, the sampling generator, the ROUGE-L pool and the result."""

    humans: list[tuple[str, str]]
    model: str
    model_kwargs: Mapping[str, Any] | None
    num_instructions: int
    num_human: int
    num_machine: int
    num_new: int
    similarity_threshold: float
    top_k: int
    seed: int
    rng: random.Random = field(init=False)
    pool: RougeLIndex = field(init=False)
    machine: list[tuple[str, str]] = field(default_factory=list)
    result: SelfInstructResult = field(default_factory=SelfInstructResult)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.pool = RougeLIndex(text for _, text in self.humans)

    @property
    def done(self) -> bool:
        return len(self.result.instructions) >= self.num_instructions

    def prompt(self, index: int) -> _Prompt:
        """``num_machine`` generated tasks (fewer while there are fewer) and human ones up to
        ``num_human + num_machine`` in all (fewer when there are fewer seeds), shuffled."""
        picked = self.rng.sample(self.machine, min(self.num_machine, len(self.machine)))
        wanted = self.num_human + self.num_machine - len(picked)
        picked += self.rng.sample(self.humans, min(wanted, len(self.humans)))
        self.rng.shuffle(picked)
        return _Prompt(index, tuple(picked))


class AsyncSelfInstruct(BaseGenerator):
    """Self-Instruct: :meth:`generate` runs all three stages; each stage is also a method of its own."""

    family: ClassVar[str] = "self_instruct"

    async def generate(
        self,
        seed_tasks: Iterable[SeedTask | str],
        num_instructions: int = 100,
        *,
        classify: bool = True,
        instances: bool = True,
        **bootstrap_options: Any,
    ) -> SelfInstructResult:
        """Bootstrap ``num_instructions`` instructions, then classify them and generate their instances.

        ``bootstrap_options`` are those of :meth:`bootstrap`; ``model`` and ``model_kwargs`` apply to all stages.
        """
        result = await self.bootstrap(seed_tasks, num_instructions, **bootstrap_options)
        model, kwargs = bootstrap_options.get("model"), bootstrap_options.get("model_kwargs")
        if classify:
            await self.identify_classification(result, model=model, model_kwargs=kwargs)
        if instances:
            await self.generate_instances(result, model=model, model_kwargs=kwargs)
        return result

    async def bootstrap(
        self,
        seed_tasks: Iterable[SeedTask | str],
        num_instructions: int = 100,
        *,
        max_steps: int | None = None,
        batch_size: int = 5,
        num_human: int = 6,
        num_machine: int = 2,
        num_new: int = 7,
        similarity_threshold: float = 0.7,
        top_k: int = 10,
        seed: int = 0,
        model: str | None = None,
        model_kwargs: Mapping[str, Any] | None = None,
    ) -> SelfInstructResult:
        """Grow the pool until ``num_instructions`` are kept or ``max_steps`` steps ran (default: as many).

        A step sends ``batch_size`` prompts concurrently, each listing ``num_human`` seed and ``num_machine``
        generated tasks and asking for ``num_new`` more; answers are then screened in request order, so a
        task is compared with those kept from earlier answers of the same step too. ``seed`` makes the
        sampling reproducible.
        """
        humans = [
            (task.id, normalize_instruction(task.instruction))
            if isinstance(task, SeedTask)
            else (record_id("self_instruct.seed", task), normalize_instruction(task))
            for task in seed_tasks
        ]
        if len(humans) < num_human:
            raise ConfigError(f"need at least num_human={num_human} seed tasks, got {len(humans)}")
        run = _Run(
            humans, self.model_for(model), model_kwargs, num_instructions, num_human, num_machine, num_new,
            similarity_threshold, top_k, seed,
        )  # fmt: skip
        for step in range(max_steps if max_steps is not None else num_instructions):
            if run.done:
                break
            run.result.steps = step + 1
            prompts = [run.prompt(index) for index in range(batch_size)]
            answers = await self.fan_out(functools.partial(self._ask_tasks, run=run), prompts)
            for failure in answers.failures:
                reason = "truncated" if isinstance(failure.error, TruncatedResponseError) else "request_failed"
                if type(failure.error) is ResponseParseError:
                    reason = "unparseable"
                run.result.discarded.append(Discard(step, failure.index, reason, None, failure.reason))
            failed = {failure.index for failure in answers.failures}
            for prompt, items in zip((p for p in prompts if p.index not in failed), answers.items, strict=True):
                for item in items:
                    if not run.done:
                        self._screen(run, step, prompt, normalize_instruction(item))
        return run.result

    async def _ask_tasks(self, prompt: _Prompt, *, run: _Run) -> list[str]:
        tasks = "\n".join(f"{n}. {text}" for n, (_, text) in enumerate(prompt.tasks, start=1))
        fill = {"num_examples": len(prompt.tasks), "tasks": tasks, "num_new": run.num_new}
        fill["next_number"] = len(prompt.tasks) + 1
        return parse_list(await self.ask_one(GENERATE_TASKS, fill, model=run.model, model_kwargs=run.model_kwargs))

    def _screen(self, run: _Run, step: int, prompt: _Prompt, text: str) -> None:
        """Filters, then ROUGE-L novelty against the pool; a kept instruction joins the pool."""
        ok, why = passes_filters(text)
        if not ok:
            run.result.discarded.append(Discard(step, prompt.index, why, text))
            return
        scores = run.pool.scores(text)
        top = heapq.nlargest(max(run.top_k, 1), range(len(scores)), key=scores.__getitem__)
        if scores[top[0]] > run.similarity_threshold:
            detail = f"ROUGE-L {scores[top[0]]:.3f} with {run.pool.texts[top[0]]!r}"
            run.result.discarded.append(Discard(step, prompt.index, "too_similar", text, detail))
            return
        provenance = self.provenance(
            GENERATE_TASKS,
            method="bootstrap",
            model=run.model,
            model_kwargs=run.model_kwargs,
            parents=[task_id for task_id, _ in prompt.tasks],
            step=step,
            request_index=prompt.index,
            seed=run.seed,
        )
        record = InstructionRecord(
            id=record_id("self_instruct", text),
            instruction=text,
            most_similar=[(run.pool.texts[i], round(scores[i], 4)) for i in top[: run.top_k]],
            avg_similarity=sum(scores) / len(scores),
            step=step,
            provenance=provenance,
        )
        run.result.instructions.append(record)
        run.machine.append((record.id, text))
        run.pool.add(text)

    async def identify_classification(
        self,
        result: SelfInstructResult,
        *,
        model: str | None = None,
        model_kwargs: Mapping[str, Any] | None = None,
    ) -> SelfInstructResult:
        """Fill ``is_classification`` of every record (None, with a failure, when the answer is neither)."""
        chosen = self.model_for(model)

        async def classify(record: InstructionRecord) -> None:
            fill = {"instruction": record.instruction}
            answer = await self.ask_one(IS_CLASSIFICATION, fill, model=chosen, model_kwargs=model_kwargs)
            record.provenance["classified_with"] = IS_CLASSIFICATION.namespace
            verdict = starts_with_yes_no(answer)
            if verdict is None:
                raise ResponseParseError("the classification answer starts with neither Yes nor No", raw=answer)
            record.is_classification = verdict

        await self._run_stage("classify", classify, result)
        return result

    async def generate_instances(
        self,
        result: SelfInstructResult,
        *,
        model: str | None = None,
        model_kwargs: Mapping[str, Any] | None = None,
    ) -> SelfInstructResult:
        """Fill ``instances``: output-first for classification tasks, input-first for the others."""
        chosen = self.model_for(model)

        async def instances(record: InstructionRecord) -> None:
            template = OUTPUT_FIRST if record.is_classification else INPUT_FIRST
            answer = await self.ask_one(
                template, {"instruction": record.instruction}, model=chosen, model_kwargs=model_kwargs
            )
            record.provenance["instances_with"] = template.namespace
            parse = parse_labelled_instances if record.is_classification else parse_instances
            record.instances = parse(answer)

        await self._run_stage("instances", instances, result)
        return result

    async def _run_stage(
        self, stage: str, func: Callable[[InstructionRecord], Awaitable[None]], result: SelfInstructResult
    ) -> None:
        outcome = await self.fan_out(func, result.instructions)
        for failure in outcome.failures:
            record: InstructionRecord = failure.input
            result.failures.append(StageFailure(stage, record.id, failure.reason, failure.raw))


class SelfInstruct(BlockingGenerator[AsyncSelfInstruct]):
    """Blocking version of :class:`AsyncSelfInstruct` (same arguments and methods, no ``await``)."""

    async_class = AsyncSelfInstruct

    bootstrap = blocking(AsyncSelfInstruct.bootstrap)
    generate = blocking(AsyncSelfInstruct.generate)
    generate_instances = blocking(AsyncSelfInstruct.generate_instances)
    identify_classification = blocking(AsyncSelfInstruct.identify_classification)
