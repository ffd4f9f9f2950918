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

``ideal`` holds each run against a client that costs nothing, on that run's own latencies (``_schedule.py``): the
first request to the last answer for one that never idles a slot while a request is ready and, like every real
client, learns a latency only when the answer comes. ``foresight`` is the same client told every latency in
advance. ``ideal / bound`` is what the tail alone costs; ``wall / ideal`` what this client costs on top of it.
The last line gives how much faster the zero-overhead client is streamed than stage by stage on the same latencies:
the most any client's streaming can gain there.

    python benchmarks/recipe_throughput.py                    # 1,000 records, C=64, 2 runs of each
    python benchmarks/recipe_throughput.py --records 10000 --runs 1
    python benchmarks/recipe_throughput.py --seed 1           # another draw of the latencies
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from _schedule import greedy_makespan, stagewise_makespan
from _workload import RecordedLatency, read_chains, run_timed, write_recipe

from curator_synth.testing import FakeLLMServer, LogNormalLatency, Plausible

VARIANTS = {"streamed": [], "streaming: false": ["--set", "streaming=false"]}


def run_once(recipe: Path, server: FakeLLMServer, extra: list[str], log: Path, concurrency: int) -> dict[str, Any]:
    """One ``curator-synth run`` of ``recipe``, timed (:func:`_workload.run_timed`), with the zero-overhead
    client's time on the latencies the server logged to ``log``."""
    log.write_text("")
    with tempfile.TemporaryDirectory() as temp:
        command = [sys.executable, "-m", "curator_synth.cli", "run", str(recipe), "--output-dir", f"{temp}/run",
                   "--base-url", server.base_url, "--model", "any", *extra]  # fmt: skip
        result: dict[str, Any] = run_timed(command, server, dict(os.environ), Path(temp))
    chains = read_chains(log)
    result["ideal"] = greedy_makespan(chains, concurrency)
    result["foresight"] = greedy_makespan(chains, concurrency, "longest remaining first")
    result["ideal_stagewise"] = stagewise_makespan(chains, concurrency)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--only", choices=list(VARIANTS), default=None)
    parser.add_argument("--seed", type=int, default=0, help="another draw of the latencies (LogNormalLatency seed)")
    args = parser.parse_args()
    latency = LogNormalLatency(median=0.4, sigma=1.0, seed=args.seed)
    variants = {args.only: VARIANTS[args.only]} if args.only else VARIANTS
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as temp:
        log = Path(temp) / "latencies.jsonl"
        recipe = write_recipe(Path(temp), args.records, args.concurrency)
        with FakeLLMServer(Plausible(), latency=RecordedLatency(latency, log), mode="process") as server:
            for _ in range(args.runs):
                for name, extra in variants.items():
                    results[name].append(run_once(recipe, server, extra, log, args.concurrency))
                    print(f"  {name}: {results[name][-1]}", file=sys.stderr)
    print(f"load -> responses -> score (llm_judge), {args.records:,} records, C={args.concurrency}, lognormal median "
          f"{latency.median} s, sigma {latency.sigma}, seed {latency.seed}; {args.runs} run(s) of each")  # fmt: skip
    print(f"{'variant':<20}{'wall s':>8}{'bound s':>9}{'requests':>10}{'first sent':>12}{'last sent':>11}"
          f"{'last answer':>13}{'longest':>9}{'ideal s':>9}{'foresight s':>13}{'ideal / bound':>15}"
          f"{'wall / ideal':>14}{'wall / bound':>14}")  # fmt: skip
    walls = {}
    for name, runs in results.items():
        wall = statistics.median(run["wall"] for run in runs)
        bound = statistics.median(run["latency"] for run in runs) / args.concurrency
        requests = int(statistics.median(run["requests"] for run in runs))
        keys = ("first_sent", "last_sent", "last_answer", "longest", "ideal", "foresight")
        first, last, answered, longest, ideal, foresight = (statistics.median(run[key] for run in runs) for key in keys)
        walls[name] = wall
        print(f"{name:<20}{wall:>8.1f}{bound:>9.1f}{requests:>10,}{first:>12.1f}{last:>11.1f}{answered:>13.1f}"
              f"{longest:>9.1f}{ideal:>9.1f}{foresight:>13.1f}{ideal / bound:>15.2f}{wall / ideal:>14.2f}"
              f"{wall / bound:>14.2f}")  # fmt: skip
    if len(walls) == 2:
        print(f"streamed is {walls['streaming: false'] / walls['streamed']:.2f}x faster than streaming: false")
    runs = next(iter(results.values()))
    gain = statistics.median(run["ideal_stagewise"] / run["ideal"] for run in runs)
    print(f"the zero-overhead client, on the same latencies: streamed {gain:.2f}x faster than stage by stage")


if __name__ == "__main__":
    main()
