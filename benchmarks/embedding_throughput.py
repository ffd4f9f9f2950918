"""Embedding throughput of the packaged MiniLM: the default numpy backend against sentence-transformers and torch.

Each backend runs in a fresh process (nothing imported or cached before it starts), alternating. A run measures
the start-up (imports and model load, up to the first vector) and then texts per second on two sets of real
text, every text distinct, embedded once:

- instructions: the 252 user-oriented Self-Instruct instructions (package data; about 20 words each);
- passages: the 520 AdversarialQA prompts of ``tests/data/t0_sample`` (a Wikipedia passage and a question,
  150-300 words: most fill the model's 256-token window).

    python benchmarks/embedding_throughput.py             # 3 runs of each, alternating
    python benchmarks/embedding_throughput.py --runs 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("numpy", "sentence-transformers")  # the second is the baseline

_CHILD = """
import json, sys, time
started = time.perf_counter()
from curator_synth.embeddings import Embedder
embedder = Embedder(backend=sys.argv[1])
embedder.embed(["warm up"])
result = {"start-up s": time.perf_counter() - started}
for name, texts in json.load(open(sys.argv[2])).items():
    started = time.perf_counter()
    embedder.embed(texts)
    result[name] = len(texts) / (time.perf_counter() - started)
print(json.dumps(result))
"""


def text_sets() -> dict[str, list[str]]:
    def lines(path: Path, field: str) -> list[str]:
        with path.open() as rows:
            return [json.loads(row)[field] for row in rows]

    data = ROOT / "curator_synth" / "data" / "self_instruct" / "user_oriented_instructions.jsonl"
    passages = sorted((ROOT / "tests" / "data" / "t0_sample").glob("adversarial_qa_*.jsonl"))
    return {
        "instructions": list(dict.fromkeys(lines(data, "instruction"))),
        "passages": list(dict.fromkeys(p for path in passages for p in lines(path, "prompt"))),
    }


def run_once(backend: str, texts_file: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, backend, str(texts_file)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"the {backend} run failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sets = text_sets()
    texts_file = Path(__file__).with_suffix(".texts.json")
    texts_file.write_text(json.dumps(sets))
    try:
        runs: dict[str, list[dict[str, float]]] = {backend: [] for backend in BACKENDS}
        for _ in range(args.runs):
            for backend in BACKENDS:
                runs[backend].append(run_once(backend, texts_file))
    finally:
        texts_file.unlink()
    sizes = ", ".join(f"{len(texts)} {name}" for name, texts in sets.items())
    print(f"embedding throughput, {args.runs} runs each, alternating ({sizes}); medians, baseline {BACKENDS[-1]}")
    print(f"{'measure':<16}" + "".join(f"{backend:>24}" for backend in BACKENDS) + f"{'ratio':>10}")
    for measure in ["start-up s", *sets]:
        medians = [statistics.median(run[measure] for run in runs[backend]) for backend in BACKENDS]
        unit = "" if measure.endswith(" s") else " texts/s"
        print(f"{measure:<16}" + "".join(f"{m:>16.1f}{unit:>8}" for m in medians) + f"{medians[0] / medians[1]:>10.2f}")


if __name__ == "__main__":
    main()
