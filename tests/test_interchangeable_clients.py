"""The in-process ``TransformersClient`` and the endpoint ``AsyncOpenAIClient`` are interchangeable: every registered
generator family, the judges and the pipeline run unchanged on either.

One parametrised set of tests runs over both clients: a tiny random-weight Hugging Face model (gibberish, so most
answers do not parse) and ``FakeLLMServer`` with the ``Plausible`` responder (parser-shaped nonsense). The tests
check the plumbing — types, counts, provenance, no exception — never the content: every item of a call is either
a result or a counted failure. Nothing leaves the machine (the conftest socket guard, HF offline mode).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

pytest.importorskip("transformers")

import curator_synth.reward.model  # importing registers the reward_model family
import curator_synth.reward.pairwise  # noqa: F401 - and the pairwise_judge family
from curator_synth import AsyncOpenAIClient, OpenAIClient
from curator_synth.errors import CuratorSynthError, ResponseParseError
from curator_synth.generators import GENERATORS, BaseGenerator, Outcome
from curator_synth.testing import FakeLLMServer, Plausible

MODEL = "fake-model"
PARAMS = {"max_tokens": 16, "temperature": 0.7}
SEEDS = [
    "Write a short poem about the sea.",
    "Explain why the sky is blue in simple words.",
    "Give me three ideas for a healthy breakfast.",
    "List five questions a student might ask about history.",
]
DOCUMENT = "Photosynthesis is the process by which green plants turn light into chemical energy. " * 3
CLIENT_KINDS = ["transformers", "openai"]


# -------------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def tiny_model() -> tuple[Any, Any]:
    from curator_synth.testing.tiny_lm import tiny_causal_lm

    return tiny_causal_lm(seed=0)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(responder=Plausible()) as running:
        yield running


def _async_client(kind: str, tiny_model: tuple[Any, Any], server: FakeLLMServer) -> Any:
    if kind == "transformers":
        from curator_synth.clients.transformers import AsyncTransformersClient

        return AsyncTransformersClient(*tiny_model, model_name=MODEL, max_batch_size=8, default_max_tokens=16)
    return AsyncOpenAIClient(base_url=server.base_url, api_key="sk-test")


def _sync_client(kind: str, tiny_model: tuple[Any, Any], server: FakeLLMServer) -> Any:
    if kind == "transformers":
        from curator_synth.clients.transformers import TransformersClient

        return TransformersClient(*tiny_model, model_name=MODEL, max_batch_size=8, default_max_tokens=16)
    return OpenAIClient(base_url=server.base_url, api_key="sk-test")


@pytest.fixture(params=CLIENT_KINDS)
async def client(request: pytest.FixtureRequest, tiny_model: tuple[Any, Any], server: FakeLLMServer) -> Any:
    """A fresh async client of each kind (on the test's own event loop), closed afterwards."""
    made = _async_client(request.param, tiny_model, server)
    yield made
    await made.aclose()


@pytest.fixture(params=CLIENT_KINDS)
def sync_client(request: pytest.FixtureRequest, tiny_model: tuple[Any, Any], server: FakeLLMServer) -> Any:
    made = _sync_client(request.param, tiny_model, server)
    yield made
    made.close()


def _accounted(result: Outcome[Any], inputs: int) -> None:
    """Every input is a result or a counted failure with a typed error and a reason."""
    assert isinstance(result, Outcome)
    assert len(result.items) + len(result.failures) == inputs
    for failure in result.failures:
        assert failure.reason
        assert type(failure.error).__name__ in failure.reason


def _provenance(record: Any) -> dict[str, Any]:
    provenance = record["provenance"] if isinstance(record, dict) else record.provenance
    assert provenance["model"] == MODEL
    assert provenance["template"]
    return provenance


# ----------------------------------------------------------------------------- one call per generator family
async def _self_instruct(client: Any) -> None:
    from curator_synth.generators import AsyncSelfInstruct

    result = await AsyncSelfInstruct(client, MODEL, params=PARAMS).bootstrap(
        SEEDS, 2, max_steps=1, batch_size=2, num_human=2, num_machine=2
    )
    assert result.steps == 1
    # Each of the 2 answers either parsed (its items kept or discarded with a reason) or was discarded whole.
    for record in result.instructions:
        assert _provenance(record)["method"] == "bootstrap"
    assert all(discard.reason for discard in result.discarded)
    assert result.instructions or result.discarded


async def _evol(client: Any) -> None:
    from curator_synth.generators import AsyncEvolInstruct

    result = await AsyncEvolInstruct(client, MODEL, params=PARAMS).evolve(SEEDS[:2], rounds=1, respond=False)
    assert len(result.evolved) + len(result.eliminations) == 2
    for record in result.evolved:
        assert _provenance(record)["parents"] == [record.parent_id]
    assert all(elimination.reason for elimination in result.eliminations)


async def _responses(client: Any) -> None:
    from curator_synth.generators import AsyncResponseGenerator

    result = await AsyncResponseGenerator(client, MODEL, params=PARAMS).generate_responses(SEEDS[:3])
    _accounted(result, 3)
    for record in result.items:
        assert len(record.responses) == 1
        assert isinstance(record.responses[0], str)
        _provenance(record)


async def _nemotron(client: Any) -> None:
    from curator_synth.generators import AsyncNemotronGenerator

    generator = AsyncNemotronGenerator(client, MODEL, params=PARAMS)
    result = await generator.run_writing_pipeline(["the sea"], ["poem"], n_openlines=1, n_revisions=1)
    assert len(result.items) + len(result.failures) >= 1
    for record in result.items:
        assert isinstance(record["text"], str)
        _provenance(record)
    assert all(failure.stage and failure.reason for failure in result.failures)


async def _dialogue(client: Any) -> None:
    from curator_synth.generators import AsyncDialogueGenerator

    result = await AsyncDialogueGenerator(client, MODEL, params=PARAMS).generate_dialogues(SEEDS[:2], n_user_turns=2)
    _accounted(result, 2)
    for record in result.items:
        assert [m["role"] for m in record.messages] == ["user", "assistant", "user", "assistant"]
        _provenance(record)


async def _magpie(client: Any) -> None:
    from curator_synth.generators import AsyncMagpieGenerator

    result = await AsyncMagpieGenerator(client, MODEL, params=PARAMS).generate(
        2, "llama3", max_query_tokens=16, max_draws=3, min_words=1
    )
    assert result.draws <= 3
    assert len(result.items) <= 2
    for record in result.items:
        _provenance(record)
    assert all(failure.stage in ("query", "response") for failure in result.failures)


async def _persona(client: Any) -> None:
    from curator_synth.generators import AsyncPersonaGenerator

    result = await AsyncPersonaGenerator(client, MODEL, params=PARAMS).text_to_persona([DOCUMENT, SEEDS[0]])
    _accounted(result, 2)
    for record in result.items:
        assert isinstance(record.persona, str)
        _provenance(record)


async def _transforms(client: Any) -> None:
    from curator_synth.generators import AsyncTransformer

    result = await AsyncTransformer(client, MODEL, params=PARAMS).transform_many(SEEDS[:2], "paraphrase")
    _accounted(result, 2)
    for record in result.items:
        assert record["op"] == "paraphrase"
        assert isinstance(record["output"], str)
        _provenance(record)


async def _nemotron_cc(client: Any) -> None:
    from curator_synth.generators import AsyncNemotronCCGenerator

    generator = AsyncNemotronCCGenerator(client, MODEL, params=PARAMS)
    result = await generator.process_documents([DOCUMENT, "Water boils at one hundred degrees."], "knowledge_list")
    _accounted(result, 2)
    for record in result.items:
        assert record["method"] == "knowledge_list"
        _provenance(record)


async def _reward_model(client: Any) -> None:
    from curator_synth.reward import AsyncRewardModel

    judge = AsyncRewardModel(client, MODEL, mode="llm_judge", params=PARAMS, max_repairs=0)
    result = await judge.evaluate_many([(SEEDS[0], "The sea is wide."), (SEEDS[1], "Light scatters.")])
    _accounted(result, 2)
    for scores in result.items:
        assert 0.0 <= scores.overall <= 1.0


async def _pairwise_judge(client: Any) -> None:
    from curator_synth.reward import AsyncPairwiseJudge

    judge = AsyncPairwiseJudge(client, MODEL, params=PARAMS, max_repairs=0)
    result = await judge.compare_many([(SEEDS[0], "The sea is wide.", "Blue water.")])
    _accounted(result, 1)
    for verdict in result.items:
        assert verdict.winner in ("a", "b", "tie", None)


#: One representative call per registered family (GENERATORS names), run with either client.
FAMILIES: dict[str, Callable[[Any], Awaitable[None]]] = {
    "self_instruct": _self_instruct,
    "evol_instruct": _evol,
    "responses": _responses,
    "nemotron": _nemotron,
    "dialogue": _dialogue,
    "magpie": _magpie,
    "persona": _persona,
    "transforms": _transforms,
    "nemotron_cc": _nemotron_cc,
    "reward_model": _reward_model,
    "pairwise_judge": _pairwise_judge,
}


# ------------------------------------------------------------------------------------------------------ tests
def test_no_network_guard_is_active() -> None:
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["TRANSFORMERS_OFFLINE"] == "1"
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(OSError, match="must not use the network"):
            probe.connect(("192.0.2.1", 443))  # TEST-NET-1: not loopback
        with pytest.raises(OSError, match="must not use the network"):
            socket.getaddrinfo("huggingface.co", 443)
    finally:
        probe.close()


def test_every_registered_family_is_exercised() -> None:
    assert set(GENERATORS.names()) <= set(FAMILIES), "add a representative call for the new family to FAMILIES"


@pytest.mark.parametrize("family", sorted(FAMILIES))
async def test_family_runs_on_either_client(family: str, client: Any) -> None:
    assert issubclass(GENERATORS.get(family), BaseGenerator)
    await FAMILIES[family](client)


def test_blocking_generators_and_judge_run_on_either_sync_client(sync_client: Any) -> None:
    from curator_synth.generators import ResponseGenerator, SelfInstruct
    from curator_synth.reward import RewardModel

    answered = ResponseGenerator(sync_client, MODEL, params=PARAMS).generate_responses(SEEDS[:2])
    _accounted(answered, 2)
    grown = SelfInstruct(sync_client, MODEL, params=PARAMS).bootstrap(
        SEEDS, 1, max_steps=1, batch_size=2, num_human=2, num_machine=2
    )
    assert grown.steps == 1
    assert grown.instructions or grown.discarded
    judge = RewardModel(sync_client, MODEL, mode="llm_judge", params=PARAMS, max_repairs=0)
    scored = judge.evaluate_many([(SEEDS[0], "The sea is wide.")])
    _accounted(scored, 1)


def test_synthetic_data_generator_runs_on_either_sync_client(sync_client: Any, tmp_path: Path) -> None:
    from curator_synth import Sample, SyntheticDataGenerator

    generator = SyntheticDataGenerator(sync_client, model_name=MODEL, params=PARAMS)
    samples = generator.generate(SEEDS, num_samples=2, evolve=True, max_steps=1, batch_size=2)
    report = generator.last_report
    assert report.seeds == len(SEEDS)
    assert report.answered == len(samples)
    assert len(samples) + sum(report.response_failures.values()) == len(SEEDS) + report.instructions
    assert all(isinstance(sample, Sample) and sample.provenance["response"]["model"] == MODEL for sample in samples)
    assert {sample.source for sample in samples} <= {"seed", "self_instruct", "evol_instruct"}
    path = generator.save(samples, tmp_path / "samples.jsonl")
    assert len(path.read_text().splitlines()) == len(samples)


def test_pipeline_runs_a_small_recipe_on_either_client(
    tiny_model: tuple[Any, Any], server: FakeLLMServer, tmp_path: Path
) -> None:
    from curator_synth.pipeline import SyntheticDataPipeline

    data = tmp_path / "records.jsonl"
    data.write_text("".join(json.dumps({"instruction": text, "input": "", "response": ""}) + "\n" for text in SEEDS))
    recipe = {
        "name": "small",
        "model": MODEL,
        "dask": {"cluster": "threads"},
        "report": {"enabled": False},
        "stages": [
            {"stage": "load", "path": str(data)},
            {"stage": "evol_instruct", "rounds": 1, "max_tokens": 16},
            {"stage": "responses", "max_tokens": 16},
            {"stage": "score", "mode": "heuristic"},
            {"stage": "filter", "filters": [{"name": "empty_response", "field": "response"}]},
        ],
        "invalid_finish_reasons": [],  # the tiny random model never ends an answer: keep the cut ones
    }
    for kind in CLIENT_KINDS:
        result = SyntheticDataPipeline(_async_client(kind, tiny_model, server), recipe).run(output_dir=tmp_path / kind)
        evolved, answered = result.stages[1], result.stages[2]
        assert evolved["records_out"] >= len(SEEDS)  # the originals, and the evolutions that were kept
        failed = sum(answered["rejections"].get("responses", {}).values())
        assert answered["records_out"] + failed == evolved["records_out"]  # answered, or counted as failed
        frame = result.dataset.to_pandas()
        assert set(frame["source"]) <= {"", "evol_instruct"}
        assert frame["reward_overall"].notna().all()
        for text in frame["provenance"]:
            assert json.loads(text)["response"]["model"] == MODEL


def test_gibberish_answers_are_counted_parse_failures(tiny_model: tuple[Any, Any]) -> None:
    from curator_synth.clients.transformers import TransformersClient
    from curator_synth.generators import SelfInstruct
    from curator_synth.reward import PairwiseJudge, RewardModel

    with TransformersClient(*tiny_model, model_name=MODEL) as client:
        grown = SelfInstruct(client, MODEL, params={**PARAMS, "seed": 0}).bootstrap(
            SEEDS, 2, max_steps=1, batch_size=2, num_human=2, num_machine=2
        )
        compared = PairwiseJudge(client, MODEL, params=PARAMS, max_repairs=0).compare_many(
            [(SEEDS[0], "The sea is wide.", "Blue water.")]
        )
        judge = RewardModel(client, mode="llm_judge", params=PARAMS, max_repairs=0)  # model name: the client's
        scored = judge.evaluate_many([(SEEDS[0], "The sea is wide.")] * 2)
    unparseable = [discard for discard in grown.discarded if discard.reason == "unparseable"]  # no list in gibberish
    assert unparseable
    assert all("ResponseParseError" in discard.detail for discard in unparseable)
    _accounted(compared, 1)
    assert compared.failures
    assert isinstance(compared.failures[0].error, ResponseParseError)
    _accounted(scored, 2)  # the judge's rubric does not fit the tiny model's 512-token context: typed failures
    assert scored.failures
    assert all(isinstance(failure.error, CuratorSynthError) for failure in scored.failures)
