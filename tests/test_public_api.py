"""The public API is explicit: ``__all__`` lists exactly the public names and they all import."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

PACKAGES = [
    "curator_synth",
    "curator_synth.clients",
    "curator_synth.errors",
    "curator_synth.testing",
    "curator_synth.prompts",
    "curator_synth.generators",
    "curator_synth.parsing",
    "curator_synth.dataset",
    "curator_synth.filters",
    "curator_synth.dedup",
    "curator_synth.diversity",
    "curator_synth.exports",
    "curator_synth.report",
    "curator_synth.reward",
    "curator_synth.pipeline",
    "curator_synth.pipeline.stages",
    "curator_synth.blending",
]


@pytest.mark.parametrize("module_name", PACKAGES)
def test_all_is_complete_and_importable(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = set(module.__all__)
    for name in exported:
        assert hasattr(module, name), f"{module_name}.__all__ names {name!r}, which does not exist"
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and getattr(value, "__module__", "").startswith("curator_synth")
    }
    missing = public - exported
    assert not missing, f"{module_name} defines public names missing from __all__: {sorted(missing)}"


def test_design_card_names() -> None:
    import curator_synth as cs

    for name in ["LLMClient", "AsyncLLMClient", "OpenAIClient", "AsyncOpenAIClient", "NemotronClient"]:
        assert name in cs.__all__
    assert issubclass(cs.OpenAIClient, cs.LLMClient)
    assert issubclass(cs.AsyncOpenAIClient, cs.AsyncLLMClient)
    assert issubclass(cs.NemotronClient, cs.LLMClient)
    assert issubclass(cs.AsyncNemotronClient, cs.AsyncLLMClient)


def test_the_front_door_has_the_entry_points_and_leaves_the_rest_to_subpackages() -> None:
    import curator_synth as cs

    entry_points = {
        "SyntheticDataPipeline", "PipelineConfig", "load_config", "run_simple_pipeline", "RewardModel",
        "PairwiseJudge", "NemotronGenerator", "SelfInstruct", "EvolInstruct", "ResponseGenerator", "export",
        "DocumentDataset", "StageError", "IncompleteStageError",
    }  # fmt: skip
    assert entry_points <= set(cs.__all__)
    assert cs.SyntheticDataPipeline is importlib.import_module("curator_synth.pipeline").SyntheticDataPipeline
    assert cs.RewardModel is importlib.import_module("curator_synth.reward").RewardModel
    formatters = {name for name in cs.__all__ if name.endswith("Formatter")}
    assert not formatters  # in curator_synth.clients


def test_import_is_light() -> None:
    """``import curator_synth`` must not pull the openai SDK, torch or pandas."""
    code = "import sys, curator_synth; print(sorted(m for m in ('openai', 'torch', 'pandas') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_cli_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "curator_synth.cli", "--help"], capture_output=True, text=True, check=True
    )
    assert "query" in result.stdout
    assert "fake-server" in result.stdout
