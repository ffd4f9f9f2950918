"""Shipped recipes and the CLI against a real llama.cpp server (random weights: every list is gibberish and every
answer runs to max_tokens): runs end with rejections that have a reason and the documented exit code, a run that
keeps records writes its report, and a server killed mid-stage costs at most the requests in flight."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

import curator_synth

RECIPES = Path(curator_synth.__file__).parent / "prompt_templates" / "recipes"
SEEDS = Path(curator_synth.__file__).parent / "data" / "self_instruct" / "seed_tasks.jsonl"


def run_cli(recipe: dict[str, Any], path: Path, wait: bool = True) -> Any:
    path.write_text(json.dumps(recipe))
    command = [sys.executable, "-m", "curator_synth.cli", "run", str(path)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if not wait:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)


def shipped(name: str, llama: Any, out: Path) -> dict[str, Any]:
    recipe = yaml.safe_load((RECIPES / f"{name}.yaml").read_text())
    recipe["client"] = {"base_url": llama.base_url, "max_concurrency": 4, "max_retries": 1}
    recipe["dask"] = {"cluster": "threads"}
    recipe["output_dir"] = str(out)
    if "seeds" in recipe:
        recipe["seeds"] = str(SEEDS)
    for stage in recipe["stages"]:
        if stage["stage"] in ("self_instruct", "topic_prompts", "responses", "score"):
            stage["max_tokens"] = 64
    return recipe


def test_self_instruct_and_open_qa_end_with_reasons_and_exit_1(llama: Any, tmp_path: Path) -> None:
    self_instruct = shipped("self_instruct", llama, tmp_path / "si")
    self_instruct["stages"][0].update(num_instructions=4, batch_size=2)
    open_qa = shipped("open_qa", llama, tmp_path / "qa")
    open_qa["stages"][0]["options"].update(n_macro_topics=2, n_subtopics=1, n_openlines=1, n_revisions=1)
    for recipe, path, reason in ((self_instruct, "si.json", "truncated"), (open_qa, "qa.json", "Truncated")):
        done = run_cli(recipe, tmp_path / path)
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
        errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, done.stderr
        assert reason in errors[0]  # every answer ran to max_tokens: rejected as truncated, said so
        assert not (Path(recipe["output_dir"]) / "exports").exists()


def test_a_run_that_keeps_records_writes_its_exports_and_report(llama: Any, tmp_path: Path) -> None:
    records = tmp_path / "records.jsonl"
    records.write_text("".join(json.dumps({"instruction": f"Name a colour, number {i}."}) + "\n" for i in range(6)))
    recipe = {
        "name": "kept", "model": "tiny-random", "output_dir": str(tmp_path / "run"),
        "client": {"base_url": llama.base_url, "max_concurrency": 4},
        "dask": {"cluster": "threads"},
        "stages": [
            {"stage": "load", "path": str(records)},
            {"stage": "responses", "max_tokens": 16, "invalid_finish_reasons": []},  # keep what the model cut
            {"stage": "score", "mode": "heuristic"},
        ],
        "exports": [{"format": "alpaca", "path": "exports/alpaca.jsonl"}],
        "report": {"plots": False},
    }  # fmt: skip
    done = run_cli(recipe, tmp_path / "kept.json")
    assert done.returncode == 0, done.stderr
    assert len(pd.read_parquet(tmp_path / "run" / "final")) == 6
    assert (tmp_path / "run" / "exports" / "alpaca.jsonl").exists()
    assert (tmp_path / "run" / "report" / "report.html").exists()


def test_a_server_killed_mid_stage_then_restarted(own_llama: Any, tmp_path: Path) -> None:
    records = tmp_path / "records.jsonl"
    records.write_text("".join(json.dumps({"instruction": f"Say something about item {i}."}) + "\n" for i in range(40)))
    concurrency = 4
    recipe = {
        "name": "killed", "model": "tiny-random", "output_dir": str(tmp_path / "run"),
        "client": {"base_url": own_llama.base_url, "max_concurrency": concurrency, "max_retries": 1},
        "dask": {"cluster": "threads"}, "report": {"enabled": False},
        "stages": [
            {"stage": "load", "path": str(records)},
            {"stage": "responses", "max_tokens": 48, "invalid_finish_reasons": []},
        ],
    }  # fmt: skip
    process = run_cli(recipe, tmp_path / "killed.json", wait=False)
    deadline = time.monotonic() + 120
    while own_llama.answered() < 10:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run did not get going"
        time.sleep(0.05)
    own_llama.kill()
    _, stderr = process.communicate(timeout=120)
    answered_first = own_llama.answered()
    assert process.returncode == 75, stderr
    assert "failed transiently" in stderr
    assert "Traceback" not in stderr

    own_llama.start()  # the same port
    done = run_cli(recipe, tmp_path / "killed.json")
    assert done.returncode == 0, done.stderr
    final = pd.read_parquet(tmp_path / "run" / "final")
    assert len(final) == 40
    assert final["id"].is_unique
    repaid = own_llama.answered() - 40
    print(f"killed llama.cpp: {answered_first} answered before the kill, re-paid {repaid}")
    assert 0 <= repaid <= concurrency
