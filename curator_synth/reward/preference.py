"""Preference pairs (chosen/rejected) for DPO-style training, from scored responses or pairwise verdicts.

From scores, :func:`build_preference_pairs` groups candidate responses by their instruction and pairs them by a
strategy from :data:`PAIR_STRATEGIES`:

- ``"best_vs_worst"`` (default): one pair per instruction, its highest-scored response against its lowest;
- ``"all_pairs"``: every two responses of an instruction, the higher-scored one chosen.

A pair is kept only when the chosen score exceeds the rejected one by at least ``min_margin`` (and by more than
zero: equal scores say nothing about preference). From pairwise verdicts, :func:`pairs_from_verdicts` takes
the consistent, non-tie ones, the winner chosen.

:func:`write_dpo_jsonl` writes pairs atomically as JSON Lines in the layout TRL's ``DPOTrainer`` and Hugging Face
``datasets`` read: ``prompt``/``chosen``/``rejected`` as strings, or as message lists with ``format="messages"``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeAlias

import pandas as pd

from curator_synth._files import atomic_write
from curator_synth.dataset import DocumentDataset
from curator_synth.errors import ConfigError
from curator_synth.outcome import Outcome
from curator_synth.registry import Registry
from curator_synth.reward.pairwise import PairwiseVerdict
from curator_synth.reward.scores import RewardScores

__all__ = [
    "DPO_FORMATS",
    "PAIR_STRATEGIES",
    "Candidate",
    "PreferencePair",
    "build_preference_pairs",
    "pairs_from_verdicts",
    "write_dpo_jsonl",
]

Source = Literal["score", "pairwise"]


@dataclass(frozen=True)
class Candidate:
    """One scored response to an instruction, as the pairing strategies see it (``position``: input order)."""

    prompt: str
    response: str
    score: float
    provenance: dict[str, Any]
    position: int


@dataclass(frozen=True)
class PreferencePair:
    """A prompt with a preferred (``chosen``) and a dispreferred (``rejected``) response.

    Scores and ``margin`` (chosen minus rejected) are ``None`` for pairs decided by a pairwise judge.
    ``chosen_provenance`` / ``rejected_provenance`` say where each response came from (its record's provenance,
    with the record's id under ``"id"`` when it had one); ``decided_by`` says how the pair was formed (the
    strategy and margin, or the judge's provenance and raw verdicts).
    """

    prompt: str
    chosen: str
    rejected: str
    chosen_score: float | None
    rejected_score: float | None
    margin: float | None
    chosen_provenance: dict[str, Any] = field(default_factory=dict, compare=False)
    rejected_provenance: dict[str, Any] = field(default_factory=dict, compare=False)
    source: Source = "score"
    decided_by: dict[str, Any] = field(default_factory=dict, compare=False)


# ----------------------------------------------------------------------------------------------- strategies
Strategy = Callable[[Sequence[Candidate], float], list[tuple[Candidate, Candidate]]]
"""``(candidates of one instruction, min_margin) -> [(chosen, rejected), ...]``."""

#: Pairing strategies by name; add your own with ``PAIR_STRATEGIES.add("name", function)`` (or the entry point
#: group ``curator_synth.pair_strategies``).
PAIR_STRATEGIES: Registry[Strategy] = Registry("pair_strategies")


def _keeps(chosen: Candidate, rejected: Candidate, min_margin: float) -> bool:
    margin = chosen.score - rejected.score
    return margin > 0 and margin >= min_margin and chosen.response != rejected.response


@PAIR_STRATEGIES.register("best_vs_worst")
def best_vs_worst(candidates: Sequence[Candidate], min_margin: float) -> list[tuple[Candidate, Candidate]]:
    """The highest-scored response against the lowest (the first of equals in input order)."""
    best = max(candidates, key=lambda c: (c.score, -c.position))
    worst = min(candidates, key=lambda c: (c.score, c.position))
    return [(best, worst)] if _keeps(best, worst, min_margin) else []


@PAIR_STRATEGIES.register("all_pairs")
def all_pairs(candidates: Sequence[Candidate], min_margin: float) -> list[tuple[Candidate, Candidate]]:
    """Every two responses whose scores differ by at least ``min_margin``, in input order of the first."""
    pairs = []
    for i, first in enumerate(candidates):
        for second in candidates[i + 1 :]:
            chosen, rejected = (first, second) if first.score >= second.score else (second, first)
            if _keeps(chosen, rejected, min_margin):
                pairs.append((chosen, rejected))
    return pairs


# ------------------------------------------------------------------------------------------------- reading
Records: TypeAlias = Iterable[Any] | pd.DataFrame | DocumentDataset
"""Mappings or objects with attributes, one per response; or a pandas DataFrame or a DocumentDataset."""


def _rows(records: Records) -> Iterable[Any]:
    if isinstance(records, DocumentDataset):
        records = records.to_pandas()
    if isinstance(records, pd.DataFrame):
        return records.to_dict(orient="records")
    if isinstance(records, (str, bytes, Mapping)):
        raise ConfigError(f"records must be an iterable of records or a DataFrame, got {type(records).__name__}")
    return records


_MISSING = object()


def _get(row: Any, name: str) -> Any:
    if isinstance(row, Mapping):
        return row.get(name, _MISSING)
    return getattr(row, name, _MISSING)


def _absent(value: Any) -> bool:
    """No value: the field is missing, None, or NaN (a DataFrame's empty cell)."""
    return value is _MISSING or value is None or (isinstance(value, float) and math.isnan(value))


def _score(value: Any, index: int, name: str) -> float:
    if isinstance(value, RewardScores):
        value = value.overall
    if isinstance(value, bool) or (not isinstance(value, (int, float)) and not hasattr(value, "__float__")):
        raise ConfigError(f"record {index}: {name!r} must be a number or RewardScores, got {type(value).__name__}")
    number = float(value)
    if math.isnan(number):
        raise ConfigError(f"record {index}: {name!r} is missing (NaN); drop unscored records first")
    return number


def _candidate(row: Any, index: int, fields: Mapping[str, str | None]) -> Candidate:
    values: dict[str, Any] = {}
    for role in ("instruction", "response", "score"):
        value = _get(row, str(fields[role]))
        if value is _MISSING:
            raise ConfigError(f"record {index} has no {fields[role]!r} field (set {role}_field= to its name)")
        values[role] = value
    for role in ("instruction", "response"):
        if not isinstance(values[role], str):
            raise ConfigError(f"record {index}: {fields[role]!r} must be a string, got {type(values[role]).__name__}")
    provenance: dict[str, Any] = {}
    if fields["provenance"] is not None:
        found = _get(row, fields["provenance"])
        if isinstance(found, Mapping):
            provenance = dict(found)
        elif not _absent(found):
            raise ConfigError(f"record {index}: {fields['provenance']!r} must be a mapping, got {type(found).__name__}")
    if fields["id"] is not None:
        record_id = _get(row, fields["id"])
        if not _absent(record_id):
            provenance.setdefault("id", record_id)
    score = _score(values["score"], index, str(fields["score"]))
    return Candidate(values["instruction"], values["response"], score, provenance, index)


def build_preference_pairs(
    records: Records,
    *,
    min_margin: float = 0.0,
    strategy: str = "best_vs_worst",
    instruction_field: str = "instruction",
    response_field: str = "response",
    score_field: str = "score",
    provenance_field: str | None = "provenance",
    id_field: str | None = "id",
) -> list[PreferencePair]:
    """Chosen/rejected pairs from scored candidate responses, grouped by instruction (exact text).

    ``records``: mappings or objects with attributes (one per response), a pandas DataFrame or a
    :class:`DocumentDataset`. Each needs an instruction, a response and a score (a number, or a
    :class:`RewardScores`, whose ``overall`` is used; with a DataFrame of ``RewardScores.as_dict("reward_")``
    columns pass ``score_field="reward_overall"``); provenance (a mapping) and id are optional. A missing field
    or a NaN score is a :class:`ConfigError`. Groups keep input order; groups with one response give no pair.

    ``strategy`` names a :data:`PAIR_STRATEGIES` entry; ``min_margin`` (>= 0) is the smallest score difference
    kept. Pairs of equal scores, and pairs of identical response texts, are always skipped.
    """
    if isinstance(min_margin, bool) or not isinstance(min_margin, (int, float)) or not min_margin >= 0:
        raise ConfigError(f"min_margin must be a number >= 0, got {min_margin!r}")
    pair = PAIR_STRATEGIES.get(strategy)
    fields = {
        "instruction": instruction_field,
        "response": response_field,
        "score": score_field,
        "provenance": provenance_field,
        "id": id_field,
    }
    groups: dict[str, list[Candidate]] = {}
    for index, row in enumerate(_rows(records)):
        candidate = _candidate(row, index, fields)
        groups.setdefault(candidate.prompt, []).append(candidate)
    decided_by = {"strategy": strategy, "min_margin": float(min_margin)}
    return [
        PreferencePair(
            prompt=chosen.prompt,
            chosen=chosen.response,
            rejected=rejected.response,
            chosen_score=chosen.score,
            rejected_score=rejected.score,
            margin=chosen.score - rejected.score,
            chosen_provenance=dict(chosen.provenance),
            rejected_provenance=dict(rejected.provenance),
            source="score",
            decided_by=dict(decided_by),
        )
        for candidates in groups.values()
        if len(candidates) > 1
        for chosen, rejected in pair(candidates, float(min_margin))
    ]


def pairs_from_verdicts(
    verdicts: Outcome[PairwiseVerdict] | Iterable[PairwiseVerdict],
) -> list[PreferencePair]:
    """Pairs from pairwise verdicts: the winner chosen, the other rejected. Inconsistent verdicts and ties are
    skipped. Scores and margin are ``None``; each side keeps its ``provenance_a``/``provenance_b``, and
    ``decided_by`` holds the judge's provenance and its two raw verdicts."""
    items = verdicts.items if isinstance(verdicts, Outcome) else verdicts
    pairs = []
    for index, verdict in enumerate(items):
        if not isinstance(verdict, PairwiseVerdict):
            raise ConfigError(f"item {index}: expected a PairwiseVerdict, got {type(verdict).__name__}")
        if verdict.winner not in ("a", "b"):
            continue
        sides = [(verdict.response_a, verdict.provenance_a), (verdict.response_b, verdict.provenance_b)]
        if verdict.winner == "b":
            sides.reverse()
        (chosen, chosen_provenance), (rejected, rejected_provenance) = sides
        pairs.append(
            PreferencePair(
                prompt=verdict.instruction,
                chosen=chosen,
                rejected=rejected,
                chosen_score=None,
                rejected_score=None,
                margin=None,
                chosen_provenance=dict(chosen_provenance),
                rejected_provenance=dict(rejected_provenance),
                source="pairwise",
                decided_by={"judge": dict(verdict.provenance), "verdicts": [verdict.first, verdict.second]},
            )
        )
    return pairs


# ------------------------------------------------------------------------------------------------- export
DpoRow = Callable[[PreferencePair], dict[str, Any]]


def _text_row(pair: PreferencePair) -> dict[str, Any]:
    return {"prompt": pair.prompt, "chosen": pair.chosen, "rejected": pair.rejected}


def _messages_row(pair: PreferencePair) -> dict[str, Any]:
    return {
        "prompt": [{"role": "user", "content": pair.prompt}],
        "chosen": [{"role": "assistant", "content": pair.chosen}],
        "rejected": [{"role": "assistant", "content": pair.rejected}],
    }


#: Row layouts of :func:`write_dpo_jsonl` by ``format`` name: ``"text"`` (TRL's standard preference format)
#: and ``"messages"`` (TRL's conversational one).
DPO_FORMATS: Registry[DpoRow] = Registry("dpo_formats")
DPO_FORMATS.add("text", _text_row)
DPO_FORMATS.add("messages", _messages_row)


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy arrays and scalars (provenance read back from parquet)
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def _dpo_row(pair: PreferencePair, index: int, row_of: DpoRow) -> dict[str, Any]:
    if not isinstance(pair, PreferencePair):
        raise ConfigError(f"item {index}: expected a PreferencePair, got {type(pair).__name__}")
    return {
        **row_of(pair),
        "chosen_score": pair.chosen_score,
        "rejected_score": pair.rejected_score,
        "margin": pair.margin,
        "provenance": {
            "source": pair.source,
            "chosen": pair.chosen_provenance,
            "rejected": pair.rejected_provenance,
            "decided_by": pair.decided_by,
        },
    }


def write_dpo_jsonl(pairs: Iterable[PreferencePair], path: str | os.PathLike[str], *, format: str = "text") -> Path:
    """Write ``pairs`` to the JSON Lines file ``path`` (parent directories are created) and return the path.

    One object per line: ``prompt``, ``chosen``, ``rejected`` (strings; with ``format="messages"``, message
    lists: a user turn for the prompt, an assistant turn for each response), ``chosen_score``,
    ``rejected_score``, ``margin`` (null for judge-decided pairs) and ``provenance``:
    ``{"source", "chosen", "rejected", "decided_by"}``. Pairs are streamed to a temporary file beside ``path``
    that is renamed over it with ``os.replace`` once complete, so ``path`` never holds a partial file (an error
    while writing, including a bad item, leaves it as it was and removes the temporary file).
    """
    row_of = DPO_FORMATS.get(format)
    target = Path(path)
    if target.is_dir():
        raise ConfigError(f"write_dpo_jsonl writes one file; {os.fspath(target)!r} is a directory")
    target.parent.mkdir(parents=True, exist_ok=True)

    def write(temp: Path) -> None:
        with open(temp, "w", encoding="utf-8", newline="\n") as handle:
            for index, pair in enumerate(pairs):
                handle.write(json.dumps(_dpo_row(pair, index, row_of), ensure_ascii=False, default=_json_default))
                handle.write("\n")

    return atomic_write(target, write)
