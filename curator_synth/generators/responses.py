"""Responses to instructions, ``n`` samples each (for SFT data, or candidates for preference pairs).

``n`` samples of one prompt are drawn in one of two ways (``sampling=``):

- ``"n"``: one request with the API's ``n`` (OpenAI, vLLM and NIM support it): the cheapest.
- ``"seeds"``: ``n`` requests of one choice each, with seeds ``seed, seed + 1, ...``, for endpoints without
  ``n``. The seeds make the requests distinct, so the journal keeps every sample (identical requests would
  share one journaled answer) and a re-run is answered from it.

Failed items are reported in the :class:`~curator_synth.generators.base.Outcome`, never raised.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from curator_synth.clients.reasoning import reasoning_of
from curator_synth.errors import ConfigError
from curator_synth.generators.base import BaseGenerator
from curator_synth.generators.blocking import BlockingGenerator, blocking
from curator_synth.outcome import Outcome
from curator_synth.prompts.base import PromptTemplate
from curator_synth.prompts.responses import ANSWER
from curator_synth.records import record_id

__all__ = [
    "AsyncResponseGenerator",
    "ResponseGenerator",
    "ResponseRecord",
    "Sampling",
    "answer_template",
    "sample_answers",
]

Sampling = Literal["n", "seeds"]
_SAMPLINGS = ("n", "seeds")


def _check_sampling(n: int, sampling: str) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ConfigError(f"n must be a positive integer, got {n!r}")
    if sampling not in _SAMPLINGS:
        raise ConfigError(f"sampling must be one of {_SAMPLINGS}, got {sampling!r}")


def answer_template(system_prompt: str | None = None) -> PromptTemplate:
    """:data:`~curator_synth.prompts.responses.ANSWER`, with ``system_prompt`` (taken literally) if given."""
    if system_prompt is None:
        return ANSWER
    if not isinstance(system_prompt, str):
        raise ConfigError(f"system_prompt must be a string or None, got {type(system_prompt).__name__}")
    literal = system_prompt.replace("{", "{{").replace("}", "}}")
    return dataclasses.replace(ANSWER, system=literal)


async def sample_answers(
    generator: BaseGenerator,
    template: PromptTemplate,
    fill: Mapping[str, Any],
    *,
    n: int = 1,
    sampling: Sampling = "n",
    seed: int | None = None,
    model: str | None = None,
    model_kwargs: Mapping[str, Any] | None = None,
) -> tuple[list[str], list[int] | None]:
    """``n`` answers to one filled template, and the seeds they were drawn with (None with ``sampling="n"``
    and no seed).

    With ``"seeds"`` every request runs to its end before the first error (if any) is raised, so the
    answers that did arrive are journaled and a re-run pays only for the missing ones. The base seed is
    ``seed``, else a ``seed`` in ``model_kwargs`` or the generator's params, else 0.
    """
    _check_sampling(n, sampling)
    kwargs = dict(model_kwargs or {})
    if "n" in kwargs or "n" in generator.params:
        raise ConfigError("pass the number of samples as n=, not in model_kwargs or the generator's params")
    if sampling == "n" or n == 1:
        if seed is not None:
            kwargs["seed"] = seed
        answers = await generator.ask(template, fill, model=model, model_kwargs=kwargs, n=n)
        used = kwargs.get("seed", generator.params.get("seed"))
        return answers, None if used is None else [used] * n
    base = seed if seed is not None else kwargs.get("seed", generator.params.get("seed", 0))
    seeds = [base + k for k in range(n)]
    outcomes = await asyncio.gather(
        *(generator.ask_one(template, fill, model=model, model_kwargs={**kwargs, "seed": s}, n=1) for s in seeds),
        return_exceptions=True,
    )
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return [outcome for outcome in outcomes if isinstance(outcome, str)], seeds  # Answers keep their reasoning


@dataclass(frozen=True)
class ResponseRecord:
    """One instruction and its ``n`` responses (``provenance`` says how they were drawn). A reasoning model's
    reasoning is not in the responses: ``reasoning`` holds it, one entry per response (None: none)."""

    id: str
    instruction: str
    responses: tuple[str, ...]
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)
    reasoning: tuple[str | None, ...] = field(default=(), compare=False)

    def as_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": self.id,
            "instruction": self.instruction,
            "responses": list(self.responses),
            "provenance": dict(self.provenance),
        }
        if any(text is not None for text in self.reasoning):
            record["reasoning"] = list(self.reasoning)
        return record


class AsyncResponseGenerator(BaseGenerator):
    """Answers instructions: ``n`` responses per instruction, each instruction an independent item."""

    family = "responses"

    async def generate_response(
        self,
        instruction: str,
        n: int = 1,
        system_prompt: str | None = None,
        *,
        sampling: Sampling = "n",
        seed: int | None = None,
        model: str | None = None,
        model_kwargs: Mapping[str, Any] | None = None,
    ) -> ResponseRecord:
        """The ``n`` responses to one instruction (errors are raised; :meth:`generate_responses` collects them)."""
        if not isinstance(instruction, str) or not instruction.strip():
            raise ConfigError(f"an instruction must be a non-empty string, got {instruction!r:.80}")
        template = answer_template(system_prompt)
        answers, seeds = await sample_answers(
            self,
            template,
            {"instruction": instruction},
            n=n,
            sampling=sampling,
            seed=seed,
            model=model,
            model_kwargs=model_kwargs,
        )
        provenance = self.provenance(
            template,
            method="generate_responses",
            model=model,
            model_kwargs=model_kwargs,
            system_prompt=system_prompt,
            n=n,
            sampling=sampling,
            seeds=seeds,
        )
        chosen = self.model_for(model)
        return ResponseRecord(
            id=record_id("responses", chosen, system_prompt, instruction, answers),
            instruction=instruction,
            responses=tuple(str(answer) for answer in answers),
            provenance=provenance,
            reasoning=tuple(reasoning_of(answer) for answer in answers),
        )

    async def generate_responses(
        self,
        instructions: Iterable[str],
        n: int = 1,
        system_prompt: str | None = None,
        *,
        sampling: Sampling = "n",
        seed: int | None = None,
        model: str | None = None,
        model_kwargs: Mapping[str, Any] | None = None,
    ) -> Outcome[ResponseRecord]:
        """:meth:`generate_response` for every instruction, concurrently; records in input order, failures
        (with the instruction and the typed error) in ``.failures``."""
        _check_sampling(n, sampling)
        self.model_for(model)  # a missing model is the caller's error, raised once rather than once per item

        async def one(instruction: str) -> ResponseRecord:
            return await self.generate_response(
                instruction, n, system_prompt, sampling=sampling, seed=seed, model=model, model_kwargs=model_kwargs
            )

        return await self.fan_out(one, instructions)


class ResponseGenerator(BlockingGenerator[AsyncResponseGenerator]):
    """Blocking version of :class:`AsyncResponseGenerator` (same arguments and methods, no ``await``)."""

    async_class = AsyncResponseGenerator

    generate_response = blocking(AsyncResponseGenerator.generate_response)
    generate_responses = blocking(AsyncResponseGenerator.generate_responses)
