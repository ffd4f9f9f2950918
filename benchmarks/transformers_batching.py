"""In-process generation: concurrent requests batched by AsyncTransformersClient vs the same requests one by one.

Both variants run in the same process on the same tiny random model (curator_synth.testing.tiny_lm, no download),
with the same prompts, seeds and max_tokens; reported: generate() calls, wall time and the ratio.

    python benchmarks/transformers_batching.py                  # 16 requests, max_batch_size 8 and 16
    python benchmarks/transformers_batching.py --requests 64 --max-tokens 32
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from curator_synth.clients.transformers import AsyncTransformersClient
from curator_synth.testing.tiny_lm import tiny_causal_lm


def prompts(n: int) -> list[list[dict[str, str]]]:
    return [[{"role": "user", "content": f"Write a short note about topic number {i}."}] for i in range(n)]


async def run(
    model: object, tokenizer: object, n: int, batch: int, max_tokens: int, together: bool
) -> tuple[int, float]:
    client = AsyncTransformersClient(model, tokenizer, max_batch_size=batch if together else 1)
    params = {"model": "tiny", "max_tokens": max_tokens, "temperature": 0.8}
    started = time.perf_counter()
    if together:
        await asyncio.gather(*(client.query_model(messages=m, seed=i, **params) for i, m in enumerate(prompts(n))))
    else:
        for i, m in enumerate(prompts(n)):
            await client.query_model(messages=m, seed=i, **params)
    seconds = time.perf_counter() - started
    calls = client.generation_stats.batches
    await client.aclose()
    return calls, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=16)
    args = parser.parse_args()
    model, tokenizer = tiny_causal_lm()
    asyncio.run(run(model, tokenizer, 4, 4, args.max_tokens, True))  # warm-up
    print(f"{args.requests} requests, max_tokens={args.max_tokens}, tiny model on CPU")
    print(f"{'max_batch_size':>14} {'batched calls':>14} {'batched s':>10} {'one-by-one s':>13} {'speed-up':>9}")
    for batch in (8, 16):
        calls, together = asyncio.run(run(model, tokenizer, args.requests, batch, args.max_tokens, True))
        _, alone = asyncio.run(run(model, tokenizer, args.requests, batch, args.max_tokens, False))
        print(f"{batch:>14} {calls:>14} {together:>10.2f} {alone:>13.2f} {alone / together:>8.1f}x")


if __name__ == "__main__":
    main()
