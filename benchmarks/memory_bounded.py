"""Client memory does not grow with the number of queued requests (``query_many`` consumes its input lazily).

Acceptance: with 100,000 vs 1,000,000 requests submitted lazily to a 0-latency server, resident memory after
the first 100,000 completions differs by < 10 % and stays under 1 GB.

One FakeLLMServer (process mode, latency 0) serves every run. Each run is a fresh Python process (this script
with ``--child``), so resident set sizes are comparable: it passes a generator of ``total`` distinct requests to
``AsyncOpenAIClient.query_many(ordered=False)``, reads ``VmRSS`` from ``/proc/self/status`` after exactly
``--completions`` results, stops there (leaves the ``async for``; the client closes cleanly) and prints one JSON
line. The parent prints the table and whether both criteria hold (exit status 1 if not).

    python benchmarks/memory_bounded.py                   # totals 100,000 and 1,000,000; journal off
    python benchmarks/memory_bounded.py --journal         # the same with the SQLite journal on (a fresh dir)
    python benchmarks/memory_bounded.py --totals 100000 1000000 10000000 --completions 100000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from curator_synth.clients import AsyncOpenAIClient, QueryRequest
from curator_synth.testing import FakeLLMServer, Fixed

MAX_RATIO_DIFF = 0.10  # RSS(largest total) within 10 % of RSS(smallest total)
MAX_RSS_MB = 1024.0
CHECKPOINTS = (0.1, 0.5)  # also sample RSS at these fractions of --completions, to show it is flat


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident set size (``VmRSS``) or its peak (``VmHWM``), in MiB, from /proc/self/status."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status (Linux only)")


def committed_rows(cache_dir: str | None) -> int:
    """Rows the journal has committed so far (read with a connection of our own), 0 if the journal is off."""
    if cache_dir is None:
        return 0
    connection = sqlite3.connect(Path(cache_dir) / "journal.sqlite3")
    try:
        return int(connection.execute("SELECT COUNT(*) FROM responses").fetchone()[0])
    finally:
        connection.close()


def requests(total: int) -> Iterator[QueryRequest]:
    for i in range(total):
        yield QueryRequest([{"role": "user", "content": f"Request {i}: one sentence on topic {i % 97}."}], "m")


async def consume(base_url: str, total: int, completions: int, journal: bool, concurrency: int) -> dict[str, Any]:
    """Run ``total`` lazily submitted requests until ``completions`` results arrived; measure RSS there."""
    with tempfile.TemporaryDirectory(prefix="memory-bounded-") as directory:
        cache_dir = directory if journal else None
        client = AsyncOpenAIClient(base_url=base_url, api_key="k", max_concurrency=concurrency, cache_dir=cache_dir)
        checkpoints = {int(completions * fraction): 0.0 for fraction in CHECKPOINTS}
        done = failed = 0
        rss_at_start = rss_mb()
        start = time.perf_counter()
        rss = elapsed = 0.0
        committed = 0
        async with client:
            # aclosing: leaving the loop early closes the stream at once (cancels the calls still pending)
            stream = client.query_many(requests(total), ordered=False)  # typed AsyncIterator; it is a generator
            async with contextlib.aclosing(stream) as results:  # type: ignore[type-var]
                async for result in results:
                    done += 1
                    failed += not result.ok
                    if done in checkpoints:
                        checkpoints[done] = rss_mb()
                    if done == completions:
                        rss, elapsed = rss_mb(), time.perf_counter() - start
                        committed = committed_rows(cache_dir)
                        break
            client.flush_journal()
        stats = client.stats.as_dict()
    return {
        "total": total,
        "completions": done,
        "failed": failed,
        "rss_start_mb": rss_at_start,
        "rss_mb": rss,
        "rss_checkpoints_mb": {str(k): v for k, v in checkpoints.items()},
        "peak_rss_mb": rss_mb("VmHWM"),
        "elapsed": elapsed,
        "uncommitted": max(0, done - committed) if journal else 0,
        "requests_sent": stats["requests_sent"],
        "journal": journal,
    }


def run_child(base_url: str, total: int, completions: int, journal: bool, concurrency: int) -> dict[str, Any]:
    """One measurement in a fresh interpreter (this script with ``--child``)."""
    command = [sys.executable, __file__, "--child", "--base-url", base_url, "--totals", str(total)]
    command += ["--completions", str(completions), "--concurrency", str(concurrency)]
    if journal:
        command.append("--journal")
    process = subprocess.run(command, capture_output=True, text=True, check=False)
    if process.returncode != 0:
        raise RuntimeError(f"child for total={total} failed ({process.returncode}):\n{process.stderr[-3000:]}")
    if process.stderr.strip():
        print(f"[child total={total} stderr]\n{process.stderr.strip()[-2000:]}", file=sys.stderr)
    result: dict[str, Any] = json.loads(process.stdout.strip().splitlines()[-1])
    result["child_stderr"] = process.stderr
    return result


def run_benchmark(
    totals: Sequence[int] = (100_000, 1_000_000),
    completions: int = 100_000,
    journal: bool = False,
    concurrency: int = 64,
) -> list[dict[str, Any]]:
    """Start a 0-latency FakeLLMServer (process mode) and measure each total in its own child process."""
    with FakeLLMServer(Fixed("A short synthetic answer of about ten words, like a reply."), mode="process") as server:
        return [run_child(server.base_url, total, completions, journal, concurrency) for total in totals]


def verdict(results: Sequence[dict[str, Any]], completions: int) -> dict[str, Any]:
    """Whether the criteria hold: RSS of the largest total within 10 % of the smallest's, every RSS < 1 GB."""
    small, large = results[0], results[-1]
    ratio = large["rss_mb"] / small["rss_mb"]
    return {
        "ratio": ratio,
        "within_10_percent": abs(ratio - 1) < MAX_RATIO_DIFF,
        "under_1_gb": all(r["rss_mb"] < MAX_RSS_MB for r in results),
        "all_completed": all(r["completions"] == completions for r in results),
        "no_failures": all(r["failed"] == 0 for r in results),
    }


