"""RewardModel's API against the loopback server: bulk scoring with the journal, datasets, mode switching, sync."""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from curator_synth.clients import AsyncOpenAIClient, OpenAIClient
from curator_synth.dataset import DocumentDataset
from curator_synth.errors import AuthenticationError, ConfigError
from curator_synth.reward import (
    ATTRIBUTES,
    JUDGE_WEIGHTS,
    AsyncRewardModel,
    RewardModel,
    RewardScores,
    weighted_overall,
)
from curator_synth.reward.model import CONFIG_KEYS
from curator_synth.testing import FakeLLMServer, FakeRequest, Reward

INSTRUCTION = re.compile(r"<instruction>\n(.*?)\n</instruction>", re.S)
REPAIR = "Your previous reply could not be used"


def hashed_judge(request: FakeRequest) -> str:
    """A judge whose scores (halves in 0..4) follow from the instruction; "broken" instructions get 9s forever."""
    match = INSTRUCTION.search(request.prompt)
    if match is None:  # a repair request: find the instruction in the first user turn
        assert request.messages is not None
        assert REPAIR in request.prompt
        match = INSTRUCTION.search(request.messages[1]["content"])
        assert match is not None
    instruction = match.group(1)
    digest = hashlib.sha256(instruction.encode()).digest()
    scores: dict[str, Any] = {name: digest[i] % 9 / 2 for i, name in enumerate(ATTRIBUTES)}
    if "broken" in instruction:
        scores["helpfulness"] = 9
    if request.messages is not None and '"rationale"' in request.messages[1]["content"]:
        scores["rationale"] = f"about {instruction}"
    return json.dumps(scores)


def expected_judge_scores(instruction: str) -> dict[str, float]:
    digest = hashlib.sha256(instruction.encode()).digest()
    return {name: digest[i] % 9 / 2 for i, name in enumerate(ATTRIBUTES)}


# -------------------------------------------------------------------------------------- bulk + journal
async def test_2000_judge_calls_and_a_rerun_from_the_journal_costs_nothing(tmp_path: Path) -> None:
    pairs = [(f"Instruction number {k}: explain topic {k % 37}.", f"Response {k}.") for k in range(2000)]
    runs: list[tuple[int, list[RewardScores]]] = []
    with FakeLLMServer(hashed_judge, latency=0.002) as server:
        for _ in range(2):
            server.reset_stats()
            async with AsyncOpenAIClient(base_url=server.base_url, max_concurrency=256, cache_dir=tmp_path) as client:
                judge = AsyncRewardModel(client, "judge", mode="llm_judge", max_pending=512)
                result = await judge.evaluate_many(pairs)
            assert result.ok, result.failures[:3]
            runs.append((server.stats()["requests"], result.items))
            if len(runs) == 1:
                assert server.stats()["max_in_flight"] > 32  # the calls really ran concurrently
    (first_cost, first), (second_cost, second) = runs
    assert first_cost == 2000
    assert second_cost == 0
    assert first == second
    for (instruction, _), scores in zip(pairs[:50], first[:50], strict=True):
        expected = expected_judge_scores(instruction)
        assert scores.attributes() == expected
        assert scores.overall == pytest.approx(weighted_overall(expected, JUDGE_WEIGHTS, normalise=True))


async def test_failures_are_reported_per_pair_and_do_not_abort() -> None:
    pairs: list[Any] = [("ok one", "r"), ("broken two", "r"), "not a pair", ("ok four", 4), ("ok five", "r")]
    with FakeLLMServer(hashed_judge) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            judge = AsyncRewardModel(client, "judge", mode="llm_judge", max_repairs=1)
            result = await judge.evaluate_many(pairs)
        assert server.stats()["requests"] == 2 + 2  # two good pairs; the broken one: first answer + one repair
    assert [s.attributes() for s in result.items] == [expected_judge_scores(i) for i in ("ok one", "ok five")]
    assert [(f.index, type(f.error).__name__) for f in result.failures] == [
        (1, "ResponseParseError"),
        (2, "ConfigError"),
        (3, "ConfigError"),
    ]
    assert "less than or equal to 4" in result.failures[0].reason
    assert '"helpfulness": 9' in str(result.failures[0].raw)
    assert "the response must be a string" in result.failures[2].reason


