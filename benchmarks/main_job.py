"""The README's main job end to end, as a user runs it: ``curator-synth run curate_self_instruct.yaml`` in a fresh
output directory, timed from the command's start to its exit, with each stage's own seconds.

The baseline, measured in the same invocation, is the same job with the embeddings run through
sentence-transformers and torch (``--set embeddings.backend=sentence-transformers``) instead of the default numpy
backend: what the job cost before the numpy encoder, on this machine, today.

    python benchmarks/main_job.py               # 3 runs of each, alternating
    python benchmarks/main_job.py --runs 5
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RECIPE = (
    Path(__file__).resolve().parents[1] / "curator_synth" / "prompt_templates" / "recipes" / "curate_self_instruct.yaml"
)
VARIANTS = {
    "numpy (default)": [],
    "sentence-transformers": ["--set", "embeddings.backend=sentence-transformers"],
}
_STAGE = re.compile(r"^\s*(\w+):\s+\d+ ->\s+\d+\s+\(\d+ dropped, ([\d.]+) s\)", re.MULTILINE)


def run_once(extra: list[str]) -> tuple[float, dict[str, float], int | None]:
    """Wall seconds, seconds per stage (stages of one name summed), peak RSS in MB (GNU time, if present)."""
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "curator_synth.cli", "run", str(RECIPE), "--output-dir", out, *extra]
        timer = ["/usr/bin/time", "-f", "%M"] if Path("/usr/bin/time").exists() else []
        started = time.perf_counter()
        done = subprocess.run([*timer, *command], capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the job failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    stages: dict[str, float] = {}
    for name, seconds in _STAGE.findall(done.stdout):
        stages[name] = stages.get(name, 0.0) + float(seconds)
    rss = int(done.stderr.strip().splitlines()[-1]) // 1024 if timer else None
    return wall, stages, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, dict[str, float], int | None]]] = {name: [] for name in VARIANTS}
    for _ in range(args.runs):
        for name, extra in VARIANTS.items():
            results[name].append(run_once(extra))
    baseline = statistics.median(wall for wall, _, _ in results["sentence-transformers"])
    print(f"main job ({RECIPE.name}), {args.runs} runs each, alternating")
    print(f"{'embeddings':<24}{'wall s (median)':>16}{'runs':>24}{'sample s':>10}{'peak RSS MB':>13}{'/ baseline':>12}")
    for name, runs in results.items():
        walls = [wall for wall, _, _ in runs]
        sample = statistics.median(stages.get("sample", 0.0) for _, stages, _ in runs)
        rss = [r for _, _, r in runs if r is not None]
        shown = ", ".join(f"{wall:.1f}" for wall in walls)
        peak = f"{max(rss)}" if rss else "-"
        ratio = statistics.median(walls) / baseline
        print(f"{name:<24}{statistics.median(walls):>16.1f}{shown:>24}{sample:>10.1f}{peak:>13}{ratio:>12.2f}")


if __name__ == "__main__":
    main()
