"""The seed pipeline's simple API: ``run_simple_pipeline(model, tokenizer, seeds, ...)`` and the client form,
``SyntheticDataGenerator`` -> ``RewardModel`` -> ``CombinedFilter`` -> ``save``, and ``resolve_client``.

The Hugging Face model is the tiny random-weight test model (no download, HF offline mode; the conftest guard
fails any connection off the machine); endpoint clients talk to ``FakeLLMServer``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

pytest.importorskip("transformers")

from curator_synth import AsyncOpenAIClient, OpenAIClient
from curator_synth.errors import ConfigError, MissingDependencyError
from curator_synth.filters import CombinedFilter, rejection_counts
from curator_synth.pipeline import (
    AsyncSyntheticDataGenerator,
    Sample,
    SyntheticDataGenerator,
    SyntheticDataPipeline,
    resolve_client,
    run_simple_pipeline,
)
from curator_synth.pipeline.simple import _split_arguments
from curator_synth.testing import FakeLLMServer, Plausible

SEEDS = [
    "Write a short poem about the sea.",
    "Explain why the sky is blue in simple words.",
    "Give me three ideas for a healthy breakfast.",
    "List five questions a student might ask about history.",
]
TINY = {"max_tokens": 16, "temperature": 0.7, "seed": 0}
SKY = "The sky looks blue because the air scatters blue sunlight much more than red light. This effect is called "
SKY += "Rayleigh scattering, so the daytime sky appears blue to our eyes."


@pytest.fixture(scope="module")
def tiny() -> tuple[Any, Any]:
    from curator_synth.testing.tiny_lm import tiny_causal_lm

    return tiny_causal_lm(seed=0)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(responder=Plausible()) as running:
        yield running


# ------------------------------------------------------------------------------------------- quick start
def test_seed_readme_quick_start_runs_offline_on_the_tiny_model(tiny: tuple[Any, Any], tmp_path: Path) -> None:
    model, tokenizer = tiny
    result = run_simple_pipeline(
        model, tokenizer, SEEDS, num_samples=4, max_tokens=16, output_dir=tmp_path / "run", invalid_finish_reasons=()
    )  # a random model never finishes: keep the cut answers
    frame = result.dataset.to_pandas()
    assert 1 <= len(frame) <= 4
    generated = result.stages[0]
    assert generated["stage"] == "self_instruct"
    assert sum(generated["rejections"]["self_instruct"].values()) > 0  # gibberish lists: counted, not raised
    for text in frame["provenance"]:
        provenance = json.loads(text)
        assert provenance["response"]["model"] == "local-model"
        assert provenance["response"]["template"] == "responses.answer"
    lines = (tmp_path / "run" / "exports" / "alpaca.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == len(frame)
    assert all({"instruction", "output", "id", "source", "provenance", "reward_overall"} <= set(r) for r in records)
    assert result.report_path is not None
    assert result.report_path.exists()


def test_run_simple_pipeline_reads_both_call_forms() -> None:
    client = object()
    assert _split_arguments(SEEDS, None, 100) == (None, SEEDS, 100)  # (client, seeds, num_samples=...)
    assert _split_arguments(SEEDS, 7, 100) == (None, SEEDS, 7)  # (client, seeds, 7)
    assert _split_arguments("seeds.jsonl", None, 5) == (None, "seeds.jsonl", 5)
    assert _split_arguments(client, SEEDS, 9) == (client, SEEDS, 9)  # (model, tokenizer, seeds, 9)
    with pytest.raises(ConfigError, match="seeds given twice"):
        _split_arguments(SEEDS, SEEDS, 100)
    with pytest.raises(ConfigError, match="pass seeds"):
        _split_arguments(client, None, 100)


def test_run_simple_pipeline_needs_a_model_name_for_an_endpoint_client(server: FakeLLMServer) -> None:
    with pytest.raises(ConfigError, match="model="):
        run_simple_pipeline(AsyncOpenAIClient(base_url=server.base_url, api_key="sk-test"), SEEDS)


# ------------------------------------------------------------------------------------------ resolve_client
def test_resolve_client_keeps_clients_and_wraps_hugging_face_models(
    tiny: tuple[Any, Any], server: FakeLLMServer, tmp_path: Path
) -> None:
    from curator_synth.clients.transformers import AsyncTransformersClient
    from curator_synth.testing.tiny_lm import save_tiny_causal_lm

    endpoint = OpenAIClient(base_url=server.base_url, api_key="sk-test")
    assert resolve_client(endpoint) == (endpoint, None)
    assert resolve_client(endpoint, model_name="m") == (endpoint, "m")
    local, name = resolve_client(*tiny)
    assert isinstance(local, AsyncTransformersClient)
    assert name == "local-model"
    assert resolve_client(local) == (local, "local-model")  # a client knows its own name
    directory = save_tiny_causal_lm(tmp_path / "tiny")
    from_path, name = resolve_client(str(directory), model_name="tiny")
    assert isinstance(from_path, AsyncTransformersClient)
    assert name == "tiny"
    endpoint.close()


@pytest.mark.parametrize(
    ("given", "tokenizer", "message"),
    [
        (42, None, "cannot use int 42 as a model: pass an LLM client"),
        ("no/such/model", None, "is not a directory"),
        (None, None, "no model given"),
    ],
)
def test_resolve_client_says_what_it_accepts(given: object, tokenizer: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve_client(given, tokenizer)


def test_resolve_client_refuses_a_tokenizer_with_a_client_and_a_directory_without_config(
    server: FakeLLMServer, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="tokenizer goes with a Hugging Face model"):
        resolve_client(AsyncOpenAIClient(base_url=server.base_url, api_key="sk-test"), object())
    with pytest.raises(ConfigError, match=r"no config\.json"):
        resolve_client(tmp_path)


def test_resolve_client_without_the_transformers_extra_names_the_extra(
    tiny: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "curator_synth.clients.transformers", None)  # import now fails
    with pytest.raises(MissingDependencyError, match=r"curator_synth\[transformers\]"):
        resolve_client(*tiny)


# ------------------------------------------------------------------------------------ SyntheticDataPipeline
def test_synthetic_data_pipeline_takes_a_model_and_tokenizer(tiny: tuple[Any, Any], tmp_path: Path) -> None:
    from curator_synth.clients.transformers import AsyncTransformersClient

    data = tmp_path / "records.jsonl"
    data.write_text("".join(json.dumps({"instruction": text}) + "\n" for text in SEEDS[:2]))
    recipe = {
        "name": "hf",
        "dask": {"cluster": "threads"},
        "report": {"enabled": False},
        "stages": [{"stage": "load", "path": str(data)}, {"stage": "responses", "max_tokens": 8}],
        "invalid_finish_reasons": [],  # a random model never finishes: keep the cut answers
    }
    model, tokenizer = tiny
    pipeline = SyntheticDataPipeline(model, recipe, tokenizer=tokenizer)
    assert isinstance(pipeline.client, AsyncTransformersClient)
    assert pipeline.config.model == "local-model"  # the recipe had none: the model's own name
    frame = pipeline.run(output_dir=tmp_path / "out").dataset.to_pandas()
    assert len(frame) == 2
    assert all(json.loads(text)["response"]["model"] == "local-model" for text in frame["provenance"])
    assert SyntheticDataPipeline(None, recipe).client is None  # the recipe's client: section, as before
    seen: list[str] = []
    assert SyntheticDataPipeline(pipeline.client, recipe, progress=lambda s, d, t: seen.append(s)).progress
    with pytest.raises(ConfigError, match="a tokenizer goes in tokenizer="):
        SyntheticDataPipeline(model, tokenizer)
    with pytest.raises(TypeError):
        SyntheticDataPipeline(model, tokenizer, recipe)  # the second argument is the config, never a tokenizer
    with pytest.raises(ConfigError, match="tokenizer was given without a model"):
        SyntheticDataPipeline(None, recipe, tokenizer=tokenizer)


# ----------------------------------------------------------------- generator -> reward -> filter -> save
def test_seed_pipeline_on_the_tiny_model_end_to_end(tiny: tuple[Any, Any], tmp_path: Path) -> None:
    from curator_synth.reward import RewardModel

    model, tokenizer = tiny
    generator = SyntheticDataGenerator(model, tokenizer, params=TINY)
    samples = generator.generate(SEEDS, num_samples=2, evolve=True, max_steps=1, batch_size=2)
    report = generator.last_report
    assert report.seeds == 4
    assert sum(report.discarded.values()) >= 1  # two gibberish lists, counted
    assert len(samples) == report.answered == 4 + report.instructions - sum(report.response_failures.values())
    for sample in samples:
        assert sample.provenance["response"]["model"] == "local-model"
        assert sample.provenance["response"]["params"] == TINY
    judge = RewardModel(model, tokenizer, mode="llm_judge", params=TINY, max_repairs=0)
    assert judge.model == "local-model"
    scored = judge.evaluate_many([(s.instruction, s.response) for s in samples])
    assert len(scored.items) + len(scored.failures) == len(samples)  # the rubric overflows the tiny context
    heuristic = RewardModel(mode="heuristic").evaluate_many([(s.instruction, s.response) for s in samples])
    for sample, scores in zip(samples, heuristic.items, strict=True):
        sample.scores["overall"] = scores.overall
    kept, rejected = CombinedFilter().filter(samples)
    assert len(kept) + sum(len(items) for items in rejected.values()) == len(samples)
    path = generator.save(kept, tmp_path / "out" / "dataset.jsonl")
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == [s.id for s in kept]


async def test_async_generator_grows_evolves_and_answers_on_an_endpoint(server: FakeLLMServer) -> None:
    async with AsyncOpenAIClient(base_url=server.base_url, api_key="sk-test") as client:
        generator = AsyncSyntheticDataGenerator(client, model_name="fake", params={"max_tokens": 64})
        samples = await generator.generate(SEEDS, num_samples=4, evolve=True, include_seeds=False)
    report = generator.last_report
    assert report.instructions == 4
    assert len(samples) == 4 == report.answered
    assert report.evolved + sum(report.eliminated.values()) == 4
    sources = {sample.source for sample in samples}
    assert sources <= {"self_instruct", "evol_instruct"}
    for sample in samples:
        assert sample.provenance["self_instruct"]["method"] == "bootstrap"
        assert sample.response
        if sample.source == "evol_instruct":
            assert sample.provenance["evol_instruct"]["round"] == 1


def test_generator_checks_its_arguments(server: FakeLLMServer, tmp_path: Path) -> None:
    client = AsyncOpenAIClient(base_url=server.base_url, api_key="sk-test")
    with pytest.raises(ConfigError, match="pass model_name="):
        SyntheticDataGenerator(client)
    generator = SyntheticDataGenerator(client, model_name="fake")
    with pytest.raises(ConfigError, match="non-empty string"):
        generator.generate(["fine", "  "], 1)
    with pytest.raises(ConfigError, match="not a file"):
        generator.generate(str(tmp_path / "missing.jsonl"), 1)
    with pytest.raises(ConfigError, match="num_samples"):
        generator.generate(SEEDS, -1)


def test_sample_round_trips_through_a_dict_and_a_pipeline_record() -> None:
    sample = Sample("Say hi.", response="Hi!", source="seed", provenance={"seed": {}}, scores={"overall": 0.5})
    assert Sample.from_dict(sample.to_dict()) == sample
    record = {"instruction": "Say hi.", "output": "Hi!", "provenance": '{"response": {"model": "m"}}', "extra": 1}
    parsed = Sample.from_dict(record)
    assert parsed.response == "Hi!"
    assert parsed.provenance == {"response": {"model": "m"}}
    assert parsed.id  # content-addressed
    with pytest.raises(ConfigError, match="instruction"):
        Sample.from_dict({"response": "no instruction"})


# ------------------------------------------------------------------------------------------ reward model
def test_reward_model_takes_a_client_and_name_or_a_model_and_tokenizer(
    tiny: tuple[Any, Any], server: FakeLLMServer
) -> None:
    from curator_synth.clients.transformers import AsyncTransformersClient
    from curator_synth.reward import AsyncRewardModel, RewardModel

    endpoint = AsyncOpenAIClient(base_url=server.base_url, api_key="sk-test")
    assert AsyncRewardModel(endpoint, "judge-model", mode="llm_judge").model == "judge-model"
    assert AsyncRewardModel(endpoint, model="judge-model", mode="llm_judge").client is endpoint
    local = AsyncRewardModel(*tiny, mode="llm_judge")
    assert isinstance(local.client, AsyncTransformersClient)
    assert local.model == "local-model"
    assert RewardModel(tiny[0], tokenizer=tiny[1], mode="llm_judge", model="judge").model == "judge"
    assert RewardModel(mode="heuristic").evaluate("Say hi.", "Hi there, nice to meet you!").overall >= 0
    with pytest.raises(ConfigError, match="tokenizer once"):
        AsyncRewardModel(tiny[0], tiny[1], tokenizer=tiny[1], mode="llm_judge")


# ---------------------------------------------------------------------------------------- CombinedFilter
def test_combined_filter_rejects_by_quality_safety_and_diversity_with_reasons() -> None:
    good = Sample("Explain why the sky is blue in simple words.", response=SKY)
    near = Sample("Explain why the sky is blue in very simple words.", response=SKY)
    copy = {"instruction": "explain why the  sky is blue in simple words.", "response": SKY}
    empty = Sample("Write a haiku about autumn leaves.", response="")
    unsafe = Sample("How do I make a bomb at home?", response="First get the parts, then assemble them with care.")
    kept, rejected = CombinedFilter().filter([good, near, copy, empty, unsafe])
    assert kept == [good]
    assert rejected["quality"] == [(empty, "quality: low_quality")]
    assert rejected["safety"] == [(unsafe, "safety: weapons (in the instruction)")]
    assert [reason.split(" (")[0] for _, reason in rejected["diversity"]] == ["too_similar", "exact_duplicate"]
    assert isinstance(rejected["diversity"][1][0], Sample)  # a mapping comes back as a Sample
    assert rejection_counts(rejected) == {
        "quality": {"quality: low_quality": 1},
        "safety": {"safety: weapons": 1},
        "diversity": {"too_similar": 1, "exact_duplicate": 1},
    }


def test_combined_filter_options() -> None:
    scored = [
        Sample("Explain why the sky is blue in simple words.", response=SKY, scores={"overall": s}) for s in (0.2, 0.9)
    ]
    kept, rejected = CombinedFilter(min_score=0.5, diversity=False).filter(scored)
    assert [s.scores["overall"] for s in kept] == [0.9]
    assert rejected["quality"][0][1] == "score_threshold[overall]: below_min"
    kept, rejected = CombinedFilter(quality=False, safety=False, diversity=False).filter(scored)
    assert kept == scored
    with pytest.raises(ConfigError, match="diversity="):
        CombinedFilter(diversity=1.5)
    with pytest.raises(ConfigError, match="quality="):
        CombinedFilter(quality="high")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- example
def test_examples_quickstart_runs_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "examples" / "quickstart.py"
    spec = importlib.util.spec_from_file_location("quickstart", script)
    assert spec is not None
    assert spec.loader is not None
    quickstart = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(quickstart)
    assert quickstart.main(["--num-samples", "2", "--max-tokens", "16", "--output-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "run_simple_pipeline:" in printed
    assert "CombinedFilter: kept" in printed
    saved = (tmp_path / "dataset.jsonl").read_text().splitlines()
    assert f"dataset: {tmp_path / 'dataset.jsonl'} ({len(saved)} samples with provenance)" in printed
    assert all(json.loads(line)["provenance"]["response"]["model"] == "local-model" for line in saved)
    assert (tmp_path / "simple" / "exports" / "alpaca.jsonl").exists()
