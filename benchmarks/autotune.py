"""``max_concurrency: auto`` against the best fixed concurrency, on a server whose latency rises with its load
(:class:`~curator_synth.testing.ServerLoad`: a batch of 32, 0.2 s unloaded, each request slower the fuller the
batch, requests beyond it queued — as vLLM serves). For each setting, N requests are sent at once through one
``AsyncOpenAIClient``; goodput is answers per second over the whole run and over its second half (once a tuner
has settled), p50 the median seconds a request spent at the server (queue plus service), against the best fixed
setting and the unloaded latency measured in the same run.

    python benchmarks/autotune.py
    python benchmarks/autotune.py --requests 4000 --batch 64
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from curator_synth import AsyncOpenAIClient
from curator_synth.testing import FakeLLMServer, Fixed, ServerLoad


async def measure(server: FakeLLMServer, load: ServerLoad, concurrency: int | str, requests: int) -> dict[str, float]:
    load.times.clear()
    async with AsyncOpenAIClient(base_url=server.base_url, api_key="sk-bench", max_concurrency=concurrency) as client:
        prompts = [[{"role": "user", "content": f"question {concurrency} {i}"}] for i in range(requests)]
        started = time.monotonic()
        done: list[float] = []

        async def ask(messages: list[dict[str, str]]) -> None:
            await client.query_model(messages=messages, model="m")
            done.append(time.monotonic())

        await asyncio.gather(*(ask(messages) for messages in prompts))
        seconds = time.monotonic() - started
        half = sorted(done)[len(done) // 2 :]
        settled = (len(half) - 1) / (half[-1] - half[0]) if len(half) > 1 and half[-1] > half[0] else 0.0
        window = client._engine.window
        limit = window.tuner.limit if window is not None and window.tuner is not None else concurrency
    p50 = statistics.median(load.times)
    return {"goodput": requests / seconds, "settled": settled, "p50": p50, "limit": float(limit)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    load = ServerLoad(batch=args.batch, latency=0.2, slowdown=0.5)
    settings: list[int | str] = list(dict.fromkeys([8, 16, args.batch, 2 * args.batch, 4 * args.batch, "auto"]))
    results = {}
    with FakeLLMServer(Fixed("ok"), latency=load) as server:
        unloaded = asyncio.run(measure(server, load, 1, 20))["p50"]
        for setting in settings:
            results[setting] = asyncio.run(measure(server, load, setting, args.requests))
    best = max(value["goodput"] for name, value in results.items() if name != "auto")
    best_settled = max(value["settled"] for name, value in results.items() if name != "auto")
    print(f"ServerLoad(batch={args.batch}, latency=0.2, slowdown=0.5), {args.requests:,} requests per setting; "
          f"unloaded p50 {unloaded:.3f} s")  # fmt: skip
    print(f"{'max_concurrency':<16}{'limit':>7}{'goodput/s':>11}{'/ best':>8}{'2nd half/s':>12}{'/ best':>8}"
          f"{'p50 s':>8}{'/ unloaded':>12}")  # fmt: skip
    for setting, value in results.items():
        print(f"{setting!s:<16}{value['limit']:>7.0f}{value['goodput']:>11.1f}{value['goodput'] / best:>8.2f}"
              f"{value['settled']:>12.1f}{value['settled'] / best_settled:>8.2f}"
              f"{value['p50']:>8.3f}{value['p50'] / unloaded:>12.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
