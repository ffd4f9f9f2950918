"""The instructions the recipe benchmarks send: the Self-Instruct seed and user-oriented instructions shipped in the
package, numbered so that every record is distinct (``python benchmarks/<name>.py`` puts this directory first on
``sys.path``, so the benchmarks import it as ``_workload``)."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["write_instructions", "write_recipe"]

SOURCE = Path(__file__).resolve().parents[1] / "curator_synth" / "data" / "self_instruct"


def write_instructions(directory: Path, records: int) -> Path:
    """``directory/instructions.jsonl``: ``records`` rows ``{"id": "r<i>", "instruction": "... (#<i>)"}``."""
    texts = []
    for name in ("seed_tasks.jsonl", "user_oriented_instructions.jsonl"):
        for line in (SOURCE / name).read_text().splitlines():
            texts.append(json.loads(line)["instruction"])
    rows = [{"id": f"r{i}", "instruction": f"{texts[i % len(texts)]} (#{i})"} for i in range(records)]
    data = directory / "instructions.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return data


def write_recipe(directory: Path, records: int, concurrency: int) -> Path:
    """The instructions and ``directory/recipe.yaml``: load -> ``responses`` -> ``score`` (llm_judge) at
    ``max_concurrency`` ``concurrency`` (the recipe of ``recipe_throughput.py`` and ``peers.py``)."""
    data = write_instructions(directory, records)
    recipe = {
        "name": "recipe_throughput",
        "client": {"max_concurrency": concurrency, "max_retries": 2},
        "stages": [
            {"stage": "load", "path": str(data), "columns": ["id", "instruction"]},
            {"stage": "responses", "max_tokens": 128},
            {"stage": "score", "mode": "llm_judge"},
        ],
    }
    path = directory / "recipe.yaml"
    path.write_text(json.dumps(recipe))
    return path
