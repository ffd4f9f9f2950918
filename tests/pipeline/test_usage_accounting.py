"""The report's token usage counts every request once: stages on the driver (Self-Instruct, topic prompts) and
stages over partitions alike, whether the client comes from the recipe or is given as an object."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from curator_synth.pipeline import PipelineConfig, SyntheticDataPipeline
from curator_synth.testing import FakeLLMServer, Plausible

os.environ["HF_HUB_OFFLINE"] = "1"


def recipe(base_url: str) -> PipelineConfig:
    options = {"n_macro_topics": 2, "n_subtopics": 2, "n_openlines": 1, "n_revisions": 1}
    return PipelineConfig.from_dict({
        "name": "usage", "model": "fake",
        "client": {"base_url": base_url, "api_key_env": "USAGE_KEY"},
        "dask": {"cluster": "threads"},
        "stages": [{"stage": "topic_prompts", "pipeline": "open_qa", "options": options}, {"stage": "responses"}],
        "report": {"plots": False, "bias": {"enabled": False}},
    })  # fmt: skip


def test_the_report_counts_each_request_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USAGE_KEY", "sk-test")
    with FakeLLMServer(responder=Plausible()) as server:
        result = SyntheticDataPipeline(None, recipe(server.base_url)).run(output_dir=tmp_path)
        sent = server.stats()["requests"]
    assert result.report_path is not None
    usage = json.loads((result.report_path.parent / "stats.json").read_text())["usage"]
    assert usage["total"]["requests"] == sent
    assert set(usage["clients"]) == {"00-topic_prompts", "01-responses"}


def test_with_a_client_object_every_request_is_charged_to_its_stage(tmp_path: Path) -> None:
    from curator_synth import AsyncOpenAIClient

    with FakeLLMServer(responder=Plausible()) as server:
        client = AsyncOpenAIClient(base_url=server.base_url, api_key="sk-test")
        config = recipe(server.base_url).model_copy(update={"client": None})
        result = SyntheticDataPipeline(client, config).run(output_dir=tmp_path)  # responses run in this process
        sent = server.stats()["requests"]
    assert result.report_path is not None
    usage = json.loads((result.report_path.parent / "stats.json").read_text())["usage"]
    assert usage["total"]["requests"] == sent
    assert [stage["usage"]["requests"] for stage in result.stages] == [
        usage["clients"]["00-topic_prompts"]["requests"],
        usage["clients"]["01-responses"]["requests"],
    ]
    assert all(stage["usage"]["requests"] > 0 for stage in result.stages)
