"""What every LLM stage can set about its requests: the generation parameters and the finish-reason policy.

``GenerationOptions`` is the base of every LLM stage's options (each stage gives its own defaults, e.g.
Self-Instruct's ``temperature: 0.7``), so a recipe sets ``max_tokens``, ``temperature``, ``top_p``, ``seed``,
``stop`` and ``extra_body`` the same way on responses, judges and preference stages alike.

- ``seed``: sent as is on every request of the stage. Unset, each request gets a seed derived from its content
  and the recipe's ``seed`` (:func:`~curator_synth.clients.defaults.derived_seed`), so a run against a server
  that honours seeds is reproducible and the samples of a prompt stay distinct.
- ``extra_body``: further fields of the request body (e.g. vLLM's ``top_k``, ``repetition_penalty``).
- ``invalid_finish_reasons``: an answer ending so (default: the recipe's ``invalid_finish_reasons``, itself
  ``[length, content_filter]``) is asked once more with another seed, then rejected with reason ``truncated`` /
  ``content_filter``; ``[]`` keeps every answer.
- ``batch``: ``true`` sends the stage's requests through the provider's batch API (OpenAI's ``/v1/files`` +
  ``/v1/batches``: half price, answered within its completion window; :mod:`curator_synth.clients.batch`),
  ``false`` online; unset, as the recipe's ``client: batch:`` says (default online). A batched stage runs stage by
  stage, never in a streamed chain: its requests are gathered into as few batches as possible.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from curator_synth.clients.defaults import RequestDefaults
from curator_synth.pipeline.stages.base import StageOptions

if TYPE_CHECKING:
    from curator_synth.pipeline.context import Recipe

__all__ = ["GenerationOptions", "model_params", "stage_request_defaults"]

_PARAMS = ("temperature", "max_tokens", "top_p", "seed", "stop")


class GenerationOptions(StageOptions):
    """Request parameters of an LLM stage (see the module)."""

    temperature: float | None = Field(None, ge=0)
    max_tokens: int | None = Field(None, ge=1)
    top_p: float | None = Field(None, gt=0, le=1)
    seed: int | None = None
    stop: str | list[str] | None = None
    extra_body: dict[str, Any] = Field(default_factory=dict)
    invalid_finish_reasons: list[str] | None = None
    batch: bool | None = None


def model_params(options: GenerationOptions, **overrides: Any) -> dict[str, Any]:
    """The request parameters of ``options`` that are set (``overrides`` win, None removes one), and
    ``extra_body`` as ``query_model``'s own ``extra_body=`` (merged into the request body as is)."""
    params = {name: getattr(options, name) for name in _PARAMS}
    params.update(overrides)
    if options.extra_body:
        params["extra_body"] = dict(options.extra_body)
    return {name: value for name, value in params.items() if value is not None}


def stage_request_defaults(options: Any, config: Recipe) -> RequestDefaults:
    """The stage's :class:`RequestDefaults`: its finish-reason policy (else the recipe's), the recipe's ``seed``
    as the salt of derived seeds, and its ``batch`` choice."""
    reasons = getattr(options, "invalid_finish_reasons", None)
    chosen = config.invalid_finish_reasons if reasons is None else reasons
    batch = getattr(options, "batch", None)
    return RequestDefaults(invalid_finish_reasons=tuple(chosen), seed_salt=config.seed, batch=batch)
