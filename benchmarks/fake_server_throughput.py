"""How many requests per second FakeLLMServer (process mode) serves on this machine.

For each latency (0 s and 0.2 s by default) it starts a fresh process-mode server answering a small fixed
reply, drives it with keep-alive connections for ``--duration`` seconds and prints requests/s and the
ratio to the Little's-law limit (connections / latency). The load generator is ``wrk`` when installed
(``apt-get install -y wrk``; a Lua script POSTs a chat body) and otherwise a multi-process aiohttp loop.
Traffic goes to 127.0.0.1 only.

    python benchmarks/fake_server_throughput.py                     # 512 connections, 10 s per run
    python benchmarks/fake_server_throughput.py --tool aiohttp --duration 5 --connections 256
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass

import aiohttp

from curator_synth.testing import FakeLLMServer, Fixed

BODY = {
    "model": "fake-model",
    "messages": [{"role": "user", "content": "Say hello in five words"}],
    "max_tokens": 16,
}
REPLY = "Hello there, how are you?"


@dataclass
class Run:
    tool: str
    latency: float
    connections: int
    seconds: float
    requests: int
    errors: int
    server_ok: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def limit(self) -> float | None:
        return self.connections / self.latency if self.latency > 0 else None


# ----------------------------------------------------------------------------------------------- wrk
def run_wrk(url: str, connections: int, duration: float, threads: int) -> tuple[int, int, float]:
    """Run wrk; returns (completed requests, errors + non-2xx, seconds)."""
    lua = f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = \'{json.dumps(BODY)}\'\n'
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    try:
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration:g}s",
            "--timeout",
            "10s",
            "-s",
            script.name,
            url,
        ]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    match = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if match is None:
        raise RuntimeError(f"cannot parse wrk output:\n{out}")
    requests = int(match.group(1))
    seconds = float(match.group(2)) / (1000.0 if match.group(3) == "ms" else 1.0)
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        errors += int(non_2xx.group(1))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    return requests, errors, seconds


# --------------------------------------------------------------------------------- aiohttp fallback
async def _aiohttp_worker(url: str, connections: int, duration: float) -> tuple[int, int, float]:
    done = errors = 0
    payload = json.dumps(BODY).encode()
    headers = {"Content-Type": "application/json"}
    started = time.monotonic()
    deadline = started + duration
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def loop() -> None:
            nonlocal done, errors
            while time.monotonic() < deadline:
                try:
                    async with session.post(url, data=payload, headers=headers) as response:
                        await response.read()
                        if response.status == 200:
                            done += 1
                        else:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1

        await asyncio.gather(*(loop() for _ in range(connections)))
    return done, errors, time.monotonic() - started


def _aiohttp_process(
    url: str, connections: int, duration: float, queue: multiprocessing.Queue[tuple[int, int, float]]
) -> None:
    queue.put(asyncio.run(_aiohttp_worker(url, connections, duration)))


def run_aiohttp(url: str, connections: int, duration: float, processes: int) -> tuple[int, int, float]:
    """A multi-process aiohttp load generator; returns (completed requests, errors, seconds)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    share = [connections // processes + (i < connections % processes) for i in range(processes)]
    workers = [context.Process(target=_aiohttp_process, args=(url, c, duration, queue)) for c in share]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=duration + 60) for _ in workers]
    for worker in workers:
        worker.join()
    seconds = max(r[2] for r in results)  # measured inside the workers: start-up time not counted
    return sum(r[0] for r in results), sum(r[1] for r in results), seconds


# -------------------------------------------------------------------------------------------- main
def measure(tool: str, latency: float, connections: int, duration: float, threads: int) -> Run:
    with FakeLLMServer(Fixed(REPLY), latency=latency, mode="process") as srv:
        url = f"{srv.base_url}/chat/completions"
        if tool == "wrk":
            requests, errors, seconds = run_wrk(url, connections, duration, threads)
        else:
            requests, errors, seconds = run_aiohttp(url, connections, duration, threads)
        server_ok = srv.stats()["responses_ok"]
    return Run(tool, latency, connections, seconds, requests, errors, server_ok)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tool", choices=["auto", "wrk", "aiohttp"], default="auto")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run (default 10)")
    parser.add_argument("--connections", type=int, default=512)
    parser.add_argument("--latencies", default="0,0.2", help="comma-separated seconds (default 0,0.2)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads / load-generator processes")
    args = parser.parse_args()
    tool = args.tool
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "aiohttp"
    latencies = [float(x) for x in args.latencies.split(",")]

    print(f"FakeLLMServer throughput: process mode, {os.cpu_count()} CPUs, load generator {tool}")
    print(f"{'latency':>8} {'conns':>6} {'req/s':>9} {'Little limit':>13} {'ratio':>6} {'errors':>7} {'server ok':>10}")
    for latency in latencies:
        run = measure(tool, latency, args.connections, args.duration, args.threads)
        limit = f"{run.limit:.0f}" if run.limit else "-"
        ratio = f"{run.rate / run.limit:.0%}" if run.limit else "-"
        print(
            f"{latency:>7g}s {run.connections:>6} {run.rate:>9.0f} {limit:>13} {ratio:>6} "
            f"{run.errors:>7} {run.server_ok:>10}"
        )


if __name__ == "__main__":
    main()
