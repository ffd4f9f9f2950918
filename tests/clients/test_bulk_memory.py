"""query_many's memory does not grow with the number of queued requests (``benchmarks/memory_bounded.py``).

Acceptance: with 100,000 vs 1,000,000 requests submitted lazily to a 0-latency server, resident memory after
the first 100,000 completions differs by < 10 % and stays under 1 GB. About 90 s on 2 cores: slow test.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "memory_bounded.py"


def _load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("memory_bounded", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_rss_after_100k_completions_does_not_depend_on_requests_queued() -> None:
    bench = _load_benchmark()
    completions = 100_000
    results = bench.run_benchmark(totals=(100_000, 1_000_000), completions=completions, journal=False)
    small, large = results
    summary = ", ".join(f"{r['total']:,} queued: {r['rss_mb']:.1f} MB in {r['elapsed']:.0f} s" for r in results)
    print(f"\nRSS after {completions:,} completions: {summary}")
    assert [r["completions"] for r in results] == [completions, completions], summary
    assert small["failed"] == large["failed"] == 0, summary
    verdict = bench.verdict(results, completions)
    assert verdict["within_10_percent"], f"RSS ratio {verdict['ratio']:.3f} is not within 10 %: {summary}"
    assert verdict["under_1_gb"], summary
    # laziness itself: the 1,000,000-request generator was pulled only about as far as the completions
    assert large["requests_sent"] <= completions + 2 * 64, large
