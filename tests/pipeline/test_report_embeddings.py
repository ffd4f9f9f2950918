"""docs/report.md: ``report: {embeddings: auto}`` (the default) computes the embedding metrics (semantic diversity,
labelled clusters) only when a stage of the recipe embeds texts anyway; ``true`` always, ``false`` never."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from curator_synth.pipeline import SyntheticDataPipeline

SEMANTIC_DEDUP = {"stage": "dedup", "method": "semantic", "field": "instruction"}


@pytest.mark.parametrize(
    ("embeddings", "extra_stages", "embedded"),
    [
        ("auto", [], False),
        ("auto", [SEMANTIC_DEDUP], True),
        (True, [], True),
        (False, [SEMANTIC_DEDUP], False),
    ],
    ids=["auto-nothing-embeds", "auto-semantic-dedup", "true", "false-semantic-dedup"],
)
def test_report_embedding_metrics_follow_the_setting(
    tmp_path: Path, embeddings: Any, extra_stages: list[dict[str, Any]], embedded: bool
) -> None:
    data = tmp_path / "d.jsonl"
    topics = ("the sea", "a mountain", "taxes", "a kitten", "databases", "the moon")
    data.write_text("".join(json.dumps({"instruction": f"Write a poem about {t}."}) + "\n" for t in topics))
    config = {
        "name": "report_embeddings",
        "stages": [{"stage": "load", "path": str(data)}, *extra_stages],
        "report": {"embeddings": embeddings, "plots": False},
        "dask": {"cluster": "threads"},
    }
    result = SyntheticDataPipeline(None, config).run(output_dir=tmp_path / "run")
    assert result.report_path is not None
    stats = json.loads((result.report_path.parent / "stats.json").read_text())
    assert ("vendi_score" in stats["diversity"]) is embedded
    assert bool(stats["clusters"]) is embedded
