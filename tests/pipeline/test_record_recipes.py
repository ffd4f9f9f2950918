"""The record-stage recipes end to end against a FakeLLMServer (dialogue, evol_instruct, nemotron_cc,
preference), their exports read back by Hugging Face ``datasets``, failures injected into the ``dialogue``,
``rephrase`` and ``preference`` stages (counted by reason and absent from the output), and bad options."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from curator_synth.errors import ConfigError, StageError
from curator_synth.pipeline import PipelineConfig, PipelineResult, SyntheticDataPipeline, load_config
from curator_synth.testing import FakeLLMServer, FakeRequest, Faults, Plausible

os.environ["HF_HUB_OFFLINE"] = "1"
RECIPES = Path(__file__).resolve().parents[2] / "prompt_templates" / "recipes"
PASSAGES = RECIPES.resolve().parents[1] / "data" / "documents" / "wikipedia_passages.jsonl"


class Saboteur:
    """Plausible answers, except: a prompt with ``BREAK`` fails (HTTP 400), one with ``POISON`` gets an empty
    answer, and a judge conversation about ``JUDGEFAIL`` gets an answer without scores (repairs included)."""

    def __init__(self) -> None:
        self.plausible = Plausible()

    def __call__(self, request: FakeRequest) -> str:
        conversation = " ".join(str(message.get("content", "")) for message in request.messages or [])
        if "BREAK" in request.prompt:
            raise RuntimeError("sabotaged request")
        if "POISON" in request.prompt:
            return ""
        if "JUDGEFAIL" in conversation and "helpfulness" in conversation.lower():
            return "I would rather not score this one."
        return self.plausible(request)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(responder=Saboteur()) as fake:
        yield fake


def configure(
    recipe: str, server: FakeLLMServer, load: dict[str, Any] | None = None, report: bool = False, **client: Any
) -> PipelineConfig:
    """The shipped recipe against ``server``: in this process (no LocalCluster), load options overridden."""
    config = load_config(RECIPES / recipe)
    assert config.client is not None
    stages = [{**config.stages[0], **(load or {})}, *config.stages[1:]]
    update = {"base_url": server.base_url, "api_key_env": "FAKE_KEY", **client}
    return config.model_copy(
        update={
            "client": config.client.model_copy(update=update),
            "dask": config.dask.model_copy(update={"cluster": "threads"}),
            "report": config.report.model_copy(update={"enabled": report}),
            "stages": stages,
        }
    )


def run(config: PipelineConfig, out: Path) -> tuple[PipelineResult, pd.DataFrame]:
    os.environ["FAKE_KEY"] = "sk-test"
    result = SyntheticDataPipeline(None, config).run(output_dir=out)
    final = pd.read_parquet(out / "final")
    assert len(final) > 0
    assert final["id"].is_unique
    return result, final


def rejections(result: PipelineResult, stage: str) -> dict[str, int]:
    (summary,) = [summary for summary in result.stages if summary["stage"] == stage]
    return {reason: count for reasons in summary["rejections"].values() for reason, count in reasons.items()}


def load_json(path: Path, cache: Path) -> Any:
    import datasets

    return datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(cache))


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


# ------------------------------------------------------------------------------------------------ recipes
def test_dialogue_recipe_exports_multi_turn_messages_and_sharegpt(server: FakeLLMServer, tmp_path: Path) -> None:
    result, final = run(configure("dialogue.yaml", server), tmp_path / "run")
    assert len(final) == 24
    for row in final.itertuples():
        roles = [message["role"] for message in row.messages]
        assert roles == ["user", "assistant", "user", "assistant"]
        assert row.messages[0]["content"] == row.instruction
        assert row.response == row.messages[1]["content"]
        assert json.loads(row.provenance)["dialogue"]["n_user_turns"] == 2
    messages = load_json(result.exports["messages"], tmp_path / "hf")
    assert len(messages) == 24
    assert [turn["role"] for turn in messages[0]["messages"]] == ["user", "assistant", "user", "assistant"]
    sharegpt = load_json(result.exports["sharegpt"], tmp_path / "hf")
    assert [turn["from"] for turn in sharegpt[0]["conversations"]] == ["human", "gpt", "human", "gpt"]


def test_evol_instruct_recipe_evolves_answers_judges_and_samples(server: FakeLLMServer, tmp_path: Path) -> None:
    result, final = run(configure("evol_instruct.yaml", server), tmp_path / "run")
    counts = {summary["stage"]: summary["records_out"] for summary in result.stages}
    assert counts["evol_instruct"] > counts["load"] == 20  # the originals and their kept evolutions
    assert set(final["source"]) == {"seed_tasks", "evol_instruct"}
    assert final["response"].str.len().gt(0).all()
    assert final["reward_overall"].between(0, 1).all()
    alpaca = load_json(result.exports["alpaca"], tmp_path / "hf")
    assert len(alpaca) == len(final) <= 30


def test_nemotron_cc_recipe_rephrases_the_shipped_passages(server: FakeLLMServer, tmp_path: Path) -> None:
    config = configure("nemotron_cc.yaml", server)
    result, final = run(config, tmp_path / "run")
    loaded = pd.read_parquet(tmp_path / "run" / "stages" / "00-load" / "data")
    assert len(loaded) == len(PASSAGES.read_text().splitlines())
    assert (final["rephrased"] == final["response"]).all()
    assert final["rephrased"].str.split().str.len().ge(20).all()
    for row in final.itertuples():
        provenance = json.loads(row.provenance)["rephrase"]
        assert provenance["method"] == config.stages[1]["method"]
        assert provenance["source_id"] in set(loaded["id"])
        assert row.id != provenance["source_id"]
    exported = pd.read_parquet(result.exports["parquet"])
    assert sorted(exported["id"]) == sorted(final["id"])


def test_preference_recipe_writes_dpo_pairs_and_resumes(server: FakeLLMServer, tmp_path: Path) -> None:
    config = configure("preference.yaml", server, report=True)
    result, final = run(config, tmp_path / "run")
    pairs = result.stages[1]
    assert pairs["records_out"] + rejections(result, "preference").get("no_pair", 0) == 40  # one pair or a reason
    assert (final["source"] == "preference").all()
    assert (final["instruction"] == final["prompt"]).all()
    assert final["prompt"].str.contains("\n\n").any()  # instructions with their inputs
    assert (final["response"] == final["chosen"]).all()
    assert (final["chosen"] != final["rejected"]).all()
    assert (final["margin"] >= 0.05).all()
    assert (final["margin"] - (final["chosen_score"] - final["rejected_score"])).abs().max() < 1e-9
    provenance = json.loads(final["provenance"].iloc[0])
    assert {"parent_id", "chosen", "rejected", "decided_by"} <= set(provenance)
    assert provenance["chosen"]["response"]["n"] == 2
    dpo = load_json(result.exports["dpo"], tmp_path / "hf")
    assert len(dpo) == len(final)
    assert {"prompt", "chosen", "rejected", "margin"} <= set(dpo.column_names)
    assert isinstance(dpo[0]["chosen"], str)
    assert result.report_path is not None
    assert result.report_path.exists()
    sent = server.stats()["requests"]
    SyntheticDataPipeline(None, config).run(output_dir=tmp_path / "run")
    assert server.stats()["requests"] == sent  # every stage resumed from its manifest


# ------------------------------------------------------------------------------------------------ failures
def test_dialogue_failures_are_counted_by_reason_and_dropped(server: FakeLLMServer, tmp_path: Path) -> None:
    rows = [{"id": f"ok{i}", "instruction": f"Plan a trip to city number {i}."} for i in range(6)]
    rows += [{"id": "poison", "instruction": "POISON: answer nothing"}, {"id": "break", "instruction": "BREAK it"}]
    load = {"path": str(write_jsonl(tmp_path / "instructions.jsonl", rows))}
    result, final = run(configure("dialogue.yaml", server, load, max_retries=0), tmp_path / "run")
    assert rejections(result, "dialogue") == {"empty_turn": 1, "request_failed (BadRequestError)": 1}
    assert sorted(final["id"]) == [f"ok{i}" for i in range(6)]


def test_a_stage_whose_every_record_failed_raises_and_is_not_saved(server: FakeLLMServer, tmp_path: Path) -> None:
    rows = [{"id": f"b{i}", "instruction": f"BREAK number {i}"} for i in range(3)]
    load = {"path": str(write_jsonl(tmp_path / "instructions.jsonl", rows))}
    with pytest.raises(StageError, match=r"all 3 records failed \(request_failed \(BadRequestError\) 3\)"):
        run(configure("dialogue.yaml", server, load, max_retries=0), tmp_path / "run")
    assert not (tmp_path / "run" / "stages" / "01-dialogue" / "manifest.json").exists()


def test_rephrase_failures_and_discards_are_counted_by_reason(server: FakeLLMServer, tmp_path: Path) -> None:
    texts = {f"doc{i}": f"Document {i} tells how bridges carry roads over rivers. " * 8 for i in range(5)}
    texts |= {"poison": "POISON " * 30, "break": "BREAK " * 30, "empty": "   "}
    rows = [{"id": key, "text": text} for key, text in texts.items()]
    load = {"path": str(write_jsonl(tmp_path / "docs.jsonl", rows))}
    result, final = run(configure("nemotron_cc.yaml", server, load, max_retries=0), tmp_path / "run")
    assert rejections(result, "rephrase") == {
        "post_process_rejected": 1,  # an answer without the "Here is a paraphrased text:" lead-in
        "request_failed (BadRequestError)": 1,
        "empty_document": 1,
    }
    sources = {json.loads(provenance)["rephrase"]["source_id"] for provenance in final["provenance"]}
    assert sources == {f"doc{i}" for i in range(5)}


def test_preference_failures_are_counted_and_absent(server: FakeLLMServer, tmp_path: Path) -> None:
    rows = [{"id": f"ok{i}", "instruction": f"Suggest a name for a bakery in town {i}."} for i in range(6)]
    rows += [{"id": "break", "instruction": "BREAK this"}, {"id": "judge", "instruction": "JUDGEFAIL topic"}]
    load = {"path": str(write_jsonl(tmp_path / "instructions.jsonl", rows)), "columns": ["id", "instruction"]}
    config = configure("preference.yaml", server, load, max_retries=0)
    stages = [*config.stages[:1], {**config.stages[1], "min_margin": 0.0}, *config.stages[2:]]
    result, final = run(config.model_copy(update={"stages": stages}), tmp_path / "run")
    counts = rejections(result, "preference")
    assert counts.pop("generation_failed (BadRequestError)") == 1
    assert counts.pop("scoring_failed (ResponseParseError)") == 1
    assert set(counts) <= {"no_pair"}
    parents = {json.loads(provenance)["parent_id"] for provenance in final["provenance"]}
    assert len(parents) + counts.get("no_pair", 0) == 6
    assert parents <= {f"ok{i}" for i in range(6)}


def test_server_faults_are_retried_and_nothing_is_lost(tmp_path: Path) -> None:
    faults = Faults(server_error=0.25, rate_limit=0.1, retry_after=0.0, seed=3)
    with FakeLLMServer(responder=Plausible(), faults=faults) as faulty:
        config = configure("dialogue.yaml", faulty, {"limit": 8}, max_retries=8)
        result, final = run(config, tmp_path / "run")
        injected = faulty.stats()["faults"]
    assert injected["500"] + injected["429"] > 0
    assert len(final) == 8
    assert not rejections(result, "dialogue")


def test_preference_task_with_seeds_and_heuristic_scores(tmp_path: Path) -> None:
    import asyncio

    from curator_synth import AsyncOpenAIClient
    from curator_synth.pipeline.record_tasks import PreferenceTask

    def by_seed(request: FakeRequest) -> str:  # seed 7 answers well, seed 8 refuses
        if request.body.get("seed") == 7:
            return "Rome became the capital of Italy in 1871, after the Capture of Rome ended the Papal States."
        return "Sorry, I can't help with that."

    frame = pd.DataFrame({"id": ["q"], "instruction": ["When did Rome become the capital of Italy?"], "input": [""]})
    task = PreferenceTask("writer", n_responses=2, sampling="seeds", seed=7, mode="heuristic")

    async def main(url: str) -> pd.DataFrame:
        async with AsyncOpenAIClient(base_url=url, api_key="sk-test") as client:
            return await task(frame, client)

    with FakeLLMServer(responder=by_seed) as fake:
        out = asyncio.run(main(fake.base_url))
        assert fake.stats()["requests"] == 2  # one request per seed, no judge request in heuristic mode
    (row,) = out.to_dict("records")
    assert row["llm_error"] is None
    assert row["chosen"].startswith("Rome")
    assert row["rejected"].startswith("Sorry")
    assert row["margin"] > 0
    assert [json.loads(row["provenance"])[side]["sample"] for side in ("chosen", "rejected")] == [0, 1]


# ------------------------------------------------------------------------------------------------ options
@pytest.mark.parametrize(
    ("stage", "key", "message"),
    [
        ("dialogue", "n_user_turn: 2", "stages[1].n_user_turn: unknown key"),
        ("rephrase", "methd: distill", "stages[1].methd: unknown key"),
        ("preference", "n_respones: 3", "stages[1].n_respones: unknown key"),
        ("preference", "n_responses: 1", "stages[1].n_responses: Input should be greater than or equal to 2"),
        ("rephrase", "method: summary", "stages[1].method: Value error, unknown method 'summary'; known: distill"),
        ("preference", "strategy: best", "stages[1].strategy: Value error, unknown pair strategy 'best'"),
        ("dialogue", "user_template: 'Reply to {chat}'", "stages[1].user_template: Value error, the template must"),
    ],
)
def test_bad_stage_options_name_the_key_path(tmp_path: Path, stage: str, key: str, message: str) -> None:
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        f"name: x\nmodel: m\nstages:\n  - stage: load\n    path: a.jsonl\n  - stage: {stage}\n    {key}\n"
    )
    with pytest.raises(ConfigError) as error:
        load_config(recipe)
    assert f"recipe.yaml:7: {message}" in str(error.value)
