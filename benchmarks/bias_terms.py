"""The report's term counts (``bias_summary``) against the plain way, one word-boundary regex per term group over
every text, on the same records in the same run. The counts are equal
(``tests/report/test_bias.py::test_counts_equal_a_word_boundary_regex_on_real_data``); this measures the time.

Records: the instructions and responses of the six Self-Instruct prediction files shipped in the package (real
model answers), repeated to ``--records`` rows; terms: the shipped lists (``prompt_templates/bias_terms.yaml``).

    python benchmarks/bias_terms.py                    # 100,000 records
"""

from __future__ import annotations

import argparse
import re
import time

import pandas as pd
from _workload import SOURCE

from curator_synth.report.bias import bias_summary
from curator_synth.report.terms import TermMatcher, default_terms


def records(count: int) -> pd.DataFrame:
    frames = [pd.read_json(path, lines=True) for path in sorted(SOURCE.glob("predictions_*.jsonl"))]
    texts = pd.concat(frames, ignore_index=True)[["instruction", "response"]].fillna("")
    repeats = -(-count // len(texts))
    return pd.concat([texts] * repeats, ignore_index=True).head(count)


def regex_counts(frame: pd.DataFrame, terms: dict[str, dict[str, tuple[str, ...]]]) -> float:
    """Seconds for one compiled regex per group label over every text of both fields (the test's oracle)."""
    started = time.perf_counter()
    for labels in terms.values():
        for phrases in labels.values():
            words = "|".join(r"\W+".join(map(re.escape, phrase.split(" "))) for phrase in phrases)
            pattern = re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.IGNORECASE)
            for field in ("instruction", "response"):
                sum(bool(pattern.search(text)) for text in frame[field])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    frame, terms = records(args.records), default_terms()
    matcher = TermMatcher(terms)
    started = time.perf_counter()
    bias_summary(frame, terms=matcher)
    ours = time.perf_counter() - started
    theirs = regex_counts(frame, terms)
    labels = sum(len(labels) for labels in terms.values())
    lengths = frame["instruction"].str.len().mean(), frame["response"].str.len().mean()
    print(f"{len(frame):,} records (instructions ~{lengths[0]:.0f} chars, responses ~{lengths[1]:.0f}), "
          f"{len(terms)} groups, {labels} labels")  # fmt: skip
    print(f"bias_summary {ours:.2f} s; one regex per label {theirs:.2f} s; regex / bias_summary {theirs / ours:.1f}x")


if __name__ == "__main__":
    main()
