"""A whole recipe against an endpoint with heavy-tailed latency, as a user runs it: ``curator-synth run`` of
load (N instructions) -> ``responses`` -> ``score`` (llm_judge), ``max_concurrency`` C, against a FakeLLMServer in
its own process whose latency is lognormal (median 0.4 s, sigma 1: mean ~0.66 s), drawn from each request's
content so every variant meets the same latencies.

The bound is Little's law: the sum of the latencies the server added, divided by C — no client sending C
requests at a time can finish sooner. Each variant is timed from the command's start to its exit (start-up,
load, both stages, final dataset, exports, report) and given as a ratio to the bound measured in the same run:

- streamed (the default): the two LLM stages as one chain, record by record;
- ``streaming: false``: stage by stage, each over every partition before the next starts.

``last sent`` is when the last request reached the server: after it, the run waits for the slowest answers
still out (the tail of the latency distribution) and writes its dataset, exports and report.

    python benchmarks/recipe_throughput.py                    # 1,000 records, C=64, 2 runs of each
    python benchmarks/recipe_throughput.py --records 10000 --runs 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from curator_synth.testing import FakeLLMServer, LogNormalLatency, Plausible

INSTRUCTIONS = Path(__file__).resolve().parents[1] / "curator_synth" / "data" / "self_instruct"
VARIANTS = {"streamed": [], "streaming: false": ["--set", "streaming=false"]}


def write_inputs(directory: Path, records: int, concurrency: int) -> Path:
    """``records`` distinct instructions (the Self-Instruct seed and user-oriented ones, numbered) and the recipe."""
    texts = []
    for name in ("seed_tasks.jsonl", "user_oriented_instructions.jsonl"):
        for line in (INSTRUCTIONS / name).read_text().splitlines():
            texts.append(json.loads(line)["instruction"])
    rows = [{"id": f"r{i}", "instruction": f"{texts[i % len(texts)]} (#{i})"} for i in range(records)]
    data = directory / "instructions.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    recipe = {
        "name": "recipe_throughput",
        "client": {"max_concurrency": concurrency, "max_retries": 2},
        "stages": [
            {"stage": "load", "path": str(data), "columns": ["id", "instruction"]},
            {"stage": "responses", "max_tokens": 128},
            {"stage": "score", "mode": "llm_judge"},
        ],
    }
    path = directory / "recipe.yaml"
    path.write_text(json.dumps(recipe))
    return path


def run_once(recipe: Path, server: FakeLLMServer, extra: list[str]) -> dict[str, float]:
    """Wall seconds, the server's summed latency and requests, and when the last request reached the server (from
    the command's start: polled every 0.2 s)."""
    server.reset_stats()
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "curator_synth.cli", "run", str(recipe), "--output-dir", out,
                   "--base-url", server.base_url, "--model", "any", *extra]  # fmt: skip
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        last, seen = 0.0, -1
        while process.poll() is None:
            requests = server.stats()["requests"]
            if requests != seen:
                last, seen = time.perf_counter() - started, requests
            time.sleep(0.2)
        wall = time.perf_counter() - started
        stdout, stderr = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"the run failed ({process.returncode}):\n{stdout[-3000:]}\n{stderr[-3000:]}")
    stats = server.stats()
    return {"wall": wall, "latency": stats["latency_seconds"], "requests": stats["requests"], "last_sent": last}


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
        recipe = write_inputs(Path(temp), args.records, args.concurrency)
        for _ in range(args.runs):
            for name, extra in variants.items():
                results[name].append(run_once(recipe, server, extra))
                print(f"  {name}: {results[name][-1]}", file=sys.stderr)
    print(f"load -> responses -> score (llm_judge), {args.records:,} records, C={args.concurrency}, "
          f"lognormal median {latency.median} s, sigma {latency.sigma}; {args.runs} run(s) of each")  # fmt: skip
    print(f"{'variant':<20}{'wall s':>10}{'bound s':>10}{'requests':>10}{'last sent s':>13}{'wall / bound':>14}")
    walls = {}
    for name, runs in results.items():
        wall = statistics.median(run["wall"] for run in runs)
        bound = statistics.median(run["latency"] for run in runs) / args.concurrency
        requests = int(statistics.median(run["requests"] for run in runs))
        last = statistics.median(run["last_sent"] for run in runs)
        walls[name] = wall
        print(f"{name:<20}{wall:>10.1f}{bound:>10.1f}{requests:>10,}{last:>13.1f}{wall / bound:>14.2f}")
    if len(walls) == 2:
        print(f"streamed is {walls['streaming: false'] / walls['streamed']:.2f}x faster than streaming: false")


if __name__ == "__main__":
    main()
