"""Publishing an export on the Hugging Face Hub: the file, and a dataset card that says how it was made.

:func:`push_to_hub` creates the dataset repository (``private`` if asked; an existing one is reused) and uploads,
in one commit, the exported files under ``data/`` and a ``README.md`` card: its YAML front matter (licence, size
category, the data files, tags) and a text written from what the run recorded — the recipe, the records at each
stage and what was dropped and why, where the records came from (their ``provenance``). The token is read from
an environment variable (``HF_TOKEN`` unless another is named) and never printed. ``huggingface_hub`` honours
``HF_ENDPOINT``, so a private Hub, or the loopback stand-in of the tests, takes the upload instead of
huggingface.co.

``huggingface_hub`` comes with the ``hub`` extra (``pip install 'curator_synth[hub]'``).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from curator_synth.errors import ConfigError, MissingDependencyError

__all__ = ["DatasetCard", "card_for", "origins", "push_to_hub"]

_FEATURE = "Publishing on the Hugging Face Hub"


@dataclass
class DatasetCard:
    """What the card says: ``name``, ``license`` (an SPDX id or ``other``), the ``files`` (path in the repo ->
    format), ``records``, the ``recipe`` (YAML text, if known), the ``stages`` (name, in, out, drops by reason),
    and ``origins`` (what the records' provenance says: source -> records)."""

    name: str
    license: str = "other"
    files: dict[str, str] = field(default_factory=dict)
    records: int = 0
    recipe: str | None = None
    stages: list[Mapping[str, Any]] = field(default_factory=list)
    origins: dict[str, int] = field(default_factory=dict)

    def render(self) -> str:
        """The card's Markdown, YAML front matter first."""
        import yaml

        front = {
            "license": self.license,
            "size_categories": [_size_category(self.records)],
            "tags": ["synthetic", "curator_synth"],
            "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": sorted(self.files)}]}],
        }
        lines = ["---", yaml.safe_dump(front, sort_keys=False).rstrip(), "---", "", f"# {self.name}", ""]
        formats = ", ".join(f"`{path}` ({kind})" for path, kind in sorted(self.files.items()))
        lines += [f"{self.records:,} records, made with [curator_synth](https://pypi.org/project/curator-synth/): "
                  f"{formats}.", ""]  # fmt: skip
        if self.stages:
            lines += ["## How it was made", "", "| stage | records in | records out | dropped |", "|---|---|---|---|"]
            for stage in self.stages:
                dropped = "; ".join(
                    f"{name}: {reason} {n}" for name, reasons in stage.get("rejections", {}).items()
                    for reason, n in reasons.items()
                ) or "–"  # fmt: skip
                lines.append(f"| {stage['stage']} | {stage['records_in']:,} | {stage['records_out']:,} | {dropped} |")
            lines.append("")
        if self.origins:
            lines += ["## Where the records come from", "", "| origin | records |", "|---|---|"]
            lines += [f"| {name} | {n:,} |" for name, n in sorted(self.origins.items(), key=lambda item: -item[1])]
            lines.append("")
        if self.recipe:
            lines += ["## Recipe", "", "```yaml", self.recipe.rstrip(), "```", ""]
        lines += ["## Licence", "", f"`{self.license}`. Check the licences of the sources and of the model that wrote"
                  " the records before you publish or train on them.", ""]  # fmt: skip
        return "\n".join(lines)


_TRUE = {"1", "ON", "YES", "TRUE"}  # what huggingface_hub reads as true in HF_HUB_OFFLINE


def push_to_hub(
    repo_id: str,
    files: Mapping[str, str | os.PathLike[str]],
    card: DatasetCard,
    *,
    private: bool = False,
    token_env: str = "HF_TOKEN",
) -> str:
    """Create ``repo_id`` (a dataset repository; reused if it exists) and upload ``files`` (path in the repo ->
    local file) and the card's ``README.md`` in one commit. Returns the commit's URL. The token comes from
    ``$token_env``; an unset variable is a ConfigError naming it."""
    try:
        from huggingface_hub import CommitOperationAdd, HfApi
        from huggingface_hub.errors import HfHubHTTPError
    except ImportError as error:
        raise MissingDependencyError("huggingface_hub", "hub", _FEATURE) from error
    api = HfApi(token=check_hub_access(repo_id, token_env))
    operations = [CommitOperationAdd(path_in_repo=path, path_or_fileobj=str(local)) for path, local in files.items()]
    operations.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=card.render().encode("utf-8")))
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        commit = api.create_commit(
            repo_id, operations, commit_message=f"Add {card.name} ({card.records:,} records)", repo_type="dataset"
        )
    except HfHubHTTPError as error:
        raise ConfigError(f"the Hub refused the upload to {repo_id}: {error}") from None
    return str(commit.commit_url)


def check_hub_access(repo_id: str, token_env: str = "HF_TOKEN") -> str:
    """The token to publish ``repo_id`` with. A ConfigError, before any work is done, for a malformed repository
    id, an unset ``$token_env`` or huggingface_hub's offline mode (``HF_HUB_OFFLINE``), which refuses uploads."""
    if repo_id.count("/") != 1:
        raise ConfigError(f"--to-hub needs a repository id such as 'your-name/my-dataset', got {repo_id!r}")
    token = os.environ.get(token_env)
    if not token:
        raise ConfigError(
            f"the environment variable {token_env} is not set: it must hold a Hub token with write access"
        )
    if os.environ.get("HF_HUB_OFFLINE", "").upper() in _TRUE:
        raise ConfigError("HF_HUB_OFFLINE is set, so huggingface_hub uploads nothing: unset it to publish")
    return token


def origins(provenance: Sequence[Any]) -> dict[str, int]:
    """What the records' ``provenance`` says of where they came from: the file a record was loaded from, the
    model that answered it, the generator that made it — counted."""
    counted: Counter[str] = Counter()
    for text in provenance:
        found = _parsed(text)
        load = found.get("load")
        while isinstance(load, Mapping) and isinstance(load.get("earlier"), Mapping):
            load = load["earlier"]  # re-loaded records (an export of a run): the file they first came from
        if isinstance(load, Mapping) and load.get("file"):
            counted[f"file {load['file']}"] += 1
        for key, value in found.items():
            if isinstance(value, Mapping) and value.get("model"):
                counted[f"{key} by {value['model']}"] += 1
        if isinstance(found.get("generator"), str):
            counted[f"generator {found['generator']}"] += 1
    return dict(counted)


def _parsed(text: Any) -> dict[str, Any]:
    if isinstance(text, Mapping):
        return dict(text)
    try:
        found = json.loads(text) if isinstance(text, str) else {}
    except json.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}


def card_for(
    name: str, frame: pd.DataFrame, files: Mapping[str, str], *, license: str, run_dir: Path | None = None
) -> DatasetCard:
    """The card of ``frame`` exported as ``files``: with the recipe and stages of the run in ``run_dir`` (a
    curator_synth output directory, found from the exported records' path) when there is one."""
    card = DatasetCard(name, license, dict(files), len(frame))
    if "provenance" in frame.columns:
        card.origins = origins(frame["provenance"].tolist())
    if run_dir is not None:
        card.stages = [
            json.loads(path.read_text())["summary"] for path in sorted(run_dir.glob("stages/*/manifest.json"))
        ]
        recipe = run_dir / "recipe.yaml"
        card.recipe = recipe.read_text(encoding="utf-8") if recipe.exists() else None
    return card


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "n>1M"
