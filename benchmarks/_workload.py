"""The workload of the recipe benchmarks, and how they time a run. The instructions they send are the
Self-Instruct seed and user-oriented instructions shipped in the package, numbered so that every record is distinct
(``python benchmarks/<name>.py`` puts this directory first on ``sys.path``, so the benchmarks import it as
``_workload``)."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["RecordedLatency", "read_chains", "run_timed", "write_instructions", "write_recipe"]

SOURCE = Path(__file__).resolve().parents[1] / "curator_synth" / "data" / "self_instruct"


def write_instructions(directory: Path, records: int) -> Path:
    """``directory/instructions.jsonl``: ``records`` rows ``{"id": "r<i>", "instruction": "... (#<i>)"}``."""
    texts = []
    for name in ("seed_tasks.jsonl", "user_oriented_instructions.jsonl"):
        for line in (SOURCE / name).read_text().splitlines():
            texts.append(json.loads(line)["instruction"])
    rows = [{"id": f"r{i}", "instruction": f"{texts[i % len(texts)]} (#{i})"} for i in range(records)]
    data = directory / "instructions.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return data


@dataclass(frozen=True)
class RecordedLatency:
    """A FakeLLMServer latency (``inner``) that also appends ``[record, seconds]`` to ``path`` for every request:
    the record is the ``#<i>`` its prompt carries (a judge prompt quotes the instruction first). It is picklable,
    so a server in its own process writes the file; :func:`read_chains` turns it into the run's chains."""

    inner: Callable[[Any], float]
    path: Path

    def __call__(self, request: Any) -> float:
        seconds = self.inner(request)
        found = re.search(r"\(#(\d+)\)", request.prompt)
        with self.path.open("a") as log:
            log.write(json.dumps([int(found.group(1)) if found else -1, seconds]) + "\n")
        return seconds


def read_chains(path: Path) -> list[list[float]]:
    """The latencies :class:`RecordedLatency` wrote, as one chain per record: its requests' latencies in the order
    they arrived (a record's next request is sent only after its previous one is answered)."""
    chains: dict[int, list[float]] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        record, seconds = json.loads(line)
        if record < 0:
            raise ValueError(f"{path}:{number}: a request whose prompt carries no (#<record>)")
        chains.setdefault(record, []).append(seconds)
    return [chains[record] for record in sorted(chains)]


def write_recipe(directory: Path, records: int, concurrency: int) -> Path:
    """The instructions and ``directory/recipe.yaml``: load -> ``responses`` -> ``score`` (llm_judge) at
    ``max_concurrency`` ``concurrency`` (the recipe of ``recipe_throughput.py`` and ``peers.py``)."""
    data = write_instructions(directory, records)
    recipe = {
        "name": "recipe_throughput",
        "client": {"max_concurrency": concurrency, "max_retries": 2},
        "stages": [
            {"stage": "load", "path": str(data), "columns": ["id", "instruction"]},
            {"stage": "responses", "max_tokens": 128},
            {"stage": "score", "mode": "llm_judge"},
        ],
    }
    path = directory / "recipe.yaml"
    path.write_text(json.dumps(recipe))
    return path


def run_timed(command: list[str], server: Any, env: dict[str, str], cwd: Path) -> dict[str, float | str]:
    """Wall seconds from the process's start to its exit; the server's requests, summed and longest latency and most
    requests in flight; when the first and the last request reached the server and the last answer left it (polled
    every 0.2 s). The output goes to files in
    ``cwd``: distilabel logs every request, and a pipe nobody reads while it runs would fill and block it."""
    server.reset_stats()
    with (cwd / "stdout.txt").open("w+") as stdout, (cwd / "stderr.txt").open("w+") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env, cwd=cwd)
        first = last = answered = 0.0
        seen = done = 0
        while process.poll() is None:
            stats = server.stats()
            now = time.perf_counter() - started
            if stats["requests"] != seen:
                first, last, seen = first or now, now, stats["requests"]
            if stats["responses_ok"] != done:
                answered, done = now, stats["responses_ok"]
            time.sleep(0.2)
        wall = time.perf_counter() - started
        if server.stats()["responses_ok"] != done:  # answered after the last poll
            answered = wall
    output, errors = (cwd / "stdout.txt").read_text(), (cwd / "stderr.txt").read_text()
    if process.returncode != 0:
        raise RuntimeError(f"exit {process.returncode}:\n{output[-2000:]}\n{errors[-3000:]}")
    stats = server.stats()
    outcome = output.strip().splitlines()[-1] if output.strip() else ""
    return {"wall": wall, "latency": stats["latency_seconds"], "requests": stats["requests"], "outcome": outcome,
            "max_in_flight": stats["max_in_flight"], "first_sent": first, "last_sent": last,
            "last_answer": answered, "longest": stats["latency_max"]}  # fmt: skip
