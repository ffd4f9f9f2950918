"""The zero-overhead clients that ``benchmarks/recipe_throughput.py`` and ``benchmarks/tail_bound.py`` hold measured
runs against (``benchmarks/_schedule.py``), on chains small enough to schedule by hand, and the latency log those
benchmarks read their chains from (``benchmarks/_workload.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from _schedule import greedy_makespan, littles_law_bound, stagewise_makespan
from _workload import RecordedLatency, read_chains

from curator_synth.testing import FakeLLMServer, LogNormalLatency


def test_one_slot_runs_every_request_in_turn() -> None:
    chains = [[1.0, 2.0], [0.5], [3.0, 0.25]]
    assert greedy_makespan(chains, 1) == pytest.approx(6.75)
    assert littles_law_bound(chains, 1) == pytest.approx(6.75)


def test_enough_slots_leave_only_the_longest_chain() -> None:
    chains = [[1.0, 2.0], [0.5, 0.5], [3.0, 0.25]]
    assert greedy_makespan(chains, 6) == pytest.approx(3.25)
    assert littles_law_bound(chains, 6) == pytest.approx(7.25 / 6)


def test_earlier_stage_first_against_foresight_on_a_hand_scheduled_case() -> None:
    # Two slots. Earlier stage first: r2's first request takes the slot r0 frees at t=1, so r0's 10 s judge waits
    # for r1 to free one at t=2 and ends at 12. Told the latencies, the client sends r0's judge at t=1: 11.
    chains = [[1.0, 10.0], [2.0, 1.0], [2.0, 1.0]]
    assert greedy_makespan(chains, 2) == pytest.approx(12.0)
    assert greedy_makespan(chains, 2, "longest remaining first") == pytest.approx(11.0)


def test_stage_by_stage_waits_for_each_stage_s_slowest_answer() -> None:
    chains = [[3.0, 1.0], [1.0, 3.0]]
    assert stagewise_makespan(chains, 2) == pytest.approx(6.0)  # 3 s for the first stage, then 3 s
    assert greedy_makespan(chains, 2) == pytest.approx(4.0)  # r1's judge starts at 1 s


def test_no_slot_is_an_error() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        greedy_makespan([[1.0]], 0)


def test_the_latency_log_gives_each_record_its_chain_in_order(tmp_path: Path) -> None:
    log = tmp_path / "latencies.jsonl"
    latency = RecordedLatency(LogNormalLatency(median=0.001, sigma=0.5), log)
    with FakeLLMServer(latency=latency) as server:
        for text in ("first (#1)", "second (#0)", "a judge quoting first (#1) and its answer (#7)"):
            body = {"model": "m", "messages": [{"role": "user", "content": text}]}
            assert httpx.post(f"{server.base_url}/chat/completions", json=body).status_code == 200
        added = server.stats()["latency_seconds"]
    chains = read_chains(log)
    assert [len(chain) for chain in chains] == [1, 2]
    assert sum(map(sum, chains)) == pytest.approx(added, abs=1e-5)
    log.write_text(log.read_text() + "[-1, 0.5]\n")
    with pytest.raises(ValueError, match=r"latencies.jsonl:4: .*no \(#<record>\)"):
        read_chains(log)
