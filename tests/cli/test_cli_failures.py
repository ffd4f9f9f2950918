"""User-facing failures of the CLI are one line with a documented exit code, never a traceback (issue 13,
defects 8, 10, 13, 15): file system problems with the output, a second run on the same directory, Ctrl-C,
duplicate recipe keys, unknown names found by ``inspect``, credentials in base URLs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

import curator_synth
from curator_synth.cli import app
from curator_synth.pipeline.lock import run_lock
from curator_synth.testing import FakeLLMServer, Fixed

os.environ["HF_HUB_OFFLINE"] = "1"
ANSWERS = Path(curator_synth.__file__).parent / "data" / "self_instruct" / "predictions_text-davinci-003.jsonl"


def invoke(*args: object) -> Result:
    return CliRunner().invoke(app, [str(arg) for arg in args])


def one_line_error(result: Result, code: int, *needles: str) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.output
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def offline_recipe(path: Path, output_dir: Path, **extra: Any) -> Path:
    recipe = {
        "name": "offline",
        "output_dir": str(output_dir),
        "dask": {"cluster": "threads"},
        "stages": [{"stage": "load", "path": str(ANSWERS)}, {"stage": "score"}],
        "report": {"enabled": False},
        **extra,
    }
    path.write_text(json.dumps(recipe))
    return path


# ----------------------------------------------------------------------------------------- the output on disk
def test_an_output_dir_that_is_a_file_is_one_line_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    result = invoke("run", offline_recipe(tmp_path / "r.yaml", blocker))
    one_line_error(result, 2, f"output_dir {blocker}: it is a file")
    result = invoke("run", offline_recipe(tmp_path / "r.yaml", blocker / "run"))
    one_line_error(result, 2, f"its parent {blocker} is a file")


def test_a_read_only_output_dir_and_output_file_are_one_line_exit_2(tmp_path: Path, small_disks: Any) -> None:
    disk = small_disks.make("1m")
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)  # read-only even for root
    result = invoke("run", offline_recipe(tmp_path / "r.yaml", disk / "run"))
    one_line_error(result, 2, "cannot be written", "Read-only file system")
    result = invoke("score", ANSWERS, "-o", disk / "scored.jsonl")
    one_line_error(result, 2, f"-o {disk / 'scored.jsonl'}", "Read-only file system")


def test_a_full_disk_while_writing_the_output_is_one_line(tmp_path: Path, small_disks: Any) -> None:
    disk = small_disks.make("64k")
    result = invoke("score", ANSWERS, "-o", disk / "scored.jsonl", "--work-dir", tmp_path / "work")
    one_line_error(result, 75, f"no space left on device: cannot write {disk / 'scored.jsonl'}")
    assert not (disk / "scored.jsonl").exists(), "a half-written output was left behind"


def test_a_second_run_on_the_same_output_dir_is_refused_naming_the_first(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    with run_lock(out):  # as a first run holds it
        result = invoke("run", offline_recipe(tmp_path / "r.yaml", out))
    one_line_error(result, 2, f"another curator-synth run (pid {os.getpid()}", str(out))
    assert invoke("run", offline_recipe(tmp_path / "r.yaml", out)).exit_code == 0  # released with the process


# ----------------------------------------------------------------------------------------------- the recipe
def test_a_key_given_twice_in_a_recipe_names_both_lines(tmp_path: Path) -> None:
    recipe = tmp_path / "twice.yaml"
    recipe.write_text(
        f"name: twice\nstages:\n  - stage: load\n    path: {ANSWERS}\n  - stage: score\nstages:\n  - stage: load\n"
        f"    path: {ANSWERS}\n"
    )
    for command in ("run", "inspect"):
        one_line_error(invoke(command, recipe), 2, f"{recipe}:6:", "duplicate key 'stages' (also on line 2)")


def test_inspect_runs_the_checks_of_run(tmp_path: Path) -> None:
    recipe = offline_recipe(tmp_path / "r.yaml", tmp_path / "run")
    data = json.loads(recipe.read_text())
    data["stages"].append({"stage": "filter", "filters": [{"name": "safty"}]})
    recipe.write_text(json.dumps(data))
    one_line_error(invoke("inspect", recipe), 2, "stages[2].filters[0].name", "did you mean 'safety'")
    assert not (tmp_path / "run").exists(), "inspect wrote something"


def test_inspect_never_prints_credentials_of_a_base_url(tmp_path: Path) -> None:
    recipe = offline_recipe(
        tmp_path / "r.yaml", tmp_path / "run", model="m",
        client={"base_url": "http://user:sk-inline-secret-987654@127.0.0.1:9/v1"},
    )  # fmt: skip
    data = json.loads(recipe.read_text())
    data["stages"][1] = {"stage": "responses"}
    recipe.write_text(json.dumps(data))
    result = invoke("inspect", recipe)
    assert result.exit_code == 0, result.output
    assert "127.0.0.1:9/v1" in result.output
    assert "sk-inline-secret" not in result.output
    assert "user:" not in result.output


# ----------------------------------------------------------------------------------------------------- Ctrl-C
def test_ctrl_c_says_how_many_answers_are_kept_and_exits_130(tmp_path: Path) -> None:
    records = tmp_path / "records.jsonl"
    records.write_text("".join(json.dumps({"instruction": f"Question {i}?"}) + "\n" for i in range(200)))
    with FakeLLMServer(Fixed("an answer"), latency=0.2) as server:
        recipe = tmp_path / "r.yaml"
        recipe.write_text(json.dumps({
            "name": "ctrl_c", "model": "m", "output_dir": str(tmp_path / "run"),
            "client": {"base_url": server.base_url, "max_concurrency": 4},
            "stages": [{"stage": "load", "path": str(records)}, {"stage": "responses"}],
            "report": {"enabled": False},
        }))  # fmt: skip
        command = [sys.executable, "-m", "curator_synth.cli", "run", str(recipe)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   start_new_session=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})  # fmt: skip
        deadline = time.monotonic() + 120
        while server.stats()["responses_ok"] < 12:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the run did not get going"
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    assert "KeyboardInterrupt" not in stderr, stderr
    assert f"answers kept in {tmp_path / 'run'}; re-run to resume" in stderr, stderr
    kept = int(stderr.split("interrupted: ")[1].split()[0])
    assert kept >= 12
