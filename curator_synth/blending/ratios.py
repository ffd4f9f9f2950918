"""Ratios: validate and normalise them, and turn a total into whole-row quotas that sum to it exactly.

Quotas use the largest-remainder (Hamilton) method: every name gets the floor of ``total * weight``, and the
rows left over go to the largest remainders, ties to the earlier name. So 70/30 of 200 is exactly 140/60, and
the quotas always add up to the total.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from curator_synth.errors import ConfigError

__all__ = ["allocate", "normalise_ratios", "plan_quotas"]

#: A cell of a blend: (source, category); the category is None when quotas are per source only.
Cell = tuple[str, str | None]


def normalise_ratios(
    ratios: Mapping[str, float], names: Sequence[str], *, key: str = "ratios", require_all: bool = True
) -> dict[str, float]:
    """``ratios`` divided by their sum, checked: known names only (the error lists the valid ones), finite
    numbers >= 0, a positive sum and, with ``require_all``, one ratio per name (0 leaves a name out).
    Errors are :class:`~curator_synth.errors.ConfigError` naming ``key`` (``ratios['synthetic']: ...``).
    The result follows the order of ``names`` (``require_all``) or of ``ratios``."""
    if not isinstance(ratios, Mapping) or not ratios:
        raise ConfigError(f"{key}: give a ratio per name, e.g. {{{', '.join(f'{n!r}: 1' for n in names[:2])}}}")
    unknown = [name for name in ratios if name not in names]
    if unknown:
        raise ConfigError(f"{key}: unknown name(s) {unknown}; the valid ones are {list(names)}")
    for name, value in ratios.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ConfigError(f"{key}[{name!r}]: a ratio is a finite number >= 0, got {value!r}")
    if require_all:
        missing = [name for name in names if name not in ratios]
        if missing:
            raise ConfigError(f"{key}: no ratio for {missing}; give every source one (0 leaves a source out)")
    total = float(sum(ratios.values()))
    if total <= 0:
        raise ConfigError(f"{key}: the ratios sum to 0; at least one must be positive")
    order = list(names) if require_all else list(ratios)
    return {name: float(ratios[name]) / total for name in order}


def allocate(total: int, weights: Mapping[str, float]) -> dict[str, int]:
    """Split ``total`` rows by ``weights`` (summing to 1) into whole quotas that sum to ``total`` (Hamilton)."""
    exact = {name: round(total * weight, 9) for name, weight in weights.items()}  # 9 digits: no float noise
    quotas = {name: math.floor(value) for name, value in exact.items()}
    left = total - sum(quotas.values())
    by_remainder = sorted(weights, key=lambda name: -(exact[name] - quotas[name]))  # stable: ties keep order
    for name in by_remainder[:left]:
        quotas[name] += 1
    return quotas


def plan_quotas(
    total: int, source_weights: Mapping[str, float], category_weights: Mapping[str, float] | None
) -> dict[Cell, int]:
    """Rows per (source, category): the total split over the sources, then each source's share over the
    categories, so every source gets its ratio and the same category mix. Without category weights the cells
    are ``(source, None)``."""
    per_source = allocate(total, source_weights)
    if category_weights is None:
        return {(source, None): quota for source, quota in per_source.items()}
    return {
        (source, category): count
        for source, quota in per_source.items()
        for category, count in allocate(quota, category_weights).items()
    }
