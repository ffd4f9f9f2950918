"""What a resume may reuse: an edited input file, another model or another endpoint re-runs the stages they
feed; an LLM stage in which every request failed is not kept (StageError), so the next run asks again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curator_synth.errors import StageError
from curator_synth.pipeline import SyntheticDataPipeline
from curator_synth.testing import FakeLLMServer, Plausible


def recipe(data: Path, base_url: str, model: str = "model-a") -> dict[str, object]:
    return {
        "name": "resume_rules",
        "model": model,
        "client": {"base_url": base_url, "api_key_env": "RESUME_KEY", "max_retries": 0},
        "dask": {"cluster": "threads"},
        "stages": [{"stage": "load", "path": str(data)}, {"stage": "responses"}],
        "report": {"enabled": False},
    }


def write_data(path: Path, n: int) -> None:
    path.write_text("".join(json.dumps({"instruction": f"Describe item number {i}."}) + "\n" for i in range(n)))


def manifests(out: Path) -> dict[str, int]:
    return {p.parent.name: p.stat().st_mtime_ns for p in out.glob("stages/*/manifest.json")}


def test_changed_input_model_or_endpoint_reruns_what_depends_on_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESUME_KEY", "sk-test")
    data, out = tmp_path / "data.jsonl", tmp_path / "run"
    write_data(data, 6)
    with FakeLLMServer(responder=Plausible()) as server:
        assert len(SyntheticDataPipeline(None, recipe(data, server.base_url)).run(output_dir=out)) == 6
        first = manifests(out)
        SyntheticDataPipeline(None, recipe(data, server.base_url)).run(output_dir=out)
        assert manifests(out) == first  # nothing changed: nothing re-ran
        sent = server.stats()["requests"]
        SyntheticDataPipeline(None, recipe(data, server.base_url, model="model-b")).run(output_dir=out)
        assert server.stats()["requests"] - sent == 6  # not the model-a answers kept in the old partitions
        changed = manifests(out)
        assert changed["00-load"] == first["00-load"]
        assert changed["01-responses"] != first["01-responses"]  # another model: asked again
        write_data(data, 8)
        sent = server.stats()["requests"]
        assert len(SyntheticDataPipeline(None, recipe(data, server.base_url, model="model-b")).run(output_dir=out)) == 8
        assert manifests(out)["00-load"] != changed["00-load"]  # the edited file was read again
        # The 2 new instructions are asked; known ones come from the journals, which are per partition, so one
        # that moved to another partition with the new row count is asked again.
        assert 2 <= server.stats()["requests"] - sent < 8
    with FakeLLMServer(responder=Plausible()) as other:  # another endpoint (same model, same data)
        before = manifests(out)
        SyntheticDataPipeline(None, recipe(data, other.base_url, model="model-b")).run(output_dir=out)
        after = manifests(out)
        assert after["00-load"] == before["00-load"]
        assert after["01-responses"] != before["01-responses"]


def test_an_llm_stage_where_every_request_failed_is_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data, out = tmp_path / "data.jsonl", tmp_path / "run"
    write_data(data, 5)
    with FakeLLMServer(responder=Plausible(), api_key="sk-right") as server:
        monkeypatch.setenv("RESUME_KEY", "sk-wrong")
        unchecked = recipe(data, server.base_url)
        unchecked["client"] = {**unchecked["client"], "check": False}  # type: ignore[dict-item]  # the stage's path
        with pytest.raises(StageError, match=r"responses: all 5 records failed \(AuthenticationError 5\)") as caught:
            SyntheticDataPipeline(None, unchecked).run(output_dir=out)
        assert "sk-wrong" not in str(caught.value)
        assert "API key" in str(caught.value)
        assert not (out / "stages" / "01-responses" / "manifest.json").exists()
        assert not list((out / "stages" / "01-responses" / "parts").glob("part-*"))
        monkeypatch.setenv("RESUME_KEY", "sk-right")  # fixed: the re-run asks again and succeeds
        result = SyntheticDataPipeline(None, recipe(data, server.base_url)).run(output_dir=out)
        assert len(result) == 5
        assert result.dataset.to_pandas()["response"].str.len().gt(0).all()
