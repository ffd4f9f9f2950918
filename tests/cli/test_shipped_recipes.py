"""Every shipped recipe that calls a model runs end to end against ``curator-synth fake-server`` (issue 16,
acceptance): ``run RECIPE --base-url http://127.0.0.1:PORT/v1 --model any`` exits 0 with records in ``final/``,
and ``preview`` works on each, against the server and with ``--dry-run``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import curator_synth
from curator_synth.cli import app

RECIPES = sorted((Path(curator_synth.__file__).parent / "prompt_templates" / "recipes").glob("*.yaml"))
CALLING = [path for path in RECIPES if "client" in yaml.safe_load(path.read_text())]


@pytest.fixture(scope="module")
def fake_server() -> Iterator[str]:
    """``curator-synth fake-server --port 0`` as a user starts it; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "curator_synth.cli", "fake-server", "--port", "0"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert "listening at" in line, line
        yield line.split("listening at ")[1].split()[0]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def test_the_recipes_that_call_a_model_are_found() -> None:
    assert {path.stem for path in CALLING} >= {"self_instruct", "preference", "open_qa", "nemotron_cc", "dialogue"}
    assert len(CALLING) == len(RECIPES) - 2  # curate_self_instruct and blend call none


@pytest.mark.parametrize("recipe", CALLING, ids=lambda path: path.stem)
def test_a_shipped_recipe_runs_and_previews_against_the_fake_server(
    recipe: Path, fake_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    endpoint = ["--base-url", fake_server, "--model", "any"]
    runner = CliRunner()
    result = runner.invoke(app, ["run", str(recipe), *endpoint, "--output-dir", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert len(pd.read_parquet(tmp_path / "run" / "final")) > 0
    for extra in ([], ["--dry-run"]):
        shown = runner.invoke(app, ["preview", str(recipe), "-n", "3", *endpoint, *extra])
        assert shown.exit_code == 0, shown.output
        assert "records (" in shown.output
        assert f"preview of {recipe.stem!r}" in shown.output
