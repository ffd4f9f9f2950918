"""Child process of ``test_resume.py``: a journaled bulk run that the test kills with SIGKILL and runs again.

    python tests/clients/resume_child.py BASE_URL CACHE_DIR OUT_FILE [N]

Sends ``N`` (default 4000) distinct chat requests through ``AsyncOpenAIClient.query_many(ordered=True)`` with
the journal in ``CACHE_DIR`` (``-`` turns it off), writes the results in the order they were yielded to
``OUT_FILE`` as JSON ``[[index, text, error], ...]`` and prints the client's stats as one JSON line on stdout.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from curator_synth.clients import AsyncOpenAIClient, QueryRequest, RetryPolicy

N = 4000
MODEL = "m"
MAX_CONCURRENCY = 32


def prompt(i: int) -> str:
    return f"resume request {i}: say something about topic {i % 53}"


def body(i: int) -> dict[str, object]:
    """The JSON body the client sends for request ``i`` (what ``FakeLLMServer.hits`` and ``body_hits`` key on)."""
    return {"model": MODEL, "messages": [{"role": "user", "content": prompt(i)}]}


def requests(n: int) -> Iterator[QueryRequest]:
    for i in range(n):
        yield QueryRequest(messages=[{"role": "user", "content": prompt(i)}], model=MODEL)


async def run(base_url: str, cache_dir: str | None, n: int) -> tuple[list[list[object]], dict[str, object]]:
    rows: list[list[object]] = []
    retry = RetryPolicy(max_retries=2, initial_backoff=0.01, max_backoff=0.1)
    client = AsyncOpenAIClient(
        base_url=base_url, api_key="k", max_concurrency=MAX_CONCURRENCY, cache_dir=cache_dir, retry=retry
    )
    async with client:
        async for result in client.query_many(requests(n), ordered=True):
            text = result.value[0] if result.value is not None else None
            rows.append([result.index, text, None if result.ok else repr(result.error)])
    return rows, client.stats.as_dict()


def main(argv: list[str]) -> None:
    base_url, cache_dir, out_file = argv[:3]
    n = int(argv[3]) if len(argv) > 3 else N
    rows, stats = asyncio.run(run(base_url, None if cache_dir == "-" else cache_dir, n))
    Path(out_file).write_text(json.dumps(rows))
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