# ------------------------------------------------------------------------------------------------ datasets
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5],
            "instruction": ["ok a", "broken b", "ok c", None, "ok e"],
            "response": ["ra", "rb", "rc", "rd", "re"],
        }
    )


async def test_score_dataset_keeps_partitions_and_marks_failed_rows() -> None:
    dataset = DocumentDataset.from_pandas(frame(), npartitions=2)
    with FakeLLMServer(hashed_judge) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            judge = AsyncRewardModel(client, "judge", mode="llm_judge", max_repairs=0, rationale=True)
            scored = await judge.score_dataset(dataset)
        assert server.stats()["requests"] == 4  # the row without an instruction sent nothing
    assert isinstance(scored, DocumentDataset)
    assert scored.npartitions == 2
    names = [f"reward_{name}" for name in (*ATTRIBUTES, "overall")]
    assert scored.columns == ["id", "instruction", "response", *names, "reward_rationale", "reward_error"]
    out = scored.to_pandas()
    assert list(out["id"]) == [1, 2, 3, 4, 5]
    for row in (0, 2, 4):
        instruction = out["instruction"].iloc[row]
        expected = expected_judge_scores(instruction)
        assert {name: out[f"reward_{name}"].iloc[row] for name in ATTRIBUTES} == expected
        assert out["reward_overall"].iloc[row] == pytest.approx(
            weighted_overall(expected, JUDGE_WEIGHTS, normalise=True)
        )
        assert out["reward_rationale"].iloc[row] == f"about {instruction}"
        assert out["reward_error"].iloc[row] is None
    for row in (1, 3):
        assert all(math.isnan(out[name].iloc[row]) for name in names)  # NaN, never a made-up 0
        assert out["reward_rationale"].iloc[row] is None
    assert out["reward_error"].iloc[1].startswith("ResponseParseError: no valid JudgeScoresWithRationale")
    assert out["reward_error"].iloc[3].startswith("ConfigError: the instruction must be a string")
    assert out["reward_error"].notna().sum() == 2


async def test_score_dataset_takes_and_returns_a_pandas_frame_with_custom_names() -> None:
    data = frame().rename(columns={"instruction": "prompt", "response": "answer"}).iloc[[0, 2]]
    judge = AsyncRewardModel(mode="heuristic")
    scored = await judge.score_dataset(data, "prompt", "answer", prefix="q_")
    assert isinstance(scored, pd.DataFrame)
    assert list(scored.index) == [0, 2]
    assert "q_rationale" not in scored.columns
    assert scored["q_error"].isna().all()
    assert scored["q_overall"].between(0, 1).all()
    assert scored["q_helpfulness"].tolist() == pytest.approx((4 * scored["q_overall"]).tolist())
    with pytest.raises(ConfigError, match="no column 'instruction'"):
        await judge.score_dataset(data)
    with pytest.raises(ConfigError, match="DocumentDataset or pandas DataFrame"):
        await judge.score_dataset([("a", "b")])  # type: ignore[arg-type]


async def test_no_secret_in_reported_errors() -> None:
    secret = "sk-test-very-secret-key-0123456789"
    with FakeLLMServer(Reward(), api_key="the-right-key") as server:
        async with AsyncOpenAIClient(base_url=server.base_url, api_key=secret, max_retries=0) as client:
            judge = AsyncRewardModel(client, "rm")
            scored = await judge.score_dataset(frame().iloc[:2])
            with pytest.raises(AuthenticationError) as caught:
                await judge.evaluate("q", "a")
    assert secret not in str(caught.value)
    assert secret not in repr(caught.value)
    assert scored["reward_error"].str.startswith("AuthenticationError").all()
    assert not scored["reward_error"].str.contains(secret).any()


# ---------------------------------------------------------------------------------------- switching modes
def nemotron_or_judge(request: FakeRequest) -> Any:
    """One endpoint that is both: a reward model for [user, assistant] conversations, a judge for the rest."""
    if request.messages is not None and request.messages[-1]["role"] == "assistant":
        return Reward({name: 2.0 for name in ATTRIBUTES})(request)
    return hashed_judge(request)


