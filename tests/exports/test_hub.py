"""Publishing on the Hugging Face Hub (issue 16, point 10): ``export --to-hub REPO [--private]`` uploads the file and
a dataset card (recipe, counts, drops, provenance, licence) through huggingface_hub — against FakeHub, a loopback
stand-in for the Hub API named by ``HF_ENDPOINT``: nothing leaves the machine. ``result.to_hf_dataset()``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from data_paths import SELF_INSTRUCT

from curator_synth.pipeline import SyntheticDataPipeline
from curator_synth.testing.hub import FakeHub

TOKEN = "hf_test_token_do_not_print_7788"


def _run(tmp_path: Path) -> Path:
    recipe = {
        "name": "hub",
        "stages": [
            {"stage": "load", "path": str(SELF_INSTRUCT / "predictions_text-davinci-003.jsonl"), "limit": 40,
             "columns": ["instruction", "input", "response"]},
            {"stage": "filter", "filters": [{"name": "truncated_response"}]},
        ],
        "report": {"enabled": False},
    }  # fmt: skip
    out = tmp_path / "run"
    result = SyntheticDataPipeline(None, recipe).run(output_dir=out)
    frame = result.to_hf_dataset()
    assert type(frame).__name__ == "Dataset"
    assert frame.num_rows == len(result) > 0
    assert set(frame.column_names) >= {"id", "instruction", "response", "provenance"}
    return out


def _export(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "curator_synth.cli", "export", *args]
    return subprocess.run(command, capture_output=True, text=True, env={**os.environ, **env}, timeout=300)


def test_export_to_the_hub_uploads_the_file_and_a_card(tmp_path: Path) -> None:
    out = _run(tmp_path)
    train = tmp_path / "train.jsonl"
    with FakeHub(token=TOKEN) as hub:
        done = _export(str(out / "final"), "-f", "messages", "-o", str(train), "--to-hub", "me/my-data", "--private",
                       "--license", "apache-2.0", env={**hub.env, "HF_TOKEN": TOKEN})  # fmt: skip
        assert done.returncode == 0, done.stderr
        repo = hub.repos["me/my-data"]
    assert f"published on the Hub: {hub.endpoint}/datasets/me/my-data/commit/" in done.stdout
    assert TOKEN not in done.stdout + done.stderr
    assert repo.private
    assert repo.files["data/train.jsonl"] == train.read_bytes()
    card = repo.files["README.md"].decode()
    front = yaml.safe_load(card.split("---")[1])
    assert front["license"] == "apache-2.0"
    assert front["configs"][0]["data_files"][0]["path"] == ["data/train.jsonl"]
    rows = len(train.read_text().splitlines())
    assert f"{rows} records" in card
    assert "| load | 0 | 40 |" in card
    assert "truncated_response: mid_sentence" in card  # the filter's drops, by reason
    assert f"| file predictions_text-davinci-003.jsonl | {rows} |" in card  # the records' provenance
    assert "name: hub" in card.split("## Recipe")[1]  # the recipe the run saved (recipe.yaml)
    assert json.loads(train.read_text().splitlines()[0])["messages"][0]["role"] == "user"


def test_a_missing_token_or_a_refused_one_is_one_line(tmp_path: Path) -> None:
    out = _run(tmp_path)
    train = tmp_path / "train.jsonl"
    env = {key: value for key, value in os.environ.items() if key != "HF_TOKEN"}
    done = subprocess.run([sys.executable, "-m", "curator_synth.cli", "export", str(out / "final"), "-f", "alpaca",
                           "-o", str(train), "--to-hub", "me/x"], capture_output=True, text=True, env=env)  # fmt: skip
    assert done.returncode == 2
    assert "the environment variable HF_TOKEN is not set" in done.stderr
    assert not train.exists(), "checked before any work"
    with FakeHub(token=TOKEN) as hub:
        refused = _export(str(out / "final"), "-f", "alpaca", "-o", str(train), "--to-hub", "me/x",
                          env={**hub.env, "HF_TOKEN": "hf_wrong"})  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert "the Hub refused the upload to me/x" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert "hf_wrong" not in refused.stderr


def test_offline_mode_is_refused_before_any_work(tmp_path: Path) -> None:
    out = _run(tmp_path)
    train = tmp_path / "train.jsonl"
    with FakeHub(token=TOKEN) as hub:
        done = _export(str(out / "final"), "-f", "alpaca", "-o", str(train), "--to-hub", "me/x",
                       env={**hub.env, "HF_TOKEN": TOKEN, "HF_HUB_OFFLINE": "1"})  # fmt: skip
        assert not hub.requests
    assert done.returncode == 2, done.stderr
    assert "HF_HUB_OFFLINE is set" in done.stderr
    assert not train.exists(), "checked before any work"


@pytest.mark.parametrize("repo", ["no-namespace", "a/b/c"])
def test_a_bad_repository_id_is_refused(repo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from curator_synth.errors import ConfigError
    from curator_synth.exports.hub import DatasetCard, push_to_hub

    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with pytest.raises(ConfigError, match="repository id such as 'your-name/my-dataset'"):
        push_to_hub(repo, {}, DatasetCard("x"))
