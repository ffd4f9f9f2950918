"""ROUGE-L of one text against a whole pool, as Self-Instruct's novelty filter asks it: curator_synth's bit-parallel
``RougeLIndex`` against rouge-score's ``RougeScorer.score`` over every pool text, in the same run. The scores are
equal (``tests/generators/test_self_instruct.py``); this measures the time.

Pools of random 4-40-word texts over the seed tasks' vocabulary, queries of the same kind; the index is built once
per pool (``build``), then each query is scored against the whole pool.

    python benchmarks/rouge_index.py                       # pools of 1,000, 5,000 and 20,000
    python benchmarks/rouge_index.py --pools 1000 --queries 50
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time
from collections.abc import Callable

from _workload import SOURCE

from curator_synth.dedup.novelty import RougeLIndex

BASELINE_LIMIT = 5000  # rouge-score takes about a second per query at 5,000: larger pools are index-only


def vocabulary() -> list[str]:
    """The words of the shipped Self-Instruct seed tasks."""
    text = (SOURCE / "seed_tasks.jsonl").read_text(encoding="utf-8").lower()
    return sorted(set(re.findall(r"[a-z0-9]+", text)))


def texts(count: int, words: list[str], rng: random.Random) -> list[str]:
    return [" ".join(rng.choices(words, k=rng.randint(4, 40))) for _ in range(count)]


def per_query(function: Callable[[str], object], queries: list[str]) -> float:
    """Median seconds of ``function(query)`` over ``queries``."""
    times = []
    for query in queries:
        started = time.perf_counter()
        function(query)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pools", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--baseline-queries", type=int, default=20, help="queries timed with rouge-score")
    args = parser.parse_args()
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    words, rng = vocabulary(), random.Random(0)
    print(f"{'pool':>7}{'build ms':>10}{'index ms/query':>16}{'rouge-score ms/query':>22}{'rouge-score / index':>21}")
    for size in args.pools:
        pool, queries = texts(size, words, rng), texts(args.queries, words, rng)
        started = time.perf_counter()
        index = RougeLIndex(pool)
        build = time.perf_counter() - started
        ours = per_query(index.scores, queries)
        if size <= BASELINE_LIMIT:

            def over_the_pool(query: str, pool: list[str] = pool) -> object:
                return [scorer.score(query, text) for text in pool]

            theirs = per_query(over_the_pool, queries[: args.baseline_queries])
            baseline = f"{theirs * 1e3:>22.1f}{theirs / ours:>20.0f}x"
        else:
            baseline = f"{'not run':>22}{'':>21}"
        print(f"{size:>7,}{build * 1e3:>10.0f}{ours * 1e3:>16.2f}{baseline}")


if __name__ == "__main__":
    main()
