"""Recipes: validation errors name the file, the line and the key path; every shipped recipe validates."""

from __future__ import annotations

from pathlib import Path

import pytest

from curator_synth.errors import ConfigError
from curator_synth.pipeline import STAGES, PipelineConfig, load_config

RECIPES = Path(__file__).resolve().parents[2] / "curator_synth" / "prompt_templates" / "recipes"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(text)
    return path


def test_unknown_key_inside_a_stage_names_file_line_and_path(tmp_path: Path) -> None:
    path = write(
        tmp_path, "name: x\nstages:\n  - stage: load\n    path: a.jsonl\n  - stage: sample\n    n: 3\n    min_scor: 1\n"
    )
    with pytest.raises(ConfigError, match=r"recipe.yaml:7: stages\[1\].min_scor: unknown key"):
        load_config(path)


def test_unknown_top_level_key_and_bad_values(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"recipe.yaml:2: modle: unknown key"):
        load_config(write(tmp_path, "name: x\nmodle: m\nstages: [{stage: load, path: a}]\n"))
    with pytest.raises(ConfigError, match=r"recipe.yaml:3: client.max_concurrency: Input should be greater"):
        load_config(write(tmp_path, "name: x\nclient:\n  max_concurrency: 0\nstages: [{stage: load, path: a}]\n"))
    with pytest.raises(ConfigError, match=r"stages\[0\].stage: unknown stages 'lod'"):
        load_config(write(tmp_path, "name: x\nstages:\n  - stage: lod\n"))
    with pytest.raises(ConfigError, match=r"stages\[0\]: missing 'stage:'"):
        load_config(write(tmp_path, "name: x\nstages:\n  - path: a\n"))
    with pytest.raises(ConfigError, match=r"recipe.yaml:3: not valid YAML"):
        load_config(write(tmp_path, "name: x\nstages: [\n"))
    with pytest.raises(ConfigError, match="cannot read recipe"):
        load_config(tmp_path / "missing.yaml")


def test_paths_resolve_against_the_recipe_and_output_against_the_working_dir(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "name: demo\nseeds: data/seeds.jsonl\nstages: [{stage: load, path: a}]\n"))
    assert config.resolve(config.seeds or "") == tmp_path / "data" / "seeds.jsonl"
    assert config.output_path == Path("runs/demo")
    default = PipelineConfig.from_dict({"name": "d", "stages": [{"stage": "load", "path": "a"}]}).dask
    assert default.cluster == "threads", "nothing is started unless asked for (cluster: local, a scheduler)"


@pytest.mark.parametrize("recipe", sorted(RECIPES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_recipe_validates(recipe: Path) -> None:
    specs = load_config(recipe).stage_specs()
    assert specs
    assert all(spec.name in STAGES for spec in specs)
