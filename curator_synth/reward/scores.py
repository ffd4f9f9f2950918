"""Reward scores: the five HelpSteer2 attributes (0-4), an overall score, and how they were obtained.

Every mode of :class:`~curator_synth.reward.RewardModel` returns a :class:`RewardScores`, so code downstream
(filters, preference pairs, reports) never looks at the mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from curator_synth.errors import ConfigError
from curator_synth.prompts.judge import ATTRIBUTES

__all__ = ["ATTRIBUTES", "JUDGE_WEIGHTS", "NEMOTRON_WEIGHTS", "RewardScores", "weighted_overall"]


NEMOTRON_WEIGHTS: Mapping[str, float] = {
    "helpfulness": 0.3,
    "correctness": 0.74,
    "coherence": 0.46,
    "complexity": 0.47,
    "verbosity": -0.33,
}
"""Nemotron-4-340B-Reward's model card: overall = 0.3 H + 0.74 Cr + 0.46 Coh + 0.47 Cx - 0.33 V (raw scale)."""

JUDGE_WEIGHTS: Mapping[str, float] = {
    "helpfulness": 0.3,
    "correctness": 0.3,
    "coherence": 0.2,
    "complexity": 0.1,
    "verbosity": 0.1,
}
"""The seed pipeline's judge weights (30/30/20/10/10); with them the overall is normalised to 0..1."""


def weighted_overall(values: Mapping[str, float], weights: Mapping[str, float], *, normalise: bool) -> float:
    """``sum(weights[a] * values[a])``; with ``normalise``, divided by ``4 * sum(|weights|)`` (0..1 for 0..4)."""
    unknown = set(weights) - set(ATTRIBUTES)
    if unknown:
        raise ConfigError(f"unknown reward attribute(s) in weights: {sorted(unknown)}; known: {list(ATTRIBUTES)}")
    total = sum(float(weight) * float(values[name]) for name, weight in weights.items())
    if not normalise:
        return total
    scale = 4.0 * sum(abs(float(weight)) for weight in weights.values())
    if scale == 0:
        raise ConfigError("reward weights are all zero")
    return total / scale


@dataclass(frozen=True)
class RewardScores:
    """Scores of one response. ``overall``: the mode's weighted combination (see the mode's docs for its scale).

    ``rationale`` is the judge's short explanation when asked for; ``mode`` names the mode that scored.
    """

    helpfulness: float
    correctness: float
    coherence: float
    complexity: float
    verbosity: float
    overall: float
    rationale: str | None = None
    mode: str = ""

    def attributes(self) -> dict[str, float]:
        """The five attribute scores by name."""
        return {name: getattr(self, name) for name in ATTRIBUTES}

    def as_dict(self, prefix: str = "") -> dict[str, Any]:
        """All fields as a flat dict (e.g. columns ``reward_helpfulness`` ... with ``prefix="reward_"``)."""
        return {f"{prefix}{key}": value for key, value in asdict(self).items()}
