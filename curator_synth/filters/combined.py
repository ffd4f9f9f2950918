"""``CombinedFilter``: the seed pipeline's one filter over a list of samples — quality, safety, diversity.

A thin layer over the existing pieces, for samples held in memory (a list of
:class:`~curator_synth.records.Sample` or of mappings), where the dataset steps
(:class:`~curator_synth.filters.ScoreFilter`, the dedup classes) work on a Dask-backed dataset:

- **quality**: :class:`~curator_synth.filters.QualityFilter` (the offline quality score of the prompt and the
  response) by default, or the filters given; optionally a minimum of a score the sample carries
  (``min_score``, e.g. a :class:`~curator_synth.reward.RewardModel`'s ``overall``);
- **safety**: :class:`~curator_synth.filters.SafetyFilter` on the instruction, the input and the response;
- **diversity**: exact duplicates (lower-cased, whitespace-collapsed prompt) and Self-Instruct's ROUGE-L
  novelty rule (:class:`~curator_synth.dedup.novelty.RougeLIndex`): a sample whose prompt has ROUGE-L F1 above
  the threshold with a sample kept before it is dropped. The first of a group is kept.

The checks run in that order; a sample is rejected by the first that drops it, with the reason.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from curator_synth.errors import ConfigError
from curator_synth.filters.base import DocumentFilter, PairFilter
from curator_synth.filters.quality import QualityFilter
from curator_synth.filters.safety import SafetyFilter
from curator_synth.filters.thresholds import ScoreThresholdFilter
from curator_synth.records import Sample, prompt_text

__all__ = ["CHECKS", "CombinedFilter", "rejection_counts"]

#: The checks of a :class:`CombinedFilter`, in the order they run (the keys of its rejections).
CHECKS = ("quality", "safety", "diversity")

Rejections = dict[str, list[tuple[Sample, str]]]


def _filters(what: str, value: object, default: DocumentFilter) -> list[DocumentFilter]:
    if value is True:
        return [default]
    if value is False or value is None:
        return []
    if isinstance(value, DocumentFilter):
        return [value]
    if isinstance(value, Sequence) and not isinstance(value, str) and all(isinstance(f, DocumentFilter) for f in value):
        return list(value)
    raise ConfigError(f"{what}= takes True/False, a DocumentFilter or a list of them, got {value!r:.80}")


class CombinedFilter:
    """Quality, safety and diversity checks over samples (see the module docstring).

    ``quality``: True (a :class:`QualityFilter` with its default ``min_score`` 0.5), a number (the
    ``QualityFilter``'s ``min_score``), False, or DocumentFilters — a :class:`PairFilter` reads (prompt, response),
    a :class:`ScoreThresholdFilter` reads ``sample.scores[field]``, any other filter the response. ``min_score``
    also drops samples whose ``scores[score_name]`` is below it or missing. ``safety``: True (a
    :class:`SafetyFilter` of every category), False, or DocumentFilters, each applied to the instruction, the input
    and the response. ``diversity``: True (ROUGE-L threshold 0.7, Self-Instruct's), a threshold in (0, 1], or
    False; exact duplicates are dropped whenever it is on.
    """

    def __init__(
        self,
        quality: bool | float | DocumentFilter | Sequence[DocumentFilter] = True,
        safety: bool | DocumentFilter | Sequence[DocumentFilter] = True,
        diversity: bool | float = True,
        *,
        min_score: float | None = None,
        score_name: str = "overall",
    ) -> None:
        if isinstance(quality, (int, float)) and not isinstance(quality, bool):
            quality = QualityFilter(min_score=float(quality))
        self.quality = _filters("quality", quality, QualityFilter())
        if min_score is not None:
            self.quality.append(ScoreThresholdFilter(score_name, min_score=min_score))
        self.safety = _filters("safety", safety, SafetyFilter())
        if isinstance(diversity, bool):
            self.threshold: float | None = 0.7 if diversity else None
        elif isinstance(diversity, (int, float)) and 0.0 < diversity <= 1.0:
            self.threshold = float(diversity)
        else:
            raise ConfigError(f"diversity= takes True/False or a ROUGE-L threshold in (0, 1], got {diversity!r}")

    def filter(self, samples: Iterable[Sample | Mapping[str, Any]]) -> tuple[list[Sample], Rejections]:
        """The samples that pass every check (in input order), and the rejected ones with their reason, by check:
        ``{"quality": [(sample, "quality: low_quality"), ...], "safety": [...], "diversity": [...]}``.
        Mappings are read with :meth:`Sample.from_dict`."""
        rejected: Rejections = {check: [] for check in CHECKS}
        passed = []
        for sample in map(Sample.of, samples):
            reason = self._quality(sample)
            check = "quality"
            if reason is None:
                reason, check = self._safety(sample), "safety"
            if reason is None:
                passed.append(sample)
            else:
                rejected[check].append((sample, reason))
        kept = self._diverse(passed, rejected["diversity"])
        return kept, rejected

    # ------------------------------------------------------------------------------------------------ checks
    def _quality(self, sample: Sample) -> str | None:
        for check in self.quality:
            if isinstance(check, ScoreThresholdFilter):
                value: Any = sample.scores.get(check.field, math.nan)
            elif isinstance(check, PairFilter):
                value = (prompt_text(sample.instruction, sample.input), sample.response)
            else:
                value = sample.response
            keep, reason = check.verdict(check.score_one(value))
            if not keep:
                return f"{check.name}: {reason}" if reason else check.name
        return None

    def _safety(self, sample: Sample) -> str | None:
        for check in self.safety:
            for field in ("instruction", "input", "response"):
                text = getattr(sample, field)
                if not text:
                    continue
                keep, reason = check.verdict(check.score_one(text))
                if not keep:
                    return f"{check.name}: {reason or 'flagged'} (in the {field})"
        return None

    def _diverse(self, samples: list[Sample], rejected: list[tuple[Sample, str]]) -> list[Sample]:
        if self.threshold is None:
            return samples
        from curator_synth.dedup.novelty import RougeLIndex

        index = RougeLIndex()
        owners: list[str] = []
        seen: dict[str, str] = {}
        kept = []
        for sample in samples:
            prompt = prompt_text(sample.instruction, sample.input)
            key = " ".join(prompt.lower().split())
            if key in seen:
                rejected.append((sample, f"exact_duplicate (of {seen[key]})"))
                continue
            scores = index.scores(prompt)
            best = max(range(len(scores)), key=scores.__getitem__, default=None)
            if best is not None and scores[best] > self.threshold:
                rejected.append((sample, f"too_similar (ROUGE-L {scores[best]:.3f} with {owners[best]})"))
                continue
            seen[key] = sample.id
            index.add(prompt)
            owners.append(sample.id)
            kept.append(sample)
        return kept

    def __repr__(self) -> str:
        return f"CombinedFilter(quality={self.quality!r}, safety={self.safety!r}, diversity={self.threshold!r})"


def rejection_counts(rejected: Mapping[str, Sequence[tuple[Any, str]]]) -> dict[str, dict[str, int]]:
    """Rejections by check and reason, without the details in parentheses:
    ``{"quality": {"quality: low_quality": 3}, "diversity": {"exact_duplicate": 1}, ...}``."""
    return {check: dict(Counter(reason.split(" (", 1)[0] for _, reason in items)) for check, items in rejected.items()}
