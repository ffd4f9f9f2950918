"""The blocking twins are written-out classes: each names exactly the public methods of its async class, so
mypy and IDEs read them (a misspelled method is a type error), and they behave as the async class does."""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path
from typing import Any

import pytest
from mypy import api as mypy_api

import curator_synth
from curator_synth.clients import AsyncOpenAIClient, OpenAIClient
from curator_synth.generators import BaseGenerator, BlockingGenerator
from curator_synth.generators.blocking import Blocking, public_methods, sync_generator
from curator_synth.reward import AsyncRewardModel, RewardModel
from curator_synth.testing import Echo, FakeLLMServer

ROOT = Path(__file__).resolve().parents[2]
TWINS = [
    curator_synth.NemotronGenerator,
    curator_synth.NemotronCCGenerator,
    curator_synth.SelfInstruct,
    curator_synth.EvolInstruct,
    curator_synth.ResponseGenerator,
    curator_synth.DialogueGenerator,
    curator_synth.MagpieGenerator,
    curator_synth.PersonaGenerator,
    curator_synth.Transformer,
    curator_synth.SyntheticDataGenerator,
    curator_synth.RewardModel,
    curator_synth.PairwiseJudge,
]


def _declared(twin: type) -> dict[str, object]:
    """The public callables the twin's classes declare (not what ``__getattr__`` reads at run time)."""
    names: dict[str, object] = {}
    for klass in reversed(twin.__mro__):
        names.update({k: v for k, v in vars(klass).items() if not k.startswith("_") and inspect.isfunction(v)})
    return names


@pytest.mark.parametrize("twin", TWINS, ids=lambda twin: twin.__name__)
def test_a_twin_names_exactly_the_public_methods_of_its_async_class(twin: type[Blocking[object]]) -> None:
    expected = public_methods(twin.async_class)
    declared = _declared(twin)
    assert sorted(declared) == sorted(expected)
    for name, method in expected.items():
        assert inspect.signature(declared[name]) == inspect.signature(method), name  # type: ignore[arg-type]
        assert not inspect.iscoroutinefunction(declared[name]), name  # blocking: no await


def test_a_twin_is_a_real_subclass_and_its_async_generator_a_generator() -> None:
    with FakeLLMServer(Echo()) as server, OpenAIClient(base_url=server.base_url) as client:
        twin = curator_synth.NemotronGenerator(client, "m")
        assert isinstance(twin, BlockingGenerator)
        assert isinstance(twin.async_generator, BaseGenerator)
        assert isinstance(twin.async_generator, curator_synth.AsyncNemotronGenerator)
        assert twin.model == "m"
        (answer,) = twin.generate_macro_topics(2)
        assert "Propose 2 broad topics" in answer  # Echo answers with the prompt
        assert server.stats()["requests"] == 1


async def test_a_pipeline_runs_the_steps_of_the_generator_it_is_a_method_of() -> None:
    """Composition: ``run_*_pipeline`` calls the generator's own steps, so an overridden step is the one used."""

    class Fixed(curator_synth.AsyncNemotronGenerator):
        async def generate_math_macro_topics(self, *args: Any, **kwargs: Any) -> list[str]:
            return ["1. Oceans"]

        async def generate_math_subtopics(self, *args: Any, **kwargs: Any) -> list[str]:
            return ["1. Tides"]

    with FakeLLMServer(Echo()) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            result = await Fixed(client, "m").run_math_pipeline(1, "school", 1, 1, combine_topics=False)
    assert [record["text"] for record in result.stages["macro_topics"]] == ["Oceans"]
    assert [record["text"] for record in result.stages["subtopics"]] == ["Tides"]
    assert result.stages["subtopics"][0]["provenance"]["generator"] == "Fixed"


def test_the_config_constructor_of_the_blocking_reward_model_is_a_classmethod_giving_a_twin() -> None:
    model = RewardModel.from_config({"mode": "llm_judge"}, curator_synth.AsyncOpenAIClient(base_url="http://x/v1"))
    assert isinstance(model, RewardModel)
    assert isinstance(model.async_generator, AsyncRewardModel)
    assert model.async_generator.public_name == "RewardModel"


def test_a_runtime_twin_of_a_user_generator_is_a_blocking_generator() -> None:
    class AsyncMine(BaseGenerator):
        async def shout(self, text: str) -> str:
            return text.upper()

    mine = sync_generator(AsyncMine, "Mine")(curator_synth.AsyncOpenAIClient(base_url="http://x/v1"), "m")
    assert isinstance(mine, BlockingGenerator)
    assert mine.shout("hi") == "HI"


def test_mypy_reports_a_misspelled_method_of_a_blocking_twin(tmp_path: Path) -> None:
    user_code = tmp_path / "user_code.py"
    user_code.write_text(
        textwrap.dedent(
            """
            from curator_synth import NemotronGenerator, OpenAIClient, SyntheticDataGenerator

            client = OpenAIClient(base_url="http://127.0.0.1:9/v1", api_key="k")
            topics: list[str] = NemotronGenerator(client, "m").generate_macro_topics(5)
            NemotronGenerator(client, "m").generate_macro_topicz(5)
            SyntheticDataGenerator(client, model_name="m").generatez(["seed"])
            """
        )
    )
    out, _, status = mypy_api.run(["--config-file", str(ROOT / "pyproject.toml"), str(user_code)])
    assert status == 1, out
    assert '"NemotronGenerator" has no attribute "generate_macro_topicz"' in out
    assert '"SyntheticDataGenerator" has no attribute "generatez"' in out
    assert out.count("error:") == 2, out
