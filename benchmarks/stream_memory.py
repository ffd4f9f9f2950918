"""Memory of a streamed chain against the number of records: ``responses`` -> ``score`` (llm_judge) record by
record over N input records (parquet partitions of 5,000 rows), with an in-process client that answers at once, so the
figure is the chain's own bookkeeping (records in flight, open chunks, parts written as they complete), not a
server's. Each N runs in a fresh process; the peak RSS (``ru_maxrss``) is reported as a ratio to the smallest N's.

    python benchmarks/stream_memory.py                       # 100,000 and 1,000,000 records
    python benchmarks/stream_memory.py --records 10000 100000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import asyncio, json, resource, sys, time
from pathlib import Path
import pandas as pd
from curator_synth.clients.base import AsyncLLMClient
from curator_synth.dataset import DocumentDataset
from curator_synth.pipeline.stream import Link, StreamedChain
from curator_synth.pipeline.tasks import ResponseTask, ScoreTask

JUDGE = json.dumps({"helpfulness": 4, "correctness": 4, "coherence": 4, "complexity": 2, "verbosity": 2})

class Instant(AsyncLLMClient):
    async def query_model(self, *, messages, model, **kwargs):
        await asyncio.sleep(0)
        return [JUDGE] if "helpfulness" in messages[0]["content"] else ["An answer to " + messages[-1]["content"]]
    async def query_reward_model(self, *, messages, model):
        return {}

source, out = Path(sys.argv[1]), Path(sys.argv[2])
data = DocumentDataset.read_parquet(str(source))
records = len(data)
links = [Link(1, "responses", ResponseTask("m"), out / "01-responses"),
         Link(2, "score", ScoreTask("m", mode="llm_judge"), out / "02-score", error_column="reward_error")]
started = time.perf_counter()
asyncio.run(StreamedChain(links, Instant(), window=1024, chunk_size=1000).run(data, records))
seconds = time.perf_counter() - started
kept = sum(len(pd.read_parquet(path, columns=["id"])) for path in links[-1].files())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"records": records, "kept": kept, "seconds": seconds, "peak_rss_mb": peak}))
"""


def make_input(directory: Path, records: int, per: int = 5000) -> Path:
    """``records`` rows in parquet partitions of ``per`` rows (the same size whatever the count)."""
    import pandas as pd

    directory.mkdir(parents=True)
    for part in range(-(-records // per)):
        ids = range(part * per, min(records, (part + 1) * per))
        texts = [f"Explain how bridge number {i} carries its load." for i in ids]
        frame = pd.DataFrame({"id": [f"r{i}" for i in ids], "instruction": texts, "input": "", "response": "",
                              "source": "bench", "provenance": "{}"})  # fmt: skip
        frame.to_parquet(directory / f"part-{part:04d}.parquet", index=False)
    return directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    rows = []
    for records in args.records:
        with tempfile.TemporaryDirectory() as temp:
            source = make_input(Path(temp) / "input", records)
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", CHILD, str(source), str(Path(temp) / "out")],
                                  capture_output=True, text=True, check=False)  # fmt: skip
            if done.returncode != 0:
                raise SystemExit(done.stderr[-3000:])
            result = json.loads(done.stdout.strip().splitlines()[-1])
            result["wall"] = time.perf_counter() - started
            rows.append(result)
            print(f"  {result}", file=sys.stderr)
    base = rows[0]["peak_rss_mb"]
    print("streamed chain responses -> score (llm_judge), instant in-process client, window 1,024, chunks of 1,000")
    print(f"{'records':>12}{'kept':>12}{'chain s':>10}{'records/s':>11}{'peak RSS MB':>13}{'/ smallest':>12}")
    for row in rows:
        rate = row["records"] / row["seconds"]
        print(f"{row['records']:>12,}{row['kept']:>12,}{row['seconds']:>10.0f}{rate:>11,.0f}"
              f"{row['peak_rss_mb']:>13.0f}{row['peak_rss_mb'] / base:>12.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
