"""A run's output directory on disk: each stage's manifest (written last: the stage finished), the marker of the
run that owns a stage's partial work, and the recipe the run saved (``recipe.yaml``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curator_synth._files import atomic_write
from curator_synth.pipeline.config import PipelineConfig, StageSpec

if TYPE_CHECKING:
    from curator_synth.pipeline.context import RunContext
    from curator_synth.pipeline.stages.base import Stage

MANIFEST = "manifest.json"
STARTED = "started.json"  # the fingerprint of the run that owns the stage's partial work (parts/)


def save_recipe(config: PipelineConfig, out: Path) -> None:
    """The recipe of the run, as it ran (defaults filled in, credentials in URLs redacted), as ``recipe.yaml``."""
    import yaml

    from curator_synth.redact import redact_url

    recipe = config.model_dump(mode="json", exclude={"base_dir"}, exclude_none=True)
    if config.client is not None and config.client.base_url:
        recipe["client"]["base_url"] = redact_url(config.client.base_url)
    text = yaml.safe_dump(recipe, sort_keys=False, allow_unicode=True)
    atomic_write(out / "recipe.yaml", lambda temp: temp.write_text(text, encoding="utf-8"))


def claim_stage_dir(stage_dir: Path, fingerprint: str) -> None:
    """Keep the finished partitions of an interrupted run of *this* stage (same fingerprint); drop those of a run
    with other options or inputs. The journals stay: they are keyed by request, so they never answer wrongly."""
    marker = stage_dir / STARTED
    try:
        started = json.loads(marker.read_text()).get("fingerprint")
    except (OSError, json.JSONDecodeError, AttributeError):
        started = None
    if started != fingerprint:
        for part in [*(stage_dir / "parts").glob("part-*"), *(stage_dir / "stream").glob("part-*")]:
            part.unlink()
        (stage_dir / "parts" / "_stage.json").unlink(missing_ok=True)
        text = json.dumps({"fingerprint": fingerprint})
        atomic_write(marker, lambda temp: temp.write_text(text))


def read_manifest(stage_dir: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads((stage_dir / MANIFEST).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return manifest if isinstance(manifest, dict) and (stage_dir / "data").is_dir() else None


def stage_fingerprints(specs: Sequence[StageSpec], stages: Sequence[Stage[Any]], ctx: RunContext) -> list[str]:
    """Each stage's resume fingerprint: its options and what else decides its output (:meth:`Stage.fingerprint`),
    chained with the seeds, ``seed`` and every stage before it."""
    start = {"seeds": _seed_digest(ctx), "seed": ctx.config.seed}
    fingerprint = hashlib.sha256(json.dumps(start).encode()).hexdigest()
    fingerprints = []
    for spec, stage in zip(specs, stages, strict=True):
        inputs = {"options": spec.options.model_dump(mode="json"), "inputs": stage.fingerprint(ctx)}
        text = json.dumps(inputs, sort_keys=True, default=str)
        fingerprint = hashlib.sha256(f"{fingerprint}|{spec.name}|{text}".encode()).hexdigest()
        fingerprints.append(fingerprint)
    return fingerprints


def _seed_digest(ctx: RunContext) -> str | None:
    if not ctx.config.seeds:
        return None
    path = ctx.config.resolve(ctx.config.seeds)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None
