"""Rate-limited endpoints: does the client learn the allowed rate, with and without ``x-ratelimit-*`` headers?

The endpoint is a FakeLLMServer (process mode) admitting ``--limit`` requests per rolling window (60 s: the
issue's 240 requests per minute). The client (``AsyncOpenAIClient`` with its defaults, no ``rpm`` set,
``max_concurrency=--concurrency``) runs ``--requests`` distinct requests through ``query_many``, twice:

  headers     the endpoint sends x-ratelimit-limit/remaining/reset-requests on every answer, 429s included
  no headers  it sends none, and refuses with only ``Retry-After: 1``

Every figure is a ratio measured in the same run:

  wall / ideal   the ideal is (windows needed - 1) x window + the time the same client takes for one window's
                 worth of requests (``--limit``) against the same server without a limit, measured first
  429s / req     429s the endpoint sent per request
  failed         requests that did not end answered

    python benchmarks/rate_limits.py                 # the issue's scale: 240 per 60 s, 480 requests, 64 in flight
    python benchmarks/rate_limits.py --latency 0.1,0.3   # answers take 0.1-0.3 s (uniform), not exactly 0.2 s
    python benchmarks/rate_limits.py --scale 0.1     # the same counts in a 6 s window (a quick run)
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time
from dataclasses import dataclass

from curator_synth.clients import AsyncOpenAIClient, QueryRequest
from curator_synth.testing import FakeLLMServer, Fixed

REPLY = "A short synthetic answer of about a dozen words, like a brief model reply."


@dataclass
class Run:
    case: str
    requests: int
    answered: int
    failed: int
    rate_limited: int  # 429s the server sent
    wall: float


async def drive(base_url: str, requests: int, concurrency: int) -> tuple[int, int, float]:
    """Run ``requests`` distinct queries; return (answered, failed, wall seconds)."""
    answered = failed = 0
    async with AsyncOpenAIClient(base_url=base_url, api_key="k", max_concurrency=concurrency) as client:
        started = time.perf_counter()
        batch = (
            QueryRequest([{"role": "user", "content": f"Request {i}: one line on {i % 97}."}], "m")
            for i in range(requests)
        )
        async for result in client.query_many(batch, ordered=False):
            answered += result.ok
            failed += not result.ok
        wall = time.perf_counter() - started
    return answered, failed, wall


def run_case(case: str, args: argparse.Namespace, window: float) -> Run:
    server = FakeLLMServer(
        responder=Fixed(REPLY),
        latency=args.latency,
        mode="process",
        rpm_limit=args.limit,
        rate_window=window,
        rate_limit_headers=case == "headers",
    )
    with server:
        answered, failed, wall = asyncio.run(drive(server.base_url, args.requests, args.concurrency))
        rate_limited = server.stats()["rate_limited"]
    return Run(case, args.requests, answered, failed, rate_limited, wall)


def unlimited_window_time(args: argparse.Namespace) -> float:
    """Seconds the client takes for one window's worth of requests against the same server without a limit."""
    with FakeLLMServer(responder=Fixed(REPLY), latency=args.latency, mode="process") as server:
        answered, failed, wall = asyncio.run(drive(server.base_url, args.limit, args.concurrency))
    assert failed == 0
    assert answered == args.limit
    return wall


def latency(text: str) -> float | tuple[float, float]:
    low, _, high = text.partition(",")
    return (float(low), float(high)) if high else float(low)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="window = 60 s x scale (counts unchanged)")
    parser.add_argument("--limit", type=int, default=240, help="requests admitted per window")
    parser.add_argument("--requests", type=int, default=480)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency", type=latency, default=0.2, help="seconds per answer, or LOW,HIGH (uniform)")
    parser.add_argument("--cases", default="headers,no headers")
    args = parser.parse_args()
    window = 60.0 * args.scale
    burst = unlimited_window_time(args)
    ideal = (math.ceil(args.requests / args.limit) - 1) * window + burst
    print(
        f"limit {args.limit} per {window:g} s window, {args.requests} requests, {args.concurrency} in flight, "
        f"latency {args.latency} s; ideal {ideal:.2f} s (one unlimited window's worth: {burst:.2f} s)"
    )
    print("| endpoint | requests | answered | failed | 429s / requests | wall / ideal |")
    print("|---|---|---|---|---|---|")
    for case in args.cases.split(","):
        run = run_case(case.strip(), args, window)
        print(
            f"| {run.case} | {run.requests} | {run.answered} | {run.failed} | "
            f"{run.rate_limited / run.requests:.3f} ({run.rate_limited}) | {run.wall / ideal:.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
