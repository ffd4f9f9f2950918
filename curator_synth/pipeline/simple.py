"""``run_simple_pipeline``: the seed README's one call — seeds in, a curated, scored dataset out.

It builds a recipe (Self-Instruct from the seeds, with the seeds themselves as records too, responses,
heuristic or judge scoring, empty-response and safety filters, dedup, diversity sampling, an Alpaca JSONL export
with provenance) and runs it with :class:`SyntheticDataPipeline`, so it resumes, journals and reports like any
recipe. The model is a client object or a Hugging Face model and its tokenizer, both forms work::

    run_simple_pipeline(client, seeds, num_samples=100, model="meta/llama-3.1-8b-instruct")
    run_simple_pipeline(model, tokenizer, seeds, num_samples=100)
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from curator_synth.clients.accept import resolve_client
from curator_synth.errors import ConfigError
from curator_synth.pipeline.config import PipelineConfig
from curator_synth.pipeline.generator import prompt_mix, read_seeds
from curator_synth.pipeline.runner import PipelineResult, SyntheticDataPipeline

__all__ = ["run_simple_pipeline", "simple_recipe"]

Seeds = Sequence[str] | str | os.PathLike[str]

#: Where :func:`run_simple_pipeline` writes the curated records as Alpaca JSON Lines (relative to the output).
ALPACA_EXPORT = "exports/alpaca.jsonl"


def simple_recipe(
    num_samples: int,
    *,
    model: str,
    score_mode: str = "heuristic",
    evolve: bool = False,
    output_dir: str | None = None,
    include_seeds: bool = True,
    max_tokens: int | None = None,
    num_human: int = 6,
    num_machine: int = 2,
    invalid_finish_reasons: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The recipe :func:`run_simple_pipeline` runs (a mapping; edit it and pass it to SyntheticDataPipeline).
    ``max_tokens`` (default: each stage's own) caps every answer of the generating stages;
    ``invalid_finish_reasons`` (default ``length``, ``content_filter``): answers ending so are rejected;
    ``num_human`` and ``num_machine`` are the numbers of seed and generated tasks in each Self-Instruct prompt (see
    :func:`~curator_synth.pipeline.generator.prompt_mix`)."""
    limit = {} if max_tokens is None else {"max_tokens": max_tokens}
    stages: list[dict[str, Any]] = [
        {"stage": "self_instruct", "num_instructions": num_samples, "classify": False, "instances": False,
         "include_seeds": include_seeds, "num_human": num_human, "num_machine": num_machine, **limit},
    ]  # fmt: skip
    if evolve:
        stages.append({"stage": "evol_instruct", "rounds": 1, **limit})
    stages += [
        {"stage": "responses", **limit},
        {"stage": "score", "mode": score_mode},
        {"stage": "filter", "filters": [
            {"name": "empty_response", "field": "response"},
            {"name": "safety", "field": "response"},
        ]},
        {"stage": "dedup", "method": "exact", "field": "instruction"},
        {"stage": "sample", "strategy": "random", "n": num_samples},
    ]  # fmt: skip
    exports = [
        {"format": "alpaca", "path": ALPACA_EXPORT, "metadata": ["id", "source", "provenance", "reward_overall"]}
    ]
    recipe: dict[str, Any] = {"name": "simple", "model": model, "stages": stages, "output_dir": output_dir,
                              "exports": exports}  # fmt: skip
    if invalid_finish_reasons is not None:
        recipe["invalid_finish_reasons"] = list(invalid_finish_reasons)
    return recipe


def _is_seeds(value: object) -> bool:
    if isinstance(value, (str, os.PathLike)):
        return True
    return isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value)


def _split_arguments(tokenizer_or_seeds: Any, seeds: Any, num_samples: int) -> tuple[Any, Seeds, int]:
    """``(tokenizer, seeds, num_samples)`` from both call forms: ``(client, seeds[, num_samples])`` and
    ``(model, tokenizer, seeds[, num_samples])``."""
    if _is_seeds(tokenizer_or_seeds):  # run_simple_pipeline(client, seeds, ...)
        if isinstance(seeds, int) and not isinstance(seeds, bool):  # (client, seeds, num_samples) positionally
            return None, tokenizer_or_seeds, seeds
        if seeds is not None:
            raise ConfigError(
                "run_simple_pipeline: seeds given twice (the second argument is a tokenizer or the seeds)"
            )
        return None, tokenizer_or_seeds, num_samples
    if not _is_seeds(seeds):
        raise ConfigError(
            "run_simple_pipeline: pass seeds (a list of instructions, or a .jsonl/.txt file): "
            "run_simple_pipeline(client, seeds, ...) or run_simple_pipeline(model, tokenizer, seeds, ...)"
        )
    return tokenizer_or_seeds, seeds, num_samples


def run_simple_pipeline(
    model_or_client: Any,
    tokenizer_or_none: Any = None,
    seeds: Seeds | None = None,
    num_samples: int = 100,
    *,
    model: str | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    score_mode: str = "heuristic",
    evolve: bool = False,
    include_seeds: bool = True,
    max_tokens: int | None = None,
    invalid_finish_reasons: Sequence[str] | None = None,
) -> PipelineResult:
    """Generate about ``num_samples`` curated instruction-response records from ``seeds`` (a list of seed
    instructions, or a .jsonl/.txt file).

    ``model_or_client`` is a client (``run_simple_pipeline(client, seeds, num_samples=...)``) or a Hugging Face
    model with its tokenizer (``run_simple_pipeline(model, tokenizer, seeds, num_samples=...)``), run in this
    process. ``model`` defaults to the client's or model's own name. ``include_seeds`` answers the seeds too
    (records with ``source: seed``). ``max_tokens`` caps every generated answer; an answer cut there (or
    filtered) is rejected unless ``invalid_finish_reasons`` says otherwise (``()`` keeps every answer, e.g. for
    a random test model that never finishes). Output in ``output_dir``
    (default: a new temporary directory): ``final/`` (Parquet), ``exports/alpaca.jsonl`` (with ``id``,
    ``source``, ``provenance`` and ``reward_overall``) and ``report/report.html``.
    """
    tokenizer, seed_source, count = _split_arguments(tokenizer_or_none, seeds, num_samples)
    client, chosen = resolve_client(model_or_client, tokenizer, model_name=model)
    if not chosen:
        raise ConfigError("run_simple_pipeline: pass model= (the model name the endpoint serves)")
    out = Path(output_dir) if output_dir is not None else Path(tempfile.mkdtemp(prefix="curator-synth-"))
    out.mkdir(parents=True, exist_ok=True)
    texts = read_seeds(seed_source)  # checked here, before any request
    num_human, num_machine = prompt_mix(len(texts))
    if isinstance(seed_source, (str, os.PathLike)):
        seed_file = Path(seed_source)
    else:
        seed_file = out / "seeds.txt"
        seed_file.write_text("\n".join(texts) + "\n", encoding="utf-8")
    recipe = simple_recipe(
        count, model=chosen, score_mode=score_mode, evolve=evolve, output_dir=str(out),
        include_seeds=include_seeds, max_tokens=max_tokens, num_human=num_human, num_machine=num_machine,
        invalid_finish_reasons=invalid_finish_reasons,
    )  # fmt: skip
    config = PipelineConfig.from_dict(recipe, base_dir=out)
    return SyntheticDataPipeline(client, config).run(seed_file=seed_file)
