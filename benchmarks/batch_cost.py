"""Batch vs online cost of one recipe: ``curator-synth run`` of load (N instructions) -> ``responses`` -> ``score``
(llm_judge), once online and once with ``client: {batch: true}`` (both LLM stages through the batch API), against a
FakeLLMServer in its own process that answers with ``Plausible`` and completes a batch ``--batch-delay`` seconds
after its creation. The recipe is priced as OpenAI prices gpt-4o-mini (0.15 / 0.60 USD per 1M prompt / completion
tokens, ``batch_discount`` 0.5).

Reported per variant, from the server's counters and the run's own report (``report/stats.json``): requests the
server answered, batches created, prompt and completion tokens, the cost the report gives, and the wall time; then
the batch variant's cost and tokens as ratios to the online variant's. The same requests (content-derived seeds)
mean the same tokens, so the cost ratio is the discount, applied to every token: nothing is sent twice, nothing is
priced online. Wall time is not the point here (a real provider answers a batch within hours), only reported.

    python benchmarks/batch_cost.py                        # 1,000 records
    python benchmarks/batch_cost.py --records 5000 --batch-delay 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _workload import write_instructions

from curator_synth.testing import FakeLLMServer, Plausible

PRICING = {"prompt_per_1m": 0.15, "completion_per_1m": 0.60, "batch_discount": 0.5}


def write_inputs(directory: Path, records: int, batch: bool) -> Path:
    data = write_instructions(directory, records)
    recipe = {
        "name": "batch_cost",
        "client": {"max_concurrency": 64, "batch": batch, "batch_poll_seconds": 0.2},
        "stages": [
            {"stage": "load", "path": str(data), "columns": ["id", "instruction"]},
            {"stage": "responses", "max_tokens": 256},
            {"stage": "score", "mode": "llm_judge"},
        ],
        "pricing": PRICING,
        "report": {"plots": False, "embeddings": False},
    }
    path = directory / "recipe.yaml"
    path.write_text(json.dumps(recipe))
    return path


def run(server: FakeLLMServer, records: int, batch: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="batch-cost-") as temp:
        recipe = write_inputs(Path(temp), records, batch)
        out = Path(temp) / "run"
        command = [
            sys.executable, "-m", "curator_synth.cli", "run", str(recipe), "--output-dir", str(out),
            "--base-url", server.base_url, "--model", "fake-model",
        ]  # fmt: skip
        server.reset_stats()
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"run failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        total = json.loads((out / "report" / "stats.json").read_text())["usage"]["total"]
    served = server.stats()
    return {
        "requests": served["requests"], "batches": served["batches"], "prompt": total["prompt_tokens"],
        "completion": total["completion_tokens"], "cost": total["cost"], "wall": wall,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--batch-delay", type=float, default=1.0, help="seconds from a batch's creation to its end")
    args = parser.parse_args()
    with FakeLLMServer(responder=Plausible(), mode="process", batch_delay=args.batch_delay) as server:
        online = run(server, args.records, batch=False)
        batch = run(server, args.records, batch=True)
    print(f"{args.records:,} records, load -> responses -> score (llm_judge), priced at {PRICING}")
    print(
        f"{'variant':<8}{'requests':>10}{'batches':>9}{'prompt tok':>12}{'compl tok':>11}{'cost USD':>11}{'wall s':>8}"
    )
    for name, row in (("online", online), ("batch", batch)):
        print(
            f"{name:<8}{row['requests']:>10,}{row['batches']:>9}{row['prompt']:>12,}{row['completion']:>11,}"
            f"{row['cost']:>11.5f}{row['wall']:>8.1f}"
        )
    tokens = (batch["prompt"] + batch["completion"]) / (online["prompt"] + online["completion"])
    print(f"batch / online: cost {batch['cost'] / online['cost']:.3f}, tokens {tokens:.3f}")


if __name__ == "__main__":
    main()
