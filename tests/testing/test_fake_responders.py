"""Unit tests of the built-in responders, the fake tokenizer and the Faults config (no sockets)."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

import curator_synth.testing as testing
from curator_synth.errors import ConfigError
from curator_synth.testing import (
    HELPSTEER2_ATTRIBUTES,
    Cycle,
    Echo,
    FakeReply,
    FakeRequest,
    Faults,
    Fixed,
    Reward,
    Scripted,
    count_tokens,
)
from curator_synth.testing.faults import FaultPlan, RollingRateLimiter


def req(prompt: str = "hi", messages: list[dict[str, Any]] | None = None, choice: int = 0) -> FakeRequest:
    messages = messages if messages is not None else [{"role": "user", "content": prompt}]
    body = {"model": "m", "messages": messages}
    return FakeRequest("chat", "m", messages, prompt, body, choice_index=choice, request_number=0)


def test_all_is_complete_and_importable() -> None:
    public = {name for name in dir(testing) if not name.startswith("_")}
    submodules = {"batches", "faults", "hub", "latency", "plausible", "responders", "server", "tiny_lm"}
    assert set(testing.__all__) == public - submodules
    for name in testing.__all__:
        assert getattr(testing, name) is not None


def test_count_tokens_is_whitespace_split() -> None:
    assert count_tokens("") == 0
    assert count_tokens("  one two\n three\tfour  ") == 4


def test_fixed_and_echo() -> None:
    assert Fixed("ok")(req()) == "ok"
    reply = FakeReply("x", finish_reason="length")
    assert Fixed(reply)(req()) is reply
    assert Echo()(req("say this")) == "say this"
    assert Echo(prefix="You said: ")(req("abc")) == "You said: abc"
    with pytest.raises(ConfigError):
        Fixed(3)  # type: ignore[arg-type]


def test_scripted_substring_sequences_and_default() -> None:
    responder = Scripted({"capital": ["Paris", "Rome"], "weather": "sunny"}, default="dunno")
    assert responder(req("the capital of France")) == "Paris"
    assert responder(req("what weather today")) == "sunny"
    assert responder(req("another capital")) == "Rome"
    assert responder(req("capital again")) == "Rome"  # stays on the last item once exhausted
    assert responder(req("nothing matches")) == "dunno"


def test_scripted_first_rule_wins_exact_and_regex() -> None:
    first = Scripted({"a": "rule a", "ab": "rule ab"})
    assert first(req("ab")) == "rule a"
    exact = Scripted({"ab": "exact ab"}, default=Echo(prefix="echo:"), match="exact")
    assert exact(req("ab")) == "exact ab"
    assert exact(req("abc")) == "echo:abc"  # default may be another responder
    regex = Scripted({r"^\d+ \+ \d+$": "a sum"}, match="regex")
    assert regex(req("2 + 3")) == "a sum"
    with pytest.raises(LookupError, match="no Scripted rule matches"):
        regex(req("two plus three"))


def test_scripted_rejects_bad_config() -> None:
    with pytest.raises(ConfigError):
        Scripted({"x": []})
    with pytest.raises(ConfigError):
        Scripted({"(": "y"}, match="regex")
    with pytest.raises(ConfigError):
        Scripted({"x": "y"}, match="fuzzy")  # type: ignore[arg-type]


def test_cycle_cycles_regardless_of_prompt() -> None:
    responder = Cycle(["a", "b", "c"])
    assert [responder(req(p)) for p in "vwxyz"] == ["a", "b", "c", "a", "b"]
    with pytest.raises(ConfigError):
        Cycle([])
    with pytest.raises(ConfigError):
        Cycle("abc")


def test_reward_default_scores_are_helpsteer2_deterministic_and_distinct() -> None:
    reward = Reward()
    one = reward(req(messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a1"}]))
    again = reward(req(messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a1"}]))
    other = reward(req(messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a2"}]))
    assert isinstance(one, FakeReply)
    assert one.text == ""
    assert one.logprobs is not None
    assert other.logprobs is not None
    assert list(one.logprobs) == list(HELPSTEER2_ATTRIBUTES)
    assert all(0.0 <= v <= 4.0 for v in one.logprobs.values())
    assert one.logprobs == again.logprobs
    assert one.logprobs != other.logprobs


def test_reward_fixed_and_callable_scores() -> None:
    assert Reward({"helpfulness": 3.5, "verbosity": 1})(req()).logprobs == {
        "helpfulness": 3.5,
        "verbosity": 1.0,
    }
    by_length = Reward(lambda r: {"length": float(len(r.prompt))})
    assert by_length(req("abcd")).logprobs == {"length": 4.0}


def test_builtin_responders_pickle() -> None:
    for responder in (Fixed("x"), Echo("p"), Scripted({"a": ["b", "c"]}, match="regex"), Cycle(["a"]), Reward()):
        clone = pickle.loads(pickle.dumps(responder))
        assert clone(req("a")) == responder(req("a"))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rate_limit": 1.5},
        {"drop": -0.1},
        {"rate_limit": 0.6, "server_error": 0.5},
        {"script": ["503"]},
        {"script": "429"},
        {"server_error_status": 404},
        {"retry_after": -1},
        {"truncate": True},
        {"trickle": 0.6, "empty_choices": 0.5},
        {"trickle_interval": 0},
        {"trickle_interval": True},
        {"error_body_code": 1.5},
        {"script": ["trickled"]},
    ],
)
def test_faults_validation(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        Faults(**kwargs)
    with pytest.raises(ValueError, match="Faults"):  # ConfigError is a ValueError too
        Faults(**kwargs)


def test_faults_json_roundtrip_and_script_is_a_tuple() -> None:
    faults = Faults(rate_limit=0.25, retry_after=0.5, script=["429", None, "drop"], seed=7)
    assert faults.script == ("429", None, "drop")
    assert Faults.from_json(faults.to_json()) == faults
    new_kinds = Faults(trickle=0.1, error_body=0.1, empty_choices=0.1, trickle_interval=0.2, error_body_code=503)
    assert Faults.from_json(new_kinds.to_json()) == new_kinds


def test_fault_plan_script_then_seeded_draws() -> None:
    faults = Faults(server_error=0.3, malformed=0.2, script=["drop", None], seed=3)
    plan_a, plan_b = FaultPlan(faults), FaultPlan(faults)
    seq_a = [plan_a.draw() for _ in range(400)]
    seq_b = [plan_b.draw() for _ in range(400)]
    assert seq_a[:2] == ["drop", None]
    assert seq_a == seq_b  # same seed, same sequence
    rest = seq_a[2:]
    assert set(rest) == {"500", "malformed", None}
    assert 0.2 < rest.count("500") / len(rest) < 0.4
    assert 0.1 < rest.count("malformed") / len(rest) < 0.3
    assert [FaultPlan(None).draw() for _ in range(5)] == [None] * 5


def test_rolling_rate_limiter_window() -> None:
    limiter = RollingRateLimiter(2, window=60.0)
    first = limiter.acquire(100.0)
    assert first.allowed
    assert first.headers["x-ratelimit-remaining-requests"] == "1"
    assert limiter.acquire(100.5).headers["x-ratelimit-remaining-requests"] == "0"
    refused = limiter.acquire(101.0)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(59.0)  # the 100.0 slot frees at 160.0
    assert refused.headers["Retry-After"] == "59"
    assert refused.headers["x-ratelimit-reset-requests"] == "59.5s"
    assert limiter.acquire(160.05).allowed  # the oldest left the window
    assert not limiter.acquire(160.1).allowed
    refused = limiter.acquire(160.44)
    assert refused.headers["Retry-After"] == "0.1"  # 160.5 - 160.44 rounded up to 0.1
    with pytest.raises(ConfigError):
        RollingRateLimiter(0)
    quiet = RollingRateLimiter(1, window=2.0, headers=False)
    assert quiet.acquire(0.0).headers == {}
    refused = quiet.acquire(1.0)
    assert (refused.allowed, refused.headers, refused.retry_after) == (False, {"Retry-After": "1"}, 1.0)
    assert quiet.acquire(2.0).allowed


def test_plausible_answers_in_the_shape_each_parser_expects() -> None:
    from curator_synth.parsing import parse_list
    from curator_synth.testing import FakeRequest, Plausible

    def ask(prompt: str) -> str:
        return str(Plausible()(FakeRequest("chat", "m", [], prompt, {})))

    tasks = ask("Come up with a series of tasks:\n1. Write a poem.\nList numbered from 9.")
    assert tasks.startswith("9. ")
    assert len(parse_list(tasks)) >= 5
    assert ask("Is it classification? Task: x") in {"Yes", "No"}
    assert ask("same prompt") == ask("same prompt")  # deterministic
    assert "[[A]]" in ask("Answer [[A]] or [[B]].")
