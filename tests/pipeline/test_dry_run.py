"""``curator-synth run --dry-run``: the recipe runs against the loopback simulator, no endpoint and no key, and
the plan (requests, tokens, cost per stage) matches what a real loopback run of the same recipe sends."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from curator_synth.cli import app
from curator_synth.pipeline import SyntheticDataPipeline, load_config
from curator_synth.pipeline.dryrun import DryRunPlan, StagePlan, dry_run
from curator_synth.report import Pricing
from curator_synth.testing import FakeLLMServer, Plausible

os.environ["HF_HUB_OFFLINE"] = "1"
RECIPES = Path(__file__).resolve().parents[2] / "prompt_templates" / "recipes"
SECRET = "sk-live-do-not-leak-1234567890"


def test_dry_run_through_the_cli_plans_and_matches_a_real_loopback_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)  # the recipe's api_key_env: must not be needed nor shown
    kept = tmp_path / "dry"
    result = CliRunner().invoke(
        app, ["run", str(RECIPES / "self_instruct.yaml"), "--dry-run", "--output-dir", str(kept)]
    )
    assert result.exit_code == 0, result.output
    output = result.output
    assert "no endpoint was called" in output
    assert SECRET not in output
    lines = {line.split()[1]: line.split() for line in output.splitlines() if re.match(r"\d\d [a-z_]+ +\d+ -> ", line)}
    assert list(lines) == ["self_instruct", "responses", "score", "filter", "dedup", "sample"]
    planned = {name: int(fields[5].replace(",", "")) for name, fields in lines.items()}  # the requests column
    assert planned["self_instruct"] > 10
    assert planned["score"] > 10
    assert planned["filter"] == 0
    assert "cost estimate:" in output
    assert "USD" in output
    assert f"simulated run kept in {kept}" in output

    # The same recipe, really run against a loopback server (in this process's Dask): same requests, same data.
    config = load_config(RECIPES / "self_instruct.yaml")
    monkeypatch.setenv("FAKE_KEY", "sk-test")
    with FakeLLMServer(responder=Plausible()) as server:
        client = config.client.model_copy(update={"base_url": server.base_url, "api_key_env": "FAKE_KEY"})  # type: ignore[union-attr]
        dask = config.dask.model_copy(update={"cluster": "threads"})
        SyntheticDataPipeline(None, config.model_copy(update={"client": client, "dask": dask})).run(
            output_dir=tmp_path / "real"
        )
        assert server.stats()["requests"] == sum(planned.values())
    real = pd.read_parquet(tmp_path / "real" / "final").sort_values("id").reset_index(drop=True)
    simulated = pd.read_parquet(kept / "final").sort_values("id").reset_index(drop=True)
    columns = [column for column in real.columns if column != "provenance"]
    pd.testing.assert_frame_equal(real[columns], simulated[columns])


def test_dry_run_of_an_offline_recipe_sends_nothing_and_says_there_is_no_pricing(tmp_path: Path) -> None:
    config = load_config(RECIPES / "curate_self_instruct.yaml")
    plan = dry_run(config.model_copy(update={"stages": config.stages[:3]}), output_dir=tmp_path / "run")
    assert plan.total("requests") == 0
    assert [stage.stage for stage in plan.stages] == ["load", "score", "filter"]
    assert plan.stages[0].records_out == 1512
    assert plan.cost() is None
    text = plan.format()
    assert "no `pricing:` in the recipe" in text
    assert f"{plan.records:,} records would come out" in text


def test_plan_cost_uses_simulated_lengths_and_the_max_tokens_ceiling() -> None:
    counts = {"prompt_tokens": 1_000_000, "completion_tokens": 200_000, "completion_token_limit": 500_000}
    unlimited = {"unlimited_choices": 2, "unlimited_completion_tokens": 30_000}
    stage = StagePlan("responses", 10, 10, requests=10, **counts, **unlimited)
    plan = DryRunPlan("r", "m", [stage], records=10, pricing=Pricing(1.0, 2.0))
    simulated, ceiling = plan.cost()  # type: ignore[misc]
    assert simulated == pytest.approx(1.0 + 0.4)
    assert ceiling == pytest.approx(1.0 + 2.0 * 0.53)
    text = plan.format()
    assert "200,000 / 530,000*" in text
    assert "2 answers were asked without max_tokens" in text


def test_dry_run_reports_a_bad_recipe_with_exit_code_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nstages:\n  - stage: self_instruct\n    num_instructionz: 3\n")
    result = CliRunner().invoke(app, ["run", str(bad), "--dry-run"])
    assert result.exit_code == 2
    assert "bad.yaml:4: stages[0].num_instructionz: unknown key" in result.output


def test_dry_run_without_a_model_fails_with_an_actionable_message(tmp_path: Path) -> None:
    recipe = tmp_path / "nomodel.yaml"
    seeds = RECIPES.parents[1] / "curator_synth" / "data" / "self_instruct" / "seed_tasks.jsonl"
    recipe.write_text(f"name: x\nseeds: {seeds}\ndask: {{cluster: threads}}\n"
                      "stages:\n  - stage: self_instruct\n    num_instructions: 3\n")  # fmt: skip
    result = CliRunner().invoke(app, ["run", str(recipe), "--dry-run"])
    assert result.exit_code == 2  # a bad recipe, found before anything runs
    assert "set `model:` in the recipe" in result.output
