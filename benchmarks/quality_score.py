"""How well the offline ``quality_score`` ranks real model answers (Self-Instruct user-oriented set).

The 252 user-oriented instructions were answered by six real models, from base GPT-3 davinci to
text-davinci-003. For each model M the table gives the ROC AUC of "text-davinci-003's answer vs M's answer":
the probability that a random 003 answer scores above a random answer of M (ties count half). The
instructions are split in two halves by position (even / odd); :data:`DEFAULT_WEIGHTS` were tuned on the even
half only, so the odd column is held out.

    python benchmarks/quality_score.py            # the AUC table (markdown) with the shipped weights
    python benchmarks/quality_score.py --fit      # refit the logistic weights on the tuning half and print them

The data (Apache-2.0, from the Self-Instruct repository) is the copy shipped in curator_synth/data/self_instruct
(``--data DIR`` reads the same files from another directory).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

import curator_synth
from curator_synth.filters.quality import (
    DEFAULT_BIAS,
    DEFAULT_WEIGHTS,
    QualitySignals,
    combine_signals,
    quality_signals,
)

DATA = Path(curator_synth.__file__).parent / "data" / "self_instruct"  # the shipped copy, all 252 x 6 answers
BEST = "text-davinci-003"
OTHERS = ["davinci", "davinci-t0-ft", "davinci-self-instruct", "text-davinci-001", "text-davinci-002"]
SIGNALS = list(QualitySignals().as_dict())


def load(model: str, data: Path = DATA) -> pd.DataFrame:
    """One model's answers: ``instruction`` (task text + its input, as a user would send it) and ``response``."""
    df = pd.read_json(data / f"predictions_{model}.jsonl", lines=True)
    task = df["instruction"].fillna("").str.strip()
    given = df["input"].fillna("").str.strip()
    instruction = (task + "\n\n" + given).str.strip()
    return pd.DataFrame({"instruction": instruction, "response": df["response"].fillna("")})


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """ROC AUC of scores separating ``positive`` from ``negative`` (Mann-Whitney; ties count half)."""
    greater = (positive[:, None] > negative[None, :]).sum()
    equal = (positive[:, None] == negative[None, :]).sum()
    return float((greater + 0.5 * equal) / (len(positive) * len(negative)))


def signal_matrix(df: pd.DataFrame) -> np.ndarray:
    rows = [quality_signals(i, r).as_dict() for i, r in zip(df["instruction"], df["response"], strict=True)]
    return np.array([[row[name] for name in SIGNALS] for row in rows], dtype=float)


def fit(positive: np.ndarray, negatives: list[np.ndarray], l2: float = 0.001, steps: int = 20000) -> dict[str, float]:
    """Logistic regression of "003 answer" against every other model's answers (each model weighted equally),
    with weights constrained to be <= 0 (every signal is a sign of a problem) and an L2 penalty."""
    x = np.vstack([positive, *negatives])
    y = np.concatenate([np.ones(len(positive)), *[np.zeros(len(n)) for n in negatives]])
    sample_weight = np.concatenate(
        [
            np.full(len(positive), 1.0 / len(positive)),
            *[np.full(len(n), 1.0 / (len(n) * len(negatives))) for n in negatives],
        ]
    )
    w = np.zeros(x.shape[1])
    b = 0.0
    rate = 0.5
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        grad = (p - y) * sample_weight
        w = np.minimum(0.0, w - rate * (x.T @ grad + l2 * w))
        b -= rate * grad.sum()
    return {"bias": round(float(b), 2), **{name: round(float(v), 2) for name, v in zip(SIGNALS, w, strict=True)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true", help="refit the weights on the tuning half and print them")
    parser.add_argument("--data", type=Path, default=DATA, help=f"the predictions_*.jsonl files (default: {DATA})")
    args = parser.parse_args()

    started = time.perf_counter()
    frames = {m: load(m, args.data) for m in [BEST, *OTHERS]}
    signals = {m: signal_matrix(df) for m, df in frames.items()}
    elapsed = time.perf_counter() - started
    n = len(frames[BEST])
    tune = np.arange(n) % 2 == 0

    weights, bias = dict(DEFAULT_WEIGHTS), DEFAULT_BIAS
    if args.fit:
        fitted = fit(signals[BEST][tune], [signals[m][tune] for m in OTHERS])
        print("fitted on the tuning half:", fitted, "\n")
        bias = fitted.pop("bias")
        weights = fitted

    def score(matrix: np.ndarray) -> np.ndarray:
        rows = [QualitySignals(**dict(zip(SIGNALS, row, strict=True))) for row in matrix]
        return np.array([combine_signals(s, weights, bias) for s in rows])

    scores = {m: score(matrix) for m, matrix in signals.items()}
    print(f"{n} instructions x {len(frames)} models, {elapsed:.2f} s for {n * len(frames)} signal sets\n")
    print("| text-davinci-003 vs | AUC, all 252 | AUC, tuning half (126) | AUC, held-out half (126) |")
    print("|---|---|---|---|")
    for m in OTHERS:
        best, other = scores[BEST], scores[m]
        row = [auc(best, other), auc(best[tune], other[tune]), auc(best[~tune], other[~tune])]
        print(f"| {m} | " + " | ".join(f"{v:.3f}" for v in row) + " |")
    print("\nmean quality_score per model:", {m: round(float(s.mean()), 3) for m, s in scores.items()})


if __name__ == "__main__":
    main()
