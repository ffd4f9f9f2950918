"""A whole recipe against an endpoint with heavy-tailed latency, as a user runs it: ``curator-synth run`` of
load (N instructions) -> ``responses`` -> ``score`` (llm_judge), ``max_concurrency`` C, against a FakeLLMServer in
its own process whose latency is lognormal (median 0.4 s, sigma 1: mean ~0.66 s), drawn from each request's
content so every variant meets the same latencies.

The bound is Little's law: the sum of the latencies the server added, divided by C — no client sending C
requests at a time can finish sooner. Each variant is timed from the command's start to its exit (start-up,
load, both stages, final dataset, exports, report) and given as a ratio to the bound measured in the same run:

- streamed (the default): the two LLM stages as one chain, record by record;
- ``streaming: false``: stage by stage, each over every partition before the next starts.

``first sent`` / ``last sent`` are when the first and the last request reached the server, ``last answer`` when
the last answer left it (seconds from the command's start): before the first, the command starts (imports, the
load stage); after the last is sent, the run waits for the slowest answers still out (the tail of the latency
distribution: ``longest`` is the longest single latency), then writes its dataset, exports and report.

    python benchmarks/recipe_throughput.py                    # 1,000 records, C=64, 2 runs of each
    python benchmarks/recipe_throughput.py --records 10000 --runs 1
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _workload import write_recipe

from curator_synth.testing import FakeLLMServer, LogNormalLatency, Plausible

VARIANTS = {"streamed": [], "streaming: false": ["--set", "streaming=false"]}


def run_once(recipe: Path, server: FakeLLMServer, extra: list[str]) -> dict[str, float]:
    """Wall seconds, the server's summed and longest latency and requests, and when the first and the last request
    reached the server and the last was answered (from the command's start: polled every 0.2 s)."""
    server.reset_stats()
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "curator_synth.cli", "run", str(recipe), "--output-dir", out,
                   "--base-url", server.base_url, "--model", "any", *extra]  # fmt: skip
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = last = answered = 0.0
        seen = done = 0
        while process.poll() is None:
            stats = server.stats()
            now = time.perf_counter() - started
            if stats["requests"] != seen:
                first, last, seen = first or now, now, stats["requests"]
            if stats["responses_ok"] != done:
                answered, done = now, stats["responses_ok"]
            time.sleep(0.2)
        wall = time.perf_counter() - started
        stdout, stderr = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"the run failed ({process.returncode}):\n{stdout[-3000:]}\n{stderr[-3000:]}")
    stats = server.stats()
    return {
        "wall": wall, "latency": stats["latency_seconds"], "longest": stats["latency_max"],
        "requests": stats["requests"], "first_sent": first, "last_sent": last, "last_answered": answered,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--only", choices=list(VARIANTS), default=None)
    args = parser.parse_args()
    latency = LogNormalLatency(median=0.4, sigma=1.0)
    variants = {args.only: VARIANTS[args.only]} if args.only else VARIANTS
    results: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as temp, FakeLLMServer(Plausible(), latency=latency, mode="process") as server:
        recipe = write_recipe(Path(temp), args.records, args.concurrency)
        for _ in range(args.runs):
            for name, extra in variants.items():
                results[name].append(run_once(recipe, server, extra))
                print(f"  {name}: {results[name][-1]}", file=sys.stderr)
    print(f"load -> responses -> score (llm_judge), {args.records:,} records, C={args.concurrency}, "
          f"lognormal median {latency.median} s, sigma {latency.sigma}; {args.runs} run(s) of each")  # fmt: skip
    print(f"{'variant':<20}{'wall s':>8}{'bound s':>9}{'requests':>10}{'first sent':>12}{'last sent':>11}"
          f"{'last answer':>13}{'longest':>9}{'wall / bound':>14}")  # fmt: skip
    walls = {}
    for name, runs in results.items():
        wall = statistics.median(run["wall"] for run in runs)
        bound = statistics.median(run["latency"] for run in runs) / args.concurrency
        requests = int(statistics.median(run["requests"] for run in runs))
        keys = ("first_sent", "last_sent", "last_answered", "longest")
        first, last, answered, longest = (statistics.median(run[key] for run in runs) for key in keys)
        walls[name] = wall
        print(f"{name:<20}{wall:>8.1f}{bound:>9.1f}{requests:>10,}{first:>12.1f}{last:>11.1f}{answered:>13.1f}"
              f"{longest:>9.1f}{wall / bound:>14.2f}")  # fmt: skip
    if len(walls) == 2:
        print(f"streamed is {walls['streaming: false'] / walls['streamed']:.2f}x faster than streaming: false")


if __name__ == "__main__":
    main()