@pytest.mark.parametrize(
    ("mode", "model", "overall"),
    [
        ("nemotron", "rm", 2.0 * sum((0.3, 0.74, 0.46, 0.47, -0.33))),
        ("llm_judge", "judge", weighted_overall(expected_judge_scores("Name a fruit."), JUDGE_WEIGHTS, normalise=True)),
        ("heuristic", None, None),
    ],
)
async def test_switching_mode_is_one_argument(mode: str, model: str | None, overall: float | None) -> None:
    with FakeLLMServer(nemotron_or_judge) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            judge = AsyncRewardModel(client, model, mode=mode)
            one = await judge.evaluate("Name a fruit.", "An apple.")
            many = await judge.evaluate_many([("Name a fruit.", "An apple.")])
            scored = await judge.score_dataset(
                pd.DataFrame({"instruction": ["Name a fruit."], "response": ["An apple."]})
            )
    assert one.mode == mode
    assert many.items == [one]
    assert scored["reward_overall"].iloc[0] == pytest.approx(one.overall)
    if overall is not None:
        assert one.overall == pytest.approx(overall)
    else:
        assert 0 < one.overall <= 1


async def test_switching_mode_is_one_yaml_line() -> None:
    recipe = "mode: llm_judge\nmodel: scorer\nrationale: true\nmax_repairs: 1\nparams:\n  temperature: 0.0\n"
    results = {}
    with FakeLLMServer(nemotron_or_judge) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            for mode in ("llm_judge", "nemotron", "heuristic"):
                config = yaml.safe_load(recipe.replace("mode: llm_judge", f"mode: {mode}"))
                judge = AsyncRewardModel.from_config(config, client)
                assert (judge.mode, judge.model, judge.params) == (mode, "scorer", {"temperature": 0.0})
                results[mode] = await judge.evaluate("Name a fruit.", "An apple.")
        assert server.stats()["requests"] == 2  # the heuristic sent nothing
    judged, rewarded, offline = results["llm_judge"], results["nemotron"], results["heuristic"]
    assert judged.rationale == "about Name a fruit."
    assert judged.attributes() == expected_judge_scores("Name a fruit.")
    assert rewarded.rationale is None
    assert rewarded.overall == pytest.approx(2.0 * sum((0.3, 0.74, 0.46, 0.47, -0.33)))
    assert offline.rationale == "quality signals: brevity 0.33"  # a two-word answer
    assert AsyncRewardModel.from_config(yaml.safe_load("mode: heuristic")).mode == "heuristic"
    with pytest.raises(ConfigError, match=r"unknown reward model setting\(s\) \['temprature'\]"):
        AsyncRewardModel.from_config({"mode": "heuristic", "temprature": 1})
    with pytest.raises(ConfigError, match="must be a mapping"):
        AsyncRewardModel.from_config(["mode", "heuristic"])  # type: ignore[arg-type]
    assert "mode" in CONFIG_KEYS


# ----------------------------------------------------------------------------------------------------- sync
def test_sync_reward_model() -> None:
    with FakeLLMServer(nemotron_or_judge) as server, OpenAIClient(base_url=server.base_url) as client:
        judge = RewardModel(client, "judge", mode="llm_judge")
        one = judge.evaluate("Name a fruit.", "An apple.")
        many = judge.evaluate_many([("Name a fruit.", "An apple."), ("broken", "x")])
        scored = judge.score_dataset(DocumentDataset.from_pandas(frame(), npartitions=3))
        configured = RewardModel.from_config({"mode": "nemotron", "model": "judge"}, client)
        rewarded = configured.evaluate("q", "a")
    assert one.attributes() == expected_judge_scores("Name a fruit.")
    assert many.items == [one]
    assert [f.index for f in many.failures] == [1]
    assert isinstance(scored, DocumentDataset)
    assert scored.npartitions == 3
    assert scored.to_pandas()["reward_error"].notna().tolist() == [False, True, False, True, False]
    assert type(configured).__name__ == "RewardModel"
    assert rewarded.overall == pytest.approx(2.0 * 1.64)
    assert RewardModel.evaluate.__doc__ == AsyncRewardModel.evaluate.__doc__
    assert RewardModel(mode="heuristic").evaluate("Say hi.", "Hi!").mode == "heuristic"
