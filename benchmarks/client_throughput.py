"""Client throughput against FakeLLMServer: curator_synth vs a raw aiohttp loop vs the raw openai SDK.

All variants run in the same process, one after the other, against the same server (process mode, so the
server does not share this process's GIL), N requests at C in flight, distinct prompts. Reported per variant:
requests/s, % of the Little's-law limit C / latency, client CPU ms per request (this process only), and the
ratios to the baselines measured in the same run.

    python benchmarks/client_throughput.py                       # N=4000 C=256 latency=0.2, journal on
    python benchmarks/client_throughput.py --faults              # also: 5% 429, 2% 5xx, 1% drops, 1% malformed

Variants:
  aiohttp   a raw aiohttp semaphore loop (the floor for any Python client: no retries, no parsing beyond JSON)
  openai    the raw openai SDK (AsyncOpenAI, default HTTP client) under a semaphore, max_retries=0
  curator   curator_synth's AsyncOpenAIClient.query_many with the journal on (a fresh directory)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from curator_synth.clients import AsyncOpenAIClient, QueryRequest, RetryPolicy
from curator_synth.testing import FakeLLMServer, Faults, Fixed

REPLY = "A short synthetic answer of about a dozen words, like a brief model reply."


def messages(i: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"Question number {i}: write one sentence about topic {i % 97}."}]


@dataclass
class Outcome:
    name: str
    ok: int
    failed: int
    wall: float
    cpu: float
    wall_98: float = 0.0  # seconds until 98 % of the requests had ended (curator runs only)

    def rate(self) -> float:
        return self.ok / self.wall


async def run_aiohttp(base_url: str, n: int, c: int) -> tuple[int, int]:
    semaphore = asyncio.Semaphore(c)
    ok = failed = 0
    connector = aiohttp.TCPConnector(limit=c)
    async with aiohttp.ClientSession(connector=connector, headers={"Authorization": "Bearer k"}) as session:

        async def one(i: int) -> None:
            nonlocal ok, failed
            async with semaphore:
                try:
                    async with session.post(
                        base_url + "/chat/completions", json={"model": "m", "messages": messages(i)}
                    ) as response:
                        payload = json.loads(await response.read())
                        payload["choices"][0]["message"]["content"]
                        ok += response.status == 200
                        failed += response.status != 200
                except Exception:
                    failed += 1

        await asyncio.gather(*(one(i) for i in range(n)))
    return ok, failed


async def run_openai(base_url: str, n: int, c: int) -> tuple[int, int]:
    import openai

    semaphore = asyncio.Semaphore(c)
    ok = failed = 0
    client = openai.AsyncOpenAI(base_url=base_url, api_key="k", max_retries=0)

    async def one(i: int) -> None:
        nonlocal ok, failed
        async with semaphore:
            try:
                response = await client.chat.completions.create(model="m", messages=messages(i))  # type: ignore[arg-type]
                response.choices[0].message.content  # noqa: B018
                ok += 1
            except Exception:
                failed += 1

    await asyncio.gather(*(one(i) for i in range(n)))
    await client.close()
    return ok, failed


_P98: list[float] = []  # set by run_curator: when 98 % of its requests had ended


async def run_curator(base_url: str, n: int, c: int, retries: int) -> tuple[int, int]:
    ok = failed = 0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as cache_dir:
        retry = RetryPolicy(max_retries=retries)  # the shipped backoff (0.25 s initial, full jitter)
        async with AsyncOpenAIClient(
            base_url=base_url, api_key="k", max_concurrency=c, cache_dir=cache_dir, retry=retry
        ) as client:
            requests = (QueryRequest(messages(i), "m") for i in range(n))
            async for result in client.query_many(requests, ordered=False):
                ok += result.ok
                failed += not result.ok
                if ok + failed == int(0.98 * n):
                    _P98.append(time.perf_counter() - start)
            client.flush_journal()
    return ok, failed


async def measure(name: str, run: Callable[[], Awaitable[tuple[int, int]]]) -> Outcome:
    cpu, wall = time.process_time(), time.perf_counter()
    _P98.clear()
    ok, failed = await run()
    return Outcome(name, ok, failed, time.perf_counter() - wall, time.process_time() - cpu, _P98[0] if _P98 else 0.0)


def report(outcomes: list[Outcome], n: int, c: int, latency: float, title: str) -> None:
    limit = c / latency
    by_name = {o.name: o for o in outcomes}
    print(f"\n{title}: N={n} C={c} latency={latency}s, Little's-law limit {limit:.0f} req/s")
    print(f"{'variant':<10}{'ok':>7}{'failed':>8}{'req/s':>9}{'% limit':>9}{'CPU ms/req':>12}")
    for o in outcomes:
        print(
            f"{o.name:<10}{o.ok:>7}{o.failed:>8}{o.rate():>9.0f}{100 * o.rate() / limit:>8.1f}%"
            f"{1000 * o.cpu / max(1, o.ok + o.failed):>12.2f}"
        )
    if "curator" in by_name:
        cur = by_name["curator"].rate()
        for base in ("aiohttp", "openai"):
            if base in by_name:
                print(f"curator / {base}: {cur / by_name[base].rate():.2f}x")


async def main(args: argparse.Namespace) -> None:
    n, c, latency = args.n, args.c, args.latency
    with FakeLLMServer(responder=Fixed(REPLY), latency=latency, mode="process") as server:
        url = server.base_url
        # warm-up: connections, imports, JIT-free caches
        await run_aiohttp(url, min(n, 2 * c), c)
        outcomes = [
            await measure("aiohttp", lambda: run_aiohttp(url, n, c)),
            await measure("openai", lambda: run_openai(url, n, c)),
            await measure("curator", lambda: run_curator(url, n, c, retries=0)),
        ]
        report(outcomes, n, c, latency, "fault-free")
        if args.faults:
            server.set_faults(Faults(rate_limit=0.05, retry_after=0.5, server_error=0.02, drop=0.01, malformed=0.01))
            faulty = await measure("curator", lambda: run_curator(url, n, c, retries=8))
            server.set_faults(None)
            report([faulty], n, c, latency, "faults (5% 429 Retry-After 0.5s, 2% 5xx, 1% drop, 1% malformed)")
            clean = next(o for o in outcomes if o.name == "curator")
            print(f"goodput with faults / fault-free curator, whole run:         {faulty.rate() / clean.rate():.2f}")
            print(f"goodput with faults / fault-free curator, to 98 % completion: {clean.wall_98 / faulty.wall_98:.2f}")
            print(f"every request ended answered or typed-failed: {faulty.ok + faulty.failed == n}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--c", type=int, default=256)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--faults", action="store_true")
    asyncio.run(main(parser.parse_args()))
