"""``run_simple_pipeline``: the seed README's one call — seeds in, a curated, scored dataset out.

It builds a recipe (Self-Instruct from the seeds, responses, heuristic or judge scoring, quality and safety
filters, dedup, diversity sampling) and runs it with :class:`SyntheticDataPipeline`, so it resumes, journals
and reports like any recipe.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from curator_synth.errors import ConfigError
from curator_synth.pipeline.config import PipelineConfig
from curator_synth.pipeline.runner import PipelineResult, SyntheticDataPipeline

__all__ = ["run_simple_pipeline", "simple_recipe"]


def simple_recipe(
    num_samples: int, *, model: str, score_mode: str = "heuristic", evolve: bool = False, output_dir: str | None = None
) -> dict[str, Any]:
    """The recipe :func:`run_simple_pipeline` runs (a mapping; edit it and pass it to SyntheticDataPipeline)."""
    stages: list[dict[str, Any]] = [
        {"stage": "self_instruct", "num_instructions": num_samples, "classify": False, "instances": False},
    ]
    if evolve:
        stages.append({"stage": "evol_instruct", "rounds": 1})
    stages += [
        {"stage": "responses"},
        {"stage": "score", "mode": score_mode},
        {"stage": "filter", "filters": [
            {"name": "empty_response", "field": "response"},
            {"name": "safety", "field": "response"},
        ]},
        {"stage": "dedup", "method": "exact", "field": "instruction"},
        {"stage": "sample", "strategy": "random", "n": num_samples},
    ]  # fmt: skip
    return {"name": "simple", "model": model, "stages": stages, "output_dir": output_dir,
            "dask": {"local_cluster": False}}  # fmt: skip


def run_simple_pipeline(
    client: Any,
    seeds: Sequence[str] | str | os.PathLike[str],
    num_samples: int = 100,
    *,
    model: str | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    score_mode: str = "heuristic",
    evolve: bool = False,
) -> PipelineResult:
    """Generate about ``num_samples`` curated instruction-response records from ``seeds`` (a list of seed
    instructions, or a .jsonl/.txt file) with ``client``. ``model`` defaults to the client's ``model``
    attribute when it has one. Output in ``output_dir`` (default: a new temporary directory)."""
    chosen = model or getattr(client, "model", None) or getattr(client, "model_name", None)
    if not chosen:
        raise ConfigError("run_simple_pipeline: pass model= (the model name the endpoint serves)")
    out = Path(output_dir) if output_dir is not None else Path(tempfile.mkdtemp(prefix="curator-synth-"))
    out.mkdir(parents=True, exist_ok=True)
    if isinstance(seeds, (str, os.PathLike)):
        seed_file = Path(seeds)
    else:
        seed_file = out / "seeds.txt"
        seed_file.write_text("\n".join(text.replace("\n", " ") for text in seeds) + "\n", encoding="utf-8")
    recipe = simple_recipe(num_samples, model=chosen, score_mode=score_mode, evolve=evolve, output_dir=str(out))
    config = PipelineConfig.from_dict(recipe, base_dir=out)
    return SyntheticDataPipeline(client, config).run(seed_file=seed_file)
