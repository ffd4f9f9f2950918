"""Magpie (Xu et al., 2024): instructions drawn from an aligned model by its own chat template, then answered.

1. **Draw queries.** The pre-query of the chat format (:mod:`curator_synth.prompts.magpie`) is sent raw to
   ``/completions`` (through :class:`~curator_synth.clients.SingleTurnFormatter`, which passes the text as is)
   with a high temperature and the format's end-of-user-turn strings as ``stop``. Draw ``k`` uses the seed
   ``seed + k``, so every draw is a distinct request: the journal keeps each one and a re-run is free.
2. **Clean.** Each query is cut at any stop string the server left in, stripped and unwrapped; empty ones,
   ones shorter than ``min_words`` words and duplicates (case and spacing ignored) are dropped with their
   reason. Draws continue, with new seeds, until ``n`` queries are kept or ``max_draws`` were made.
3. **Answer.** Each kept query is answered through the chat endpoint with
   :data:`~curator_synth.prompts.responses.ANSWER` (the same namespace as the response generator, so the
   journal serves either).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from curator_synth.clients.formatters import SingleTurnFormatter
from curator_synth.errors import ConfigError, ResponseParseError
from curator_synth.generators.base import BaseGenerator
from curator_synth.generators.blocking import BlockingGenerator, blocking
from curator_synth.generators.nemotron_run import PipelineFailure
from curator_synth.generators.responses import answer_template
from curator_synth.outcome import Failure, Outcome, reason_counts
from curator_synth.parsing import clean_item
from curator_synth.prompts.base import PromptTemplate
from curator_synth.prompts.magpie import MagpieTemplate, magpie_template
from curator_synth.records import record_id

__all__ = [
    "AsyncMagpieGenerator",
    "DroppedQuery",
    "MagpieGenerator",
    "MagpieRecord",
    "MagpieResult",
    "clean_query",
    "query_key",
]

_RAW = SingleTurnFormatter()  # sends the one "user message" (here: the pre-query) as the prompt, unchanged


def clean_query(text: str, stop: Sequence[str] = ()) -> str:
    """A drawn query cut at the first of ``stop`` (if the server left one in), stripped and unwrapped."""
    for marker in stop:
        position = text.find(marker)
        if position >= 0:
            text = text[:position]
    return clean_item(text.strip())


def query_key(text: str) -> str:
    """The duplicate key of a query: case-folded, runs of whitespace made one space."""
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class MagpieRecord:
    """A drawn instruction and its response (None when the run was made with ``respond=False``)."""

    id: str
    instruction: str
    response: str | None
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "instruction": self.instruction,
            "response": self.response,
            "provenance": dict(self.provenance),
        }


@dataclass(frozen=True)
class DroppedQuery:
    """A draw that was cleaned away: its seed, the cleaned text and why (``empty``, ``too_short``, ``duplicate``)."""

    seed: int
    text: str
    reason: str


@dataclass
class MagpieResult(Outcome[MagpieRecord]):
    """Records in draw order; ``failures`` (:class:`PipelineFailure`: ``stage`` is ``"query"`` or ``"response"``,
    ``index`` the draw number, ``input`` the seed and, for a response, the instruction); ``dropped`` queries;
    ``draws``, the number of draw requests made."""

    dropped: list[DroppedQuery] = field(default_factory=list)
    draws: int = 0

    def drop_counts(self) -> dict[str, int]:
        return reason_counts(drop.reason for drop in self.dropped)


class AsyncMagpieGenerator(BaseGenerator):
    """Instruction/response pairs drawn from an aligned chat model by the Magpie method."""

    family = "magpie"

    async def generate(
        self,
        n: int,
        chat_format: MagpieTemplate | str = "llama3",
        *,
        model: str | None = None,
        temperature: float = 1.0,
        top_p: float | None = 1.0,
        max_query_tokens: int | None = 256,
        system: str | None = None,
        seed: int = 0,
        min_words: int = 3,
        max_draws: int | None = None,
        respond: bool = True,
        response_model: str | None = None,
        response_system_prompt: str | None = None,
        query_kwargs: Mapping[str, Any] | None = None,
        response_kwargs: Mapping[str, Any] | None = None,
    ) -> MagpieResult:
        """Up to ``n`` instruction/response records (fewer only if ``max_draws``, default ``2 * n``, runs out).

        ``chat_format`` must match how ``model`` was trained (a name in ``MAGPIE_TEMPLATES`` or a
        :class:`MagpieTemplate`); ``system`` steers the queries with a system prompt in the template.
        ``temperature``, ``top_p``, ``max_query_tokens`` (set it: vLLM's ``/completions`` default is 16
        tokens) and ``query_kwargs`` apply to the draws; ``response_model`` (default: ``model``),
        ``response_system_prompt`` and ``response_kwargs`` (over the generator's params) to the answers.
        """
        template = magpie_template(chat_format)
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ConfigError(f"n must be a positive integer, got {n!r}")
        budget = 2 * n if max_draws is None else max_draws
        if budget < n:
            raise ConfigError(f"max_draws ({budget}) must be at least n ({n})")
        chosen = self.model_for(model)
        responder = self.model_for(response_model or model)
        prompt = PromptTemplate(
            id=template.id,
            version=template.version,
            text=template.render(system).replace("{", "{{").replace("}", "}}"),
            description=template.description,
        )
        draw_params: dict[str, Any] = {**(query_kwargs or {}), "temperature": temperature, "stop": list(template.stop)}
        for key, value in (("top_p", top_p), ("max_tokens", max_query_tokens)):
            if value is not None:
                draw_params[key] = value
        if "n" in draw_params or "seed" in draw_params:
            raise ConfigError("query_kwargs may not set n or seed: use the n= and seed= arguments")

        async def draw(draw_seed: int) -> str:
            kwargs = {**draw_params, "seed": draw_seed, "conversation_formatter": _RAW}
            return await self.ask_one(prompt, {}, model=chosen, model_kwargs=kwargs, n=1)

        result = MagpieResult()
        kept: list[tuple[int, str]] = []
        seen: set[str] = set()
        while len(kept) < n and result.draws < budget:
            start = seed + result.draws
            seeds = list(range(start, start + min(n - len(kept), budget - result.draws)))
            result.draws += len(seeds)
            drawn = await self.fan_out(draw, seeds)
            for failure in drawn.failures:
                result.failures.append(_failure(seeds[failure.index] - seed, "query", seeds[failure.index], failure))
            failed = {failure.index for failure in drawn.failures}
            survivors = [s for index, s in enumerate(seeds) if index not in failed]
            for draw_seed, text in zip(survivors, drawn.items, strict=True):
                query = clean_query(text, template.stop)
                reason = _drop_reason(query, seen, min_words)
                if reason is None:
                    seen.add(query_key(query))
                    kept.append((draw_seed, query))
                else:
                    result.dropped.append(DroppedQuery(draw_seed, query, reason))

        answer = answer_template(response_system_prompt)

        async def respond_to(item: tuple[int, str]) -> MagpieRecord:
            draw_seed, query = item
            response: str | None = None
            if respond:
                raw = await self.ask_one(
                    answer, {"instruction": query}, model=responder, model_kwargs=response_kwargs, n=1
                )
                response = raw.strip()
                if not response:
                    raise ResponseParseError("the model answered the query with an empty response", raw=raw)
            provenance = self.provenance(
                prompt,
                method="magpie",
                model=chosen,
                model_kwargs=draw_params,
                chat_format=template.chat_format,
                system=system,
                seed=draw_seed,
                response_model=responder if respond else None,
                response_template=answer.id if respond else None,
                response_template_version=answer.version if respond else None,
                response_params={**self.params, **(response_kwargs or {})} if respond else None,
                response_system_prompt=response_system_prompt,
            )
            return MagpieRecord(record_id("magpie", chosen, query, response), query, response, provenance)

        answered = await self.fan_out(respond_to, kept)
        result.items = answered.items
        for failure in answered.failures:
            draw_seed, query = kept[failure.index]
            result.failures.append(_failure(draw_seed - seed, "response", draw_seed, failure, instruction=query))
        result.failures.sort(key=lambda f: f.index)
        return result


def _drop_reason(query: str, seen: set[str], min_words: int) -> str | None:
    if not query:
        return "empty"
    if len(query.split()) < min_words:
        return "too_short"
    if query_key(query) in seen:
        return "duplicate"
    return None


def _failure(index: int, stage: str, draw_seed: int, failure: Failure, **extra: Any) -> PipelineFailure:
    return PipelineFailure(index, {"seed": draw_seed, **extra}, failure.error, stage=stage)


class MagpieGenerator(BlockingGenerator[AsyncMagpieGenerator]):
    """Blocking version of :class:`AsyncMagpieGenerator` (same arguments and methods, no ``await``)."""

    async_class = AsyncMagpieGenerator

    generate = blocking(AsyncMagpieGenerator.generate)
