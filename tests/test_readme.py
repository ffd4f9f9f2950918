"""The README's commands work as written (issue 16, acceptance): the set-up and test commands are there, and every
command of its ```bash blocks runs, in order, in a fresh directory as a user would type it — the offline main job,
the fake server in the background, a shipped recipe pointed at it, a preview, a copied recipe, a query. ```sh
blocks are examples that need real infrastructure (an endpoint, a cluster) and are not run."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SETUP, TESTS = 'pip install -e ".[dev]"', "pytest -q"


def _commands() -> list[str]:
    """Every command of the ```bash blocks, in order (continuations joined, comments dropped)."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            command = re.sub(r"\s+#\s.*$", "", line).strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_set_up_and_test_commands_come_first() -> None:
    commands = _commands()
    assert commands[:2] == [SETUP, TESTS]
    assert README.index(SETUP) < 600, "the set-up command is near the top"
    assert "curator-synth run prompt_templates/recipes/curate_self_instruct.yaml" in commands[2]


def test_the_readme_commands_run_in_order_in_a_fresh_directory(tmp_path: Path) -> None:
    assert shutil.which("curator-synth"), "the set-up command installs the curator-synth command"
    shutil.copytree(ROOT / "curator_synth" / "prompt_templates", tmp_path / "prompt_templates")
    port = str(_free_port())
    env = {**os.environ, "COLUMNS": "160"}
    env.pop("OPENAI_API_KEY", None)
    background: list[subprocess.Popen[bytes]] = []
    try:
        for command in _commands()[2:]:
            command = command.replace("8000", port)
            if command.endswith("&"):
                background.append(subprocess.Popen(command[:-1], shell=True, cwd=tmp_path, env=env,
                                                   stdout=subprocess.DEVNULL, start_new_session=True))  # fmt: skip
                _wait_for(int(port))
                continue
            done = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True,
                                  timeout=600)  # fmt: skip
            assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            for noise in ("Traceback", "Warning", "Loading weights", "it/s]"):
                assert noise not in done.stderr, f"{command}: {noise!r} on stderr\n{done.stderr[-2000:]}"
    finally:
        for process in background:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=30)
    main = tmp_path / "runs" / "curate_self_instruct"
    assert len(pd.read_parquet(main / "final")) == 300
    assert (main / "report" / "report.html").stat().st_size > 0
    assert len(pd.read_parquet(tmp_path / "runs" / "self_instruct" / "final")) > 0
    copied = pd.read_parquet(tmp_path / "runs" / "evol_instruct" / "final")  # my_recipe.yaml: the recipe's name
    assert 0 < len(copied) <= 10  # --set stages.sample.n=10


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(f"nothing listens on port {port}")
