"""The pairwise judge against FakeLLMServer over real sockets: both orders asked, position bias caught by the
swap check, consistent verdicts and ties, repairs of unreadable answers, failures reported, the journal, the
blocking twin; and the verdict parser on its own."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from curator_synth.clients import AsyncOpenAIClient, OpenAIClient
from curator_synth.errors import ConfigError, ResponseParseError
from curator_synth.prompts import PROMPTS
from curator_synth.prompts.pairwise import PAIRWISE_COMPARE, PAIRWISE_REPAIR, PAIRWISE_SYSTEM_PROMPT
from curator_synth.reward import PairwiseJudge as ExportedJudge
from curator_synth.reward.pairwise import (
    AsyncPairwiseJudge,
    PairwiseJudge,
    PairwiseReport,
    PairwiseVerdict,
    parse_verdict,
)
from curator_synth.testing import FakeLLMServer, FakeRequest, Fixed

MARKER = "PREFERRED"
BLOCK = re.compile(r"\[The Start of Assistant (A|B)'s Response\]\n(.*?)\n\[The End of Assistant \1's Response\]", re.S)


def shown(request: FakeRequest) -> dict[str, str]:
    """The two responses of a pairwise prompt by the label they were shown under."""
    blocks = dict(BLOCK.findall(request.prompt))
    assert set(blocks) == {"A", "B"}, request.prompt[:300]
    return blocks


def marker_judge(request: FakeRequest) -> str:
    """A fair judge: prefers the response holding MARKER wherever it is shown; both or neither is a tie."""
    blocks = shown(request)
    has = [label for label in ("A", "B") if MARKER in blocks[label]]
    token = has[0] if len(has) == 1 else "C"
    return f"Comparing both: one of them is clearly better.\n\n[[{token}]]"


PAIRS = [
    ("Name a planet.", "Mars.", f"Jupiter. {MARKER}"),
    ("Name a colour.", f"Red. {MARKER}", "Blue."),
    ("Name a metal.", "Iron.", f"Copper. {MARKER}"),
]


async def test_a_position_biased_judge_yields_no_usable_verdict() -> None:
    with FakeLLMServer(Fixed("Assistant A is more detailed. [[A]]")) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            judge = AsyncPairwiseJudge(client, "judge", params={"temperature": 0})
            result = await judge.compare_many(PAIRS)
        stats = server.stats()
    assert stats["requests"] == 2 * len(PAIRS)  # each pair asked in both orders
    assert result.ok
    assert [verdict.consistent for verdict in result.items] == [False, False, False]
    assert [verdict.winner for verdict in result.items] == [None, None, None]
    assert all(verdict.first == verdict.second == "A" for verdict in result.items)
    assert result.items[0].votes == ("a", "b")
    report = PairwiseReport.from_result(result)
    assert report.agreement_rate == 0.0
    assert (report.judged, report.consistent, report.inconsistent, report.failed) == (3, 0, 3, 0)
    assert report.first_position_rate == 1.0


async def test_a_consistent_judge_gives_winners_by_response_not_by_position() -> None:
    seen: list[dict[str, str]] = []

    def judge(request: FakeRequest) -> str:
        seen.append(shown(request))
        return marker_judge(request)

    with FakeLLMServer(judge) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            result = await AsyncPairwiseJudge(client, "judge").compare_many(PAIRS)
    assert [verdict.winner for verdict in result.items] == ["b", "a", "b"]
    first = result.items[0]
    assert (first.consistent, first.first, first.second) == (True, "B", "A")
    lead = "Comparing both: one of them is clearly better.\n\n"
    assert first.raws == (lead + "[[B]]", lead + "[[A]]")
    # both orders were really sent: each response appeared once as A and once as B
    for instruction, a, b in PAIRS:
        assert {"A": a, "B": b} in seen, instruction
        assert {"A": b, "B": a} in seen, instruction
    report = PairwiseReport.from_result(result)
    assert (report.agreement_rate, report.wins_a, report.wins_b, report.ties) == (1.0, 1, 2, 0)
    assert report.first_position_rate == 0.5
    assert first.provenance["template"] == "pairwise.compare"
    assert first.provenance["repairs"] == [0, 0]


async def test_ties_agree_and_a_tie_against_a_win_is_inconsistent() -> None:
    def judge(request: FakeRequest) -> str:
        blocks = shown(request)
        if "lean" in request.prompt:  # ties when "first" is shown first, prefers "first" when it is second
            return "[[C]]" if blocks["A"] == "first" else "[[B]]"
        return marker_judge(request)

    with FakeLLMServer(judge) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            judge_ = AsyncPairwiseJudge(client, "judge")
            tie = await judge_.compare("Say hi.", f"Hi. {MARKER}", f"Hello. {MARKER}")
            lean = await judge_.compare("Say hi, lean.", "first", "second")
    assert (tie.winner, tie.consistent, tie.first, tie.second) == ("tie", True, "tie", "tie")
    assert (lean.winner, lean.consistent, lean.votes) == (None, False, ("tie", "a"))
    report = PairwiseReport.from_result([tie, lean])
    assert (report.judged, report.consistent, report.ties, report.agreement_rate) == (2, 1, 1, 0.5)


async def test_an_unreadable_verdict_is_repaired_in_the_same_conversation() -> None:
    requests: list[FakeRequest] = []

    def judge(request: FakeRequest) -> str:
        requests.append(request)
        if request.prompt == PAIRWISE_REPAIR.text:
            return "[[B]]" if MARKER in shown_in_history(request)["B"] else "[[A]]"
        return "Both responses have merits and I cannot say more."

    with FakeLLMServer(judge) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            verdict = await AsyncPairwiseJudge(client, "judge").compare("Name a planet.", "Mars.", f"Venus {MARKER}")
    assert (verdict.winner, verdict.consistent) == ("b", True)
    assert verdict.raws == ("[[B]]", "[[A]]")
    assert verdict.provenance["repairs"] == [1, 1]
    assert len(requests) == 4
    repairs = [r for r in requests if r.prompt == PAIRWISE_REPAIR.text]
    assert len(repairs) == 2
    for request in repairs:
        assert request.messages is not None
        assert [m["role"] for m in request.messages] == ["system", "user", "assistant", "user"]
        assert request.messages[0]["content"] == PAIRWISE_SYSTEM_PROMPT
        assert request.messages[2]["content"] == "Both responses have merits and I cannot say more."


def shown_in_history(request: FakeRequest) -> dict[str, str]:
    assert request.messages is not None
    return dict(BLOCK.findall(request.messages[1]["content"]))


async def test_an_answer_that_stays_unreadable_fails_and_is_reported_not_tied() -> None:
    def judge(request: FakeRequest) -> str:
        if any("colour" in message["content"] for message in request.messages or []):
            return "No idea, honestly."  # to the question and to every repair request
        return marker_judge(request)

    with FakeLLMServer(judge) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            judge_ = AsyncPairwiseJudge(client, "judge", max_repairs=2)
            result = await judge_.compare_many(PAIRS)
            with pytest.raises(ResponseParseError, match="after 0 repair") as raised:
                await AsyncPairwiseJudge(client, "judge", max_repairs=0).compare(*PAIRS[1])
    assert [verdict.instruction for verdict in result.items] == ["Name a planet.", "Name a metal."]
    (failure,) = result.failures
    assert failure.index == 1
    assert failure.input == PAIRS[1]
    assert isinstance(failure.error, ResponseParseError)
    assert "after 2 repair(s)" in failure.reason
    assert failure.raw == "No idea, honestly."
    assert raised.value.raw == "No idea, honestly."
    report = PairwiseReport.from_result(result)
    assert (report.judged, report.failed, report.agreement_rate) == (2, 1, 1.0)


async def test_json_verdicts_and_item_provenance() -> None:
    def judge(request: FakeRequest) -> str:
        label = "A" if MARKER in shown(request)["A"] else "B"
        return f'```json\n{{"reason": "clearer", "verdict": "{label}"}}\n```'

    item = {
        "instruction": "Name a planet.",
        "response_a": f"Saturn {MARKER}",
        "response_b": "Pluto",
        "provenance_a": {"id": "r1", "model": "big"},
        "provenance_b": {"id": "r2", "model": "small"},
    }
    with FakeLLMServer(judge) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            result = await AsyncPairwiseJudge(client, "judge").compare_many([item])
    (verdict,) = result.items
    assert verdict.winner == "a"
    assert verdict.provenance_a == {"id": "r1", "model": "big"}
    assert verdict.provenance_b == {"id": "r2", "model": "small"}


async def test_a_rerun_is_answered_from_the_journal(tmp_path: Path) -> None:
    with FakeLLMServer(marker_judge) as server:
        costs, winners = [], []
        for _ in range(2):
            server.reset_stats()
            async with AsyncOpenAIClient(base_url=server.base_url, cache_dir=tmp_path) as client:
                result = await AsyncPairwiseJudge(client, "judge").compare_many(PAIRS)
            costs.append(server.stats()["requests"])
            winners.append([verdict.winner for verdict in result.items])
    assert costs == [6, 0]
    assert winners[0] == winners[1] == ["b", "a", "b"]


async def test_bad_items_are_reported_and_bad_setup_raised() -> None:
    with FakeLLMServer(marker_judge) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            judge = AsyncPairwiseJudge(client, "judge")
            items: list[Any] = [
                PAIRS[0],
                ("", "a", "b"),
                {"instruction": "Q", "response_a": "x"},
                ("Q", "a"),
                ("Q", 1, "b"),
                {"instruction": "Q", "response_a": "x", "response_b": "y", "provenance_a": "gpt-4"},
            ]
            result = await judge.compare_many(items)
            assert [f.index for f in result.failures] == [1, 2, 3, 4, 5]
            assert all(isinstance(f.error, ConfigError) for f in result.failures)
            assert "missing ['response_b']" in result.failures[1].reason
            assert "provenance_a must be a mapping" in result.failures[4].reason
            with pytest.raises(ConfigError, match="model"):
                await AsyncPairwiseJudge(client).compare_many(PAIRS)
            with pytest.raises(ConfigError, match="placeholders"):
                AsyncPairwiseJudge(client, "judge", prompt_template="Which is better, {response_a} or {response_b}?")
            with pytest.raises(ConfigError, match="max_repairs"):
                AsyncPairwiseJudge(client, "judge", max_repairs=-1)
    assert len(result.items) == 1


async def test_a_custom_template_string() -> None:
    seen: list[str] = []

    def judge(request: FakeRequest) -> str:
        seen.append(request.prompt)
        return "[[A]]" if request.prompt.startswith("Q: x | A: good") else "[[B]]"

    template = "Q: {instruction} | A: {response_a} | B: {response_b}. Answer [[A]], [[B]] or [[C]]."
    with FakeLLMServer(judge) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            verdict = await AsyncPairwiseJudge(client, "judge", prompt_template=template).compare("x", "good", "bad")
    assert verdict.winner == "a"
    assert set(seen) == {
        "Q: x | A: good | B: bad. Answer [[A]], [[B]] or [[C]].",
        "Q: x | A: bad | B: good. Answer [[A]], [[B]] or [[C]].",
    }
    assert verdict.provenance["template"].startswith("pairwise.custom.")


def test_blocking_twin() -> None:
    with FakeLLMServer(marker_judge) as server, OpenAIClient(base_url=server.base_url) as client:
        judge = PairwiseJudge(client, "judge")
        verdict = judge.compare(*PAIRS[0])
        result = judge.compare_many(PAIRS[1:])
    assert isinstance(verdict, PairwiseVerdict)
    assert verdict.winner == "b"
    assert verdict.provenance["generator"] == "PairwiseJudge"
    assert [v.winner for v in result.items] == ["a", "b"]
    assert ExportedJudge is PairwiseJudge
    assert PairwiseJudge.compare.__doc__ == AsyncPairwiseJudge.compare.__doc__


def test_templates_are_registered() -> None:
    assert PROMPTS.get("pairwise.compare") is PAIRWISE_COMPARE
    assert PROMPTS.get("pairwise.repair") is PAIRWISE_REPAIR
    assert PAIRWISE_COMPARE.fields == {"instruction", "response_a", "response_b"}
    assert PAIRWISE_COMPARE.namespace == "pairwise.compare@1"


# ------------------------------------------------------------------------------------------------- parser
@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        ("A is more precise.\n[[A]]", "A"),
        ("[[b]]", "B"),
        ("Equally good. [[C]]", "tie"),
        ("[[ Tie ]]", "tie"),
        ("I must answer [[A]], [[B]] or [[C]]. Having compared them: [[B]]", "B"),  # the last token wins
        ('{"verdict": "tie"}', "tie"),
        ('Reasoning first.\n{"verdict": "Assistant A", "why": "shorter"}', "A"),
        ('{"winner": "b"}', "B"),
        ("Both are decent, but the second is sharper.\n\n**B**", "B"),
        ("Comparison done.\nVerdict: tie", "tie"),
        ("Final verdict: Assistant A.", "A"),
        ("Compared.\n[A]", "A"),  # single brackets on a line of their own
    ],
)
def test_parse_verdict(answer: str, verdict: str) -> None:
    assert parse_verdict(answer) == verdict


@pytest.mark.parametrize(
    "answer",
    [
        "",
        "Both responses are fine.",
        '{"verdict": "maybe"}',
        '{"score": 3}',
        "A good answer overall.",  # a sentence starting with "A" is not a verdict
        "Neither A nor B answers the question.",
    ],
)
def test_parse_verdict_refuses_answers_without_a_verdict(answer: str) -> None:
    with pytest.raises(ResponseParseError, match="no verdict found") as raised:
        parse_verdict(answer)
    assert raised.value.raw == answer
