"""The three reward modes against the loopback server: formulas, validation, repairs, errors (never a zero)."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest

from curator_synth.clients import AsyncOpenAIClient
from curator_synth.errors import ConfigError, NotARewardModelError, ResponseParseError
from curator_synth.filters.quality import quality_score, quality_signals
from curator_synth.reward import (
    ATTRIBUTES,
    JUDGE_WEIGHTS,
    NEMOTRON_WEIGHTS,
    REWARD_MODES,
    AsyncRewardModel,
    RewardScores,
)
from curator_synth.reward.modes import (
    NEMOTRON_NAMESPACE,
    HeuristicScorer,
    JudgeScorer,
    NemotronScorer,
    RewardScorer,
    heuristic_scores,
    judge_answer_schema,
)
from curator_synth.testing import FakeLLMServer, FakeRequest, Fixed, Reward, Scripted

VALID = {"helpfulness": 3, "correctness": 2.5, "coherence": 4, "complexity": 1, "verbosity": 2}
VALID_OVERALL = (0.3 * 3 + 0.3 * 2.5 + 0.2 * 4 + 0.1 * 1 + 0.1 * 2) / 4  # 0.6875
REPAIR = "Your previous reply could not be used"


class Recorder:
    """Answers with ``replies`` in turn (the last one repeats) and keeps every request it saw."""

    def __init__(self, *replies: str) -> None:
        self.replies = replies
        self.seen: list[FakeRequest] = []

    def __call__(self, request: FakeRequest) -> str:
        self.seen.append(request)
        return self.replies[min(len(self.seen), len(self.replies)) - 1]


# ------------------------------------------------------------------------------------------------ registry
def test_the_three_modes_are_registered() -> None:
    assert REWARD_MODES.get("nemotron") is NemotronScorer
    assert REWARD_MODES.get("llm_judge") is JudgeScorer
    assert REWARD_MODES.get("heuristic") is HeuristicScorer
    assert {"nemotron", "llm_judge", "heuristic"} <= set(REWARD_MODES.names())
    assert REWARD_MODES.group == "curator_synth.reward_modes"


def test_unknown_mode_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown reward mode 'gpt_vibes'; known modes: .*heuristic.*llm_judge"):
        AsyncRewardModel(mode="gpt_vibes")


def test_modes_that_send_requests_need_a_client() -> None:
    for mode in ("nemotron", "llm_judge"):
        with pytest.raises(ConfigError, match=f"reward mode '{mode}' sends requests: pass a client"):
            AsyncRewardModel(mode=mode)
    assert AsyncRewardModel(mode="heuristic").mode == "heuristic"


async def test_a_registered_custom_mode_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    class Constant(RewardScorer):
        mode: ClassVar[str] = "constant"
        needs_client = False
        needs_model = False

        async def score(self, instruction: str, response: str, *, model: str | None) -> RewardScores:
            return RewardScores(1, 1, 1, 1, 1, overall=len(response), mode=self.mode)

    monkeypatch.setitem(REWARD_MODES._items, "constant_test", Constant)
    scores = await AsyncRewardModel(mode="constant_test").evaluate("q", "four")
    assert (scores.overall, scores.mode) == (4, "constant")


def test_bad_options_fail_at_construction() -> None:
    with pytest.raises(ConfigError, match="unknown reward attribute"):
        AsyncRewardModel(mode="heuristic", weights={"charm": 1.0})
    with pytest.raises(ConfigError, match="all zero"):
        AsyncRewardModel(mode="heuristic", weights={"helpfulness": 0})
    with pytest.raises(ConfigError, match="finite number"):
        AsyncRewardModel(mode="heuristic", weights={"helpfulness": True})
    with pytest.raises(ConfigError, match="structured_mode"):
        AsyncRewardModel(mode="heuristic", structured_mode="xml")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="max_repairs"):
        AsyncRewardModel(mode="heuristic", max_repairs=-1)
    with pytest.raises(ConfigError, match="rationale"):
        AsyncRewardModel(mode="heuristic", rationale="yes")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ nemotron
async def test_nemotron_overall_is_the_model_card_formula() -> None:
    raw = {"helpfulness": 3.1, "correctness": 2.9, "coherence": 3.6, "complexity": 1.4, "verbosity": 1.9}
    seen: list[FakeRequest] = []

    def reward(request: FakeRequest) -> dict[str, float]:
        seen.append(request)
        return raw

    with FakeLLMServer(Reward(reward)) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            judge = AsyncRewardModel(client, "nvidia/nemotron-4-340b-reward")
            scores = await judge.evaluate("What is 2+2?", "4")
    assert seen[0].messages == [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"}]
    assert seen[0].model == "nvidia/nemotron-4-340b-reward"
    assert scores.attributes() == raw
    assert scores.overall == pytest.approx(0.3 * 3.1 + 0.74 * 2.9 + 0.46 * 3.6 + 0.47 * 1.4 - 0.33 * 1.9)
    assert scores.overall == pytest.approx(4.763)
    assert (scores.mode, scores.rationale) == ("nemotron", None)


async def test_nemotron_hash_scores_and_custom_weights() -> None:
    with FakeLLMServer(Reward()) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            default = AsyncRewardModel(client, "rm")
            weighted = AsyncRewardModel(client, "rm", weights={"correctness": 1.0})
            first = await default.evaluate("Name a colour.", "Blue.")
            second = await weighted.evaluate("Name a colour.", "Blue.")
    messages = [{"role": "user", "content": "Name a colour."}, {"role": "assistant", "content": "Blue."}]
    expected = Reward.default_scores(FakeRequest("chat", "rm", messages, "Name a colour.", {}))
    assert first.attributes() == pytest.approx(expected)
    assert first.overall == pytest.approx(sum(NEMOTRON_WEIGHTS[name] * expected[name] for name in ATTRIBUTES))
    assert second.overall == pytest.approx(expected["correctness"])


async def test_nemotron_missing_attribute_is_a_parse_error() -> None:
    with FakeLLMServer(Reward({"helpfulness": 2.0, "correctness": 3.0, "reward": 1.0})) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            judge = AsyncRewardModel(client, "rm")
            with pytest.raises(NotARewardModelError) as caught:
                await judge.evaluate("q", "a")
            result = await judge.evaluate_many([("q", "a"), ("q2", "a2")])
    assert isinstance(caught.value, ResponseParseError)
    assert "['coherence', 'complexity', 'verbosity']" in str(caught.value)
    assert "'rm'" in str(caught.value)
    assert not result.items
    assert [f.index for f in result.failures] == [0, 1]
    assert result.failures[0].reason.startswith("NotARewardModelError: ")


async def test_nemotron_mode_on_a_chat_model_says_it_is_not_a_reward_model() -> None:
    with FakeLLMServer(Fixed("I think it is a fine answer.")) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, max_retries=0) as client:
            with pytest.raises(NotARewardModelError, match="not a reward model"):
                await AsyncRewardModel(client, "chat-model").evaluate("q", "a")


async def test_nemotron_requests_are_journaled_under_their_namespace(tmp_path: Any) -> None:
    with FakeLLMServer(Reward()) as server:
        for _ in range(2):
            async with AsyncOpenAIClient(base_url=server.base_url, cache_dir=tmp_path) as client:
                scores = await AsyncRewardModel(client, "rm").evaluate("q", "a")
        assert server.stats()["requests"] == 1
    assert NEMOTRON_NAMESPACE == "reward.nemotron@1"
    assert scores.mode == "nemotron"


# ----------------------------------------------------------------------------------------------- llm judge
async def test_judge_valid_answer_and_the_request_it_sent() -> None:
    judge_server = Recorder(json.dumps(VALID))
    with FakeLLMServer(judge_server) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            judge = AsyncRewardModel(client, "judge-model", mode="llm_judge", params={"temperature": 0.0})
            scores = await judge.evaluate("Explain {braces} in f-strings.", "Use {{ and }}.")
    assert scores.attributes() == {k: float(v) for k, v in VALID.items()}
    assert scores.overall == pytest.approx(VALID_OVERALL)
    assert (scores.mode, scores.rationale) == ("llm_judge", None)
    (request,) = judge_server.seen
    assert request.body["temperature"] == 0.0
    assert "response_format" not in request.body  # prompt mode: any chat endpoint
    assert request.messages is not None
    system, user = request.messages
    assert "Helpfulness:" in system["content"]
    assert "4: Expert." in system["content"]
    assert "JSON Schema" in system["content"]  # query_structured's prompt-mode instruction
    assert "<instruction>\nExplain {braces} in f-strings.\n</instruction>" in user["content"]
    assert "<response>\nUse {{ and }}.\n</response>" in user["content"]
    assert '"rationale"' not in user["content"]


async def test_judge_json_schema_mode_sends_response_format() -> None:
    judge_server = Recorder(json.dumps(VALID))
    with FakeLLMServer(judge_server) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            judge = AsyncRewardModel(client, "judge-model", mode="llm_judge", structured_mode="json_schema")
            scores = await judge.evaluate("q", "a")
    fmt = judge_server.seen[0].body["response_format"]
    assert fmt["type"] == "json_schema"
    assert set(fmt["json_schema"]["schema"]["required"]) == set(ATTRIBUTES)
    assert scores.overall == pytest.approx(VALID_OVERALL)


async def test_judge_malformed_json_is_repaired() -> None:
    replies = Scripted({REPAIR: json.dumps(VALID)}, default='{"helpfulness": 3, "correctness": ')
    with FakeLLMServer(replies) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            scores = await AsyncRewardModel(client, "j", mode="llm_judge").evaluate("q", "a")
        assert server.stats()["requests"] == 2
    assert scores.overall == pytest.approx(VALID_OVERALL)


@pytest.mark.parametrize(
    "bad",
    [
        {**VALID, "helpfulness": 5},  # out of range
        {**VALID, "verbosity": -0.5},
        {**VALID, "coherence": "4"},  # a string is not a number
        {**VALID, "complexity": True},
        {k: v for k, v in VALID.items() if k != "correctness"},  # missing
    ],
)
async def test_judge_invalid_scores_are_rejected_then_repaired(bad: dict[str, Any]) -> None:
    judge_server = Recorder(json.dumps(bad), json.dumps(VALID))
    with FakeLLMServer(judge_server) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            scores = await AsyncRewardModel(client, "j", mode="llm_judge").evaluate("q", "a")
    assert len(judge_server.seen) == 2
    repair = judge_server.seen[1].messages
    assert repair is not None
    assert repair[-2] == {"role": "assistant", "content": json.dumps(bad)}
    assert REPAIR in repair[-1]["content"]
    assert scores.overall == pytest.approx(VALID_OVERALL)


async def test_judge_that_stays_out_of_range_fails_and_never_scores_zero() -> None:
    judge_server = Recorder(json.dumps({**VALID, "helpfulness": 7}))
    with FakeLLMServer(judge_server) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            judge = AsyncRewardModel(client, "j", mode="llm_judge", max_repairs=1)
            with pytest.raises(ResponseParseError, match="no valid JudgeScores after 2 answer") as caught:
                await judge.evaluate("q", "a")
            result = await judge.evaluate_many([("q", "a")])
    assert len(judge_server.seen) == 4  # 2 answers per pair: the first and one repair
    assert caught.value.raw == json.dumps({**VALID, "helpfulness": 7})
    assert "less than or equal to 4" in str(caught.value)
    assert not result.items
    (failure,) = result.failures
    assert failure.input == ("q", "a")
    assert failure.reason.startswith("ResponseParseError: no valid JudgeScores")


async def test_judge_rationale_is_asked_for_and_required() -> None:
    with_rationale = {**VALID, "rationale": "  Clear and correct, but terse.  "}
    judge_server = Recorder(json.dumps(VALID), json.dumps(with_rationale))
    with FakeLLMServer(judge_server) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            scores = await AsyncRewardModel(client, "j", mode="llm_judge", rationale=True).evaluate("q", "a")
    assert len(judge_server.seen) == 2  # the answer without a rationale was sent back
    first = judge_server.seen[0].messages
    assert first is not None
    assert '"rationale"' in first[-1]["content"]
    assert scores.rationale == "Clear and correct, but terse."
    assert scores.overall == pytest.approx(VALID_OVERALL)


async def test_judge_custom_weights() -> None:
    with FakeLLMServer(Fixed(json.dumps(VALID))) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            judge = AsyncRewardModel(client, "j", mode="llm_judge", weights={"coherence": 1, "verbosity": 1})
            scores = await judge.evaluate("q", "a")
    assert scores.overall == pytest.approx((4 + 2) / 8)


def test_judge_answer_schema() -> None:
    plain, with_rationale = judge_answer_schema(False), judge_answer_schema(True)
    assert judge_answer_schema(False) is plain
    assert set(plain.model_fields) == set(ATTRIBUTES)
    assert set(with_rationale.model_fields) == {*ATTRIBUTES, "rationale"}
    assert plain.model_validate({**VALID, "extra": 1}).model_dump() == VALID
    assert JUDGE_WEIGHTS == {
        "helpfulness": 0.3,
        "correctness": 0.3,
        "coherence": 0.2,
        "complexity": 0.1,
        "verbosity": 0.1,
    }


async def test_judge_and_nemotron_need_a_model() -> None:
    with FakeLLMServer(Fixed(json.dumps(VALID))) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            judge = AsyncRewardModel(client, mode="llm_judge")
            with pytest.raises(ConfigError, match="pass model="):
                await judge.evaluate("q", "a")
            with pytest.raises(ConfigError, match="pass model="):
                await judge.evaluate_many([("q", "a")])
            scores = await judge.evaluate("q", "a", model="per-call")
        assert server.stats()["requests"] == 1
    assert scores.mode == "llm_judge"


# ----------------------------------------------------------------------------------------------- heuristic
async def test_heuristic_overall_is_the_quality_score() -> None:
    instruction = "Write a short email inviting the team to a picnic on Friday."
    good = (
        "Hi team,\n\nLet's celebrate the end of the quarter with a picnic in Riverside Park this Friday at noon. "
        "I'll bring sandwiches and drinks; feel free to bring a dish or a game to share. Please reply by "
        "Wednesday so I know how many people to expect.\n\nSee you there,\nAlex"
    )
    bad = "Input: Write a short email.\nOutput: Write a short email.\nInput: Write a short email.\nOutput:"
    judge = AsyncRewardModel(mode="heuristic", rationale=True)
    good_scores = await judge.evaluate(instruction, good)
    bad_scores = await judge.evaluate(instruction, bad)
    assert good_scores.overall == pytest.approx(quality_score(instruction, good))
    assert bad_scores.overall == pytest.approx(quality_score(instruction, bad))
    assert good_scores.overall > 0.8 > 0.3 > bad_scores.overall
    assert good_scores.helpfulness == pytest.approx(4 * good_scores.overall)
    assert good_scores.coherence == 4.0
    assert bad_scores.coherence < 4.0
    assert all(0.0 <= value <= 4.0 for s in (good_scores, bad_scores) for value in s.attributes().values())
    assert good_scores.verbosity > bad_scores.verbosity
    assert good_scores.rationale == "no problem signal found"
    assert "template" in str(bad_scores.rationale)
    assert good_scores.mode == "heuristic"


def test_heuristic_proxies_follow_their_documented_formulas() -> None:
    scores = heuristic_scores("How many legs does a spider have?", "I'm sorry, but I cannot help with that.")
    signals = quality_signals("How many legs does a spider have?", "I'm sorry, but I cannot help with that.")
    assert signals.refusal == 1.0
    assert scores.correctness == 0.0  # refusal (and no number) is the correctness proxy's business
    assert scores.rationale is None
    empty = heuristic_scores("Say something.", "")
    assert (empty.complexity, empty.verbosity, empty.correctness) == (0.0, 0.0, 0.0)
    long_words = heuristic_scores("Explain.", "Thermodynamic irreversibility characterises entropy production.")
    assert long_words.complexity == 4.0


async def test_heuristic_mode_ignores_a_client_and_sends_nothing() -> None:
    with FakeLLMServer(Fixed("unused")) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            scores = await AsyncRewardModel(client, mode="heuristic").evaluate("Say hi.", "Hi!")
        assert server.stats()["requests"] == 0
    assert 0.0 < scores.overall <= 1.0