def report(results: Sequence[dict[str, Any]], completions: int, journal: bool, concurrency: int) -> bool:
    print(
        f"\nquery_many(ordered=False), lazily submitted requests, 0-latency FakeLLMServer (process mode), "
        f"max_concurrency={concurrency}, journal {'on' if journal else 'off'}; RSS after {completions:,} completions"
    )
    marks = list(results[0]["rss_checkpoints_mb"])
    head = f"{'submitted':>12}{'RSS start MB':>14}" + "".join(f"{'@' + f'{int(m):,}':>11}" for m in marks)
    print(head + f"{'RSS MB':>10}{'peak MB':>10}{'elapsed s':>11}{'req/s':>9}{'failed':>8}{'uncommitted':>13}")
    for r in results:
        sampled = "".join(f"{r['rss_checkpoints_mb'][m]:>11.1f}" for m in marks)
        print(
            f"{r['total']:>12,}{r['rss_start_mb']:>14.1f}{sampled}{r['rss_mb']:>10.1f}{r['peak_rss_mb']:>10.1f}"
            f"{r['elapsed']:>11.1f}{r['completions'] / r['elapsed']:>9.0f}{r['failed']:>8}{r['uncommitted']:>13,}"
        )
    v = verdict(results, completions)
    small, large = results[0]["total"], results[-1]["total"]
    print(f"RSS({large:,}) / RSS({small:,}) = {v['ratio']:.3f}")
    print(f"difference < 10 %: {'YES' if v['within_10_percent'] else 'NO'} ({100 * abs(v['ratio'] - 1):.1f} %)")
    print(f"RSS < 1 GB in every run: {'YES' if v['under_1_gb'] else 'NO'}")
    if journal:
        print("uncommitted: answers received but not yet committed to the journal at that moment (writer backlog)")
    if not v["no_failures"] or not v["all_completed"]:
        print("WARNING: some requests failed or a run stopped short of the completions")
    ok = bool(v["within_10_percent"] and v["under_1_gb"] and v["no_failures"] and v["all_completed"])
    print(f"criteria hold: {'YES' if ok else 'NO'}")
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--totals", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--completions", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--journal", action="store_true", help="journal on (a fresh cache_dir per run)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = asyncio.run(consume(args.base_url, args.totals[0], args.completions, args.journal, args.concurrency))
        print(json.dumps(result), flush=True)
        return 0
    results = run_benchmark(args.totals, args.completions, args.journal, args.concurrency)
    return 0 if report(results, args.completions, args.journal, args.concurrency) else 1


if __name__ == "__main__":
    sys.exit(main())
