"""Curation benchmarks on real data. Section ``dedup``: MinHash-LSH fuzzy dedup against exact Jaccard and datasketch.
Section ``filters``: throughput of the NeMo heuristic filter set through the framework (Dask partitions, batch
paths, accounting) against a plain per-document Python loop over the same filters, in the same run.

    python benchmarks/curation.py filters --data ../shared/data/t0_sample   # the 6,364 T0 prompts, x4 copies

    python benchmarks/curation.py dedup --data ../shared/data/t0_sample     # the 6,364 T0 prompts, b=18, r=15
    python benchmarks/curation.py dedup --num-buckets 20 --hashes-per-bucket 13   # NeMo Curator's defaults

Data: the ``prompt`` field of every line of ``<data>/*.jsonl``. ``--data`` defaults to the repository's subset
of the T0 sample, ``tests/data/t0_sample`` (960 prompts, a quick run); the figures in docs/benchmarks.md are
for the full sample, ``--data ../shared/data/t0_sample`` (6,364 prompts). Shingles: the set of
character 5-grams of the prompt (the library's default shingling), here as Python strings, so the ground truth
does not share code with the hashes under test.

Definitions (unordered pairs of distinct documents):
* *true pairs*: exact Jaccard of the shingle sets >= threshold, computed for all ~20 M pairs with a sparse
  shingle-incidence matrix product (scipy), in row blocks;
* *asserted edges* (pair level, the acceptance measure): pairs sharing at least one LSH bucket — the pairs
  the method itself claims are near-duplicates; *Jaccard-verified*: those the library's exact check keeps;
* *group pairs* (group level): every pair inside one predicted duplicate group (connected component);
* recall = |predicted & true| / |true|, precision = |predicted & true| / |predicted|. Connected components
  are transitive, the threshold graph is not: the *closure* row scores the exact graph's own components the
  same way — the best any components-based method can reach (its pairs below the threshold are chains of
  near-duplicates, Jaccard 0.56-0.8 here). ``precision vs closure`` counts a predicted pair as right when both
  documents are in the same component of the exact graph.

Throughput (documents/s, end to end, wall clock, same run): ``FuzzyDuplicates.identify_duplicates`` on Dask's
default (threaded) scheduler and on the synchronous one (one core), against datasketch ``MinHash`` (same shingles,
``update_batch``) + ``MinHashLSH(params=(b, r))`` insert and query of every document, at equal num_perm.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from curator_synth.dedup.fuzzy import FuzzyDuplicatesConfig

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "t0_sample"  # the in-repo subset (960 prompts)
DEFAULTS = FuzzyDuplicatesConfig()


def load_t0_prompts(data: Path = DATA) -> list[str]:
    files = sorted(data.glob("*.jsonl"))
    if not files:
        raise SystemExit(f"no T0 sample (*.jsonl) found in {data}")
    return [json.loads(line)["prompt"] for path in files for line in path.read_text().splitlines() if line.strip()]


def char_shingle_strings(text: str, n: int) -> set[str]:
    return {text[i : i + n] for i in range(len(text) - n + 1)} if len(text) >= n else ({text} if text else set())


# ------------------------------------------------------------------------------------------ ground truth
def exact_jaccard_pairs(texts: list[str], n: int, threshold: float, block: int = 1000) -> np.ndarray:
    """All pairs ``i < j`` with exact Jaccard >= threshold, as codes ``i * len(texts) + j`` (sorted)."""
    import scipy.sparse as sp

    vocabulary: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    for row, text in enumerate(texts):
        ids = [vocabulary.setdefault(s, len(vocabulary)) for s in char_shingle_strings(text, n)]
        cols.extend(ids)
        rows.extend([row] * len(ids))
    docs = len(texts)
    matrix = sp.csr_matrix((np.ones(len(cols), np.float32), (rows, cols)), shape=(docs, len(vocabulary)))
    sizes = np.asarray(matrix.sum(axis=1)).ravel()
    transposed = matrix.T.tocsr()
    found = []
    for start in range(0, docs, block):
        stop = min(start + block, docs)
        inter = (matrix[start:stop] @ transposed).toarray()
        union = sizes[start:stop, None] + sizes[None, :] - inter
        with np.errstate(invalid="ignore", divide="ignore"):
            jaccard = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
        upper = np.arange(docs)[None, :] > np.arange(start, stop)[:, None]
        i, j = np.nonzero((jaccard >= threshold - 1e-9) & upper)
        found.append((i + start).astype(np.int64) * docs + j)
    return np.unique(np.concatenate(found)) if found else np.empty(0, np.int64)


def pairs_in_groups(labels: Iterable[np.ndarray], docs: int) -> np.ndarray:
    """Codes of all pairs inside each group (each group: an array of document positions)."""
    codes = []
    for members in labels:
        members = np.sort(members)
        i, j = np.triu_indices(len(members), k=1)
        codes.append(members[i].astype(np.int64) * docs + members[j])
    return np.unique(np.concatenate(codes)) if codes else np.empty(0, np.int64)


def components_of_pairs(codes: np.ndarray, docs: int) -> list[np.ndarray]:
    from curator_synth.dedup.lsh import connected_components

    labels = connected_components(docs, codes // docs, codes % docs)
    frame = pd.DataFrame({"doc": np.arange(docs), "label": labels})
    return [g.to_numpy() for _, g in frame.groupby("label")["doc"] if len(g) > 1]


def score(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    hit = len(np.intersect1d(predicted, truth, assume_unique=True))
    return hit / max(len(truth), 1), hit / max(len(predicted), 1)


# ------------------------------------------------------------------------------------------ runs
def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def run_curator(texts: list[str], partitions: int, scheduler: str | None, **options: Any) -> tuple[Any, float]:
    import dask

    from curator_synth.dataset import DocumentDataset
    from curator_synth.dedup.fuzzy import FuzzyDuplicates

    dataset = DocumentDataset.from_pandas(pd.DataFrame({"id": np.arange(len(texts)), "text": texts}), partitions)
    fuzzy = FuzzyDuplicates(**options)
    with dask.config.set(scheduler=scheduler) if scheduler else _nothing():
        return timed(lambda: fuzzy.identify_duplicates(dataset).to_pandas())


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def run_datasketch(texts: list[str], n: int, buckets: int, rows: int, seed: int) -> tuple[np.ndarray, float]:
    """datasketch MinHash + MinHashLSH (insert + query of every document); returns candidate-pair codes."""
    from datasketch import MinHash, MinHashLSH

    def work() -> np.ndarray:
        lsh = MinHashLSH(num_perm=buckets * rows, params=(buckets, rows))
        sketches = []
        for key, text in enumerate(texts):
            sketch = MinHash(num_perm=buckets * rows, seed=seed)
            sketch.update_batch([s.encode("utf-8") for s in char_shingle_strings(text, n)])
            lsh.insert(key, sketch)
            sketches.append(sketch)
        codes = [min(key, other) * len(texts) + max(key, other) for key, sketch in enumerate(sketches)
                 for other in lsh.query(sketch) if other != key]  # fmt: skip
        return np.unique(np.asarray(codes, dtype=np.int64))

    return timed(work)


def bucket_candidate_pairs(texts: list[str], **options: Any) -> np.ndarray:
    """Pairs sharing at least one LSH bucket, from ``FuzzyDuplicates.buckets``."""
    from curator_synth.dataset import DocumentDataset
    from curator_synth.dedup.fuzzy import FuzzyDuplicates

    dataset = DocumentDataset.from_pandas(pd.DataFrame({"id": np.arange(len(texts)), "text": texts}), 4)
    table = FuzzyDuplicates(**options).buckets(dataset).compute()
    table = table[table.duplicated("_bucket", keep=False)]
    codes = []
    for _, members in table.groupby("_bucket")["id"]:
        members = np.sort(members.to_numpy())
        i, j = np.triu_indices(len(members), k=1)
        codes.append(members[i].astype(np.int64) * len(texts) + members[j])
    return np.unique(np.concatenate(codes)) if codes else np.empty(0, np.int64)


def verified_pairs(texts: list[str], codes: np.ndarray, **options: Any) -> np.ndarray:
    """The pairs of ``codes`` that the library's own Jaccard check keeps (``false_positive_check``'s test)."""
    from curator_synth.dedup.fuzzy import FuzzyDuplicatesConfig
    from curator_synth.dedup.lsh import verify_pairs

    docs = len(texts)
    left, right = codes // docs, codes % docs
    array = np.asarray(texts, dtype=object)
    frame = pd.DataFrame({"id_a": left, "id_b": right, "text_a": array[left], "text_b": array[right]})
    config = FuzzyDuplicatesConfig(**options)
    kept = verify_pairs(frame, config.shingles, config.jaccard_threshold)
    return np.sort(kept["id_a"].to_numpy(np.int64) * docs + kept["id_b"].to_numpy(np.int64))


def print_table(rows: list[tuple[str, int, float, float, float, str]]) -> None:
    print("| pairs | count | recall | precision | precision vs closure | docs/s |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, count, recall, precision, closure_precision, rate in rows:
        print(f"| {name} | {count:,} | {recall:.4f} | {precision:.4f} | {closure_precision:.4f} | {rate} |")


def dedup_benchmark(args: argparse.Namespace) -> None:
    texts = load_t0_prompts(args.data)
    if args.limit:
        texts = texts[: args.limit]
    docs, n, b, r = len(texts), args.char_ngrams, args.num_buckets, args.hashes_per_bucket
    options = {"char_ngrams": n, "num_buckets": b, "hashes_per_bucket": r, "seed": args.seed}
    options["jaccard_threshold"] = args.threshold
    print(f"{docs} T0 prompts; char {n}-grams; b={b} buckets x r={r} hashes = {b * r} permutations; "
          f"threshold {args.threshold}; {args.partitions} partitions")  # fmt: skip

    truth, seconds = timed(lambda: exact_jaccard_pairs(texts, n, args.threshold))
    closure = pairs_in_groups(components_of_pairs(truth, docs), docs)
    print(f"exact all-pairs Jaccard: {len(truth)} true pairs in {seconds:.1f} s; closure {len(closure)} pairs")

    def row(name: str, predicted: np.ndarray, seconds: float | None) -> tuple[str, int, float, float, float, str]:
        recall, precision = score(predicted, truth)
        _, closure_precision = score(predicted, closure)
        rate = f"{docs / seconds:,.0f}" if seconds else "-"
        return (name, len(predicted), recall, precision, closure_precision, rate)

    timings: dict[str, float] = {}
    groups_rows = [row("exact graph's components (closure, a perfect grouping)", closure, None)]
    for label, scheduler, check in [
        ("default scheduler", None, False),
        ("synchronous, 1 core", "synchronous", False),
        ("default scheduler, false_positive_check", None, True),
    ]:
        run_curator(texts[:200], args.partitions, scheduler, false_positive_check=check, **options)  # warm-up
        groups, seconds = run_curator(texts, args.partitions, scheduler, false_positive_check=check, **options)
        timings[label] = seconds
        members = [g["id"].to_numpy() for _, g in groups.groupby("group")]
        groups_rows.append(row(f"curator_synth groups, {label}", pairs_in_groups(members, docs), seconds))

    candidates = bucket_candidate_pairs(texts, **options)
    edge_rows = [
        row("curator_synth asserted edges (pairs sharing a bucket)", candidates, timings["default scheduler"]),
        row("curator_synth asserted edges, Jaccard-verified", verified_pairs(texts, candidates, **options),
            timings["default scheduler, false_positive_check"]),
    ]  # fmt: skip
    ours = docs / timings["default scheduler"]
    if not args.skip_datasketch:
        ds_candidates, seconds = run_datasketch(texts, n, b, r, args.seed)
        edge_rows.append(row("datasketch asserted edges (MinHash + MinHashLSH, same b x r)", ds_candidates, seconds))
        groups_rows.append(row("datasketch groups (components of its edges)", pairs_in_groups(
            components_of_pairs(ds_candidates, docs), docs), seconds))  # fmt: skip
        theirs = docs / seconds
        print(f"throughput: curator_synth {ours:,.0f} docs/s (default scheduler, no check) vs datasketch "
              f"{theirs:,.0f} docs/s: {ours / theirs:.1f}x")  # fmt: skip

    print("\nPair level: the pairs each method asserts are duplicates (the acceptance measure)")
    print_table(edge_rows)
    print("\nGroup level: every pair inside one connected component counts as asserted")
    print_table(groups_rows)


def heuristic_filters() -> list[Any]:
    """Every NeMo heuristic filter with its defaults (the set NeMo's heuristic recipe applies)."""
    import curator_synth.filters as f

    return [
        f.WordCountFilter(min_words=5), f.NonAlphaNumericFilter(), f.SymbolsToWordsFilter(), f.NumbersFilter(),
        f.UrlsFilter(), f.BulletsFilter(), f.WhiteSpaceFilter(), f.ParenthesesFilter(), f.LongWordFilter(),
        f.MeanWordLengthFilter(), f.RepeatedLinesFilter(), f.RepeatedParagraphsFilter(),
        f.RepeatedLinesByCharFilter(), f.RepeatedParagraphsByCharFilter(), f.RepeatingTopNGramsFilter(),
        f.RepeatingDuplicateNGramsFilter(), f.PunctuationFilter(), f.EllipsisFilter(),
        f.CommonEnglishWordsFilter(), f.WordsWithoutAlphabetsFilter(), f.BoilerPlateStringFilter(),
    ]  # fmt: skip


def filter_benchmark(args: argparse.Namespace) -> None:
    from curator_synth.dataset import DocumentDataset
    from curator_synth.filters import ScoreFilter, Sequential

    texts = load_t0_prompts(args.data) * args.copies
    filters = heuristic_filters()

    def plain_loop() -> int:
        kept = 0
        for text in texts:
            kept += all(bool(flt.keep_document(flt.score_document(text))) for flt in filters)
        return kept

    def framework() -> int:
        frame = pd.DataFrame({"id": np.arange(len(texts)), "text": texts})
        dataset = DocumentDataset.from_pandas(frame, npartitions=args.partitions)
        result, _report = Sequential([ScoreFilter(flt) for flt in filters])(dataset).compute_with_report()
        return len(result)

    baseline_kept, baseline_time = timed(plain_loop)
    kept, elapsed = timed(framework)
    print(f"{len(texts)} documents (T0 prompts x{args.copies}), {len(filters)} NeMo heuristic filters")
    print(f"{'variant':<40}{'kept':>8}{'docs/s':>10}")
    print(f"{'plain per-document loop (baseline)':<40}{baseline_kept:>8}{len(texts) / baseline_time:>10.0f}")
    print(f"{'ScoreFilter chain on Dask (+ report)':<40}{kept:>8}{len(texts) / elapsed:>10.0f}")
    print(f"framework / baseline: {baseline_time / elapsed:.2f}x; same documents kept: {kept == baseline_kept}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sections = parser.add_subparsers(dest="section", required=True)
    filters = sections.add_parser("filters", help="heuristic filter throughput vs a plain per-document loop")
    filters.add_argument("--copies", type=int, default=4, help="repeat the T0 prompts this many times")
    filters.add_argument("--partitions", type=int, default=4)
    filters.set_defaults(run=filter_benchmark)
    dedup = sections.add_parser("dedup", help="fuzzy dedup: quality vs exact Jaccard, throughput vs datasketch")
    dedup.add_argument("--char-ngrams", type=int, default=5)
    dedup.add_argument("--num-buckets", type=int, default=DEFAULTS.num_buckets)
    dedup.add_argument("--hashes-per-bucket", type=int, default=DEFAULTS.hashes_per_bucket)
    dedup.add_argument("--threshold", type=float, default=0.8)
    dedup.add_argument("--partitions", type=int, default=4)
    dedup.add_argument("--seed", type=int, default=42)
    dedup.add_argument("--limit", type=int, default=0, help="only the first N prompts (0: all)")
    dedup.add_argument("--skip-datasketch", action="store_true")
    dedup.set_defaults(run=dedup_benchmark)
    for section in (filters, dedup):
        section.add_argument("--data", type=Path, default=DATA, help=f"directory of T0 *.jsonl files (default: {DATA})")
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
