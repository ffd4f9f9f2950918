"""The plugin framework for real: an installed distribution (a ``*.dist-info`` with ``entry_points.txt`` on
``sys.path``) adds a stage and a filter, and a recipe names them like built-ins."""

from __future__ import annotations

import importlib
import json
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from curator_synth.errors import ConfigError
from curator_synth.filters import FILTERS
from curator_synth.pipeline import STAGES, SyntheticDataPipeline

PLUGIN = '''
from curator_synth.filters.base import DocumentFilter
from curator_synth.pipeline import Stage, StageOptions, StageOutput


class ShoutOptions(StageOptions):
    suffix: str = "!"


class ShoutStage(Stage):
    """Upper-case every instruction (a third-party stage)."""

    name = "shout"
    Options = ShoutOptions

    def run(self, data, ctx):
        frame = self.require(data).to_pandas()
        frame["instruction"] = frame["instruction"].str.upper() + self.options.suffix
        return StageOutput(ctx.dataset(frame))


class HasDigitFilter(DocumentFilter):
    """Keep texts with a digit (a third-party filter)."""

    name = "has_digit"

    def score_document(self, text):
        return int(any(c.isdigit() for c in str(text)))

    def keep_document(self, score):
        return score == 1
'''


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cs_shout_plugin.py").write_text(PLUGIN)
    info = tmp_path / "cs_shout_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: cs-shout-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        textwrap.dedent("""\
        [curator_synth.stages]
        shout = cs_shout_plugin:ShoutStage

        [curator_synth.filters]
        has_digit = cs_shout_plugin:HasDigitFilter
        """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    for registry in (STAGES, FILTERS):  # entry points are read once per process: read them again
        monkeypatch.setattr(registry, "_entry_points_loaded", False)


def test_an_installed_plugin_adds_a_stage_and_a_filter_that_recipes_name(
    installed_plugin: None, tmp_path: Path
) -> None:
    data = tmp_path / "data.jsonl"
    rows = [{"instruction": "add 2 and 3", "response": "5"}, {"instruction": "say hi", "response": "hi"}]
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    recipe = {
        "name": "plugins",
        "dask": {"cluster": "threads"},
        "stages": [
            {"stage": "load", "path": str(data)},
            {"stage": "filter", "filters": [{"name": "has_digit", "field": "instruction"}]},
            {"stage": "shout", "suffix": "?"},
        ],
        "report": {"enabled": False},
    }
    result = SyntheticDataPipeline(None, recipe).run(output_dir=tmp_path / "run")
    frame: pd.DataFrame = result.dataset.to_pandas()
    assert frame["instruction"].tolist() == ["ADD 2 AND 3?"]
    assert "shout" in STAGES.names()
    assert "has_digit" in FILTERS.names()
    bad = {**recipe, "stages": [{"stage": "load", "path": str(data)}, {"stage": "shout", "sufix": "?"}]}
    with pytest.raises(ConfigError, match=r"stages\[1\]\.sufix: unknown key"):
        SyntheticDataPipeline(None, bad)
