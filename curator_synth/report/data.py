"""What a run report is made of: :class:`ReportData`, filled by the pipeline as its stages finish.

Everything here is plain numbers and text (no pandas needed to build one by hand); the ``add_*``/``set_*``
helpers take the objects the library already produces — a filter chain's
:class:`~curator_synth.filters.report.FilterReport`, a client's
:class:`~curator_synth.clients.stats.ClientStats`, a frame of ``reward_*`` score columns.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from curator_synth.errors import ConfigError
from curator_synth.reward.scores import ATTRIBUTES

if TYPE_CHECKING:
    import pandas as pd

    from curator_synth.clients.stats import ClientStats
    from curator_synth.filters.report import FilterReport
    from curator_synth.report.bias import BiasSummary

__all__ = [
    "NO_REASON",
    "SCORE_NAMES",
    "Pricing",
    "ReportData",
    "StageStats",
    "TokenUsage",
    "text_lengths",
]

#: The score columns a report knows, in display order: the five HelpSteer2 attributes, then the overall score.
SCORE_NAMES: tuple[str, ...] = (*ATTRIBUTES, "overall")
#: The reason shown for rows a filter dropped without giving a finer reason.
NO_REASON = "unspecified"


@dataclass(frozen=True)
class StageStats:
    """One pipeline stage: records that went in and came out, and its wall-clock time (``resumed``: the stage was
    loaded from an earlier run, whose time this is)."""

    name: str
    records_in: int
    records_out: int
    seconds: float
    resumed: bool = False

    def __post_init__(self) -> None:
        if self.records_in < 0 or self.records_out < 0 or self.seconds < 0:
            raise ConfigError(f"stage {self.name!r}: counts and seconds must not be negative")

    @property
    def dropped(self) -> int:
        """Records in minus records out (negative for a stage that adds records, e.g. generation)."""
        return self.records_in - self.records_out


@dataclass(frozen=True)
class Pricing:
    """Prices per one million tokens (``currency`` is only a label); tokens of requests answered through the
    provider's batch API cost ``batch_discount`` times as much (0.5: OpenAI's batch price is half)."""

    prompt_per_1m: float
    completion_per_1m: float
    currency: str = "USD"
    batch_discount: float = 0.5

    def __post_init__(self) -> None:
        if self.prompt_per_1m < 0 or self.completion_per_1m < 0:
            raise ConfigError("token prices must not be negative")
        if not 0 <= self.batch_discount <= 1:
            raise ConfigError(f"batch_discount must be in [0, 1], got {self.batch_discount!r}")

    def cost(
        self, prompt_tokens: int, completion_tokens: int, batch_prompt_tokens: int = 0, batch_completion_tokens: int = 0
    ) -> float:
        """The price of the tokens, of which ``batch_*`` (a part of the totals) went through the batch API."""
        online = (prompt_tokens - batch_prompt_tokens) * self.prompt_per_1m
        online += (completion_tokens - batch_completion_tokens) * self.completion_per_1m
        batch = batch_prompt_tokens * self.prompt_per_1m + batch_completion_tokens * self.completion_per_1m
        return (online + batch * self.batch_discount) / 1_000_000

    def cost_of(self, usage: Mapping[str, int]) -> float:
        """:meth:`cost` of a usage mapping (``prompt_tokens``, ``completion_tokens``, ``batch_*``)."""
        return self.cost(
            usage["prompt_tokens"],
            usage["completion_tokens"],
            usage.get("batch_prompt_tokens", 0),
            usage.get("batch_completion_tokens", 0),
        )


@dataclass(frozen=True)
class TokenUsage:
    """Requests and tokens of one client (or model); ``pricing=None`` means the cost is not priced."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    from_journal: int = 0
    pricing: Pricing | None = None
    #: The part of the tokens answered through the batch API (priced at ``pricing.batch_discount``).
    batch_prompt_tokens: int = 0
    batch_completion_tokens: int = 0

    @classmethod
    def from_client_stats(cls, stats: ClientStats, pricing: Pricing | None = None) -> TokenUsage:
        return cls(
            requests=stats.requests_sent,
            prompt_tokens=stats.prompt_tokens,
            completion_tokens=stats.completion_tokens,
            from_journal=stats.from_journal,
            pricing=pricing,
            batch_prompt_tokens=stats.batch_prompt_tokens,
            batch_completion_tokens=stats.batch_completion_tokens,
        )

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def cost(self) -> float | None:
        """The cost at :attr:`pricing`, or ``None`` when not priced."""
        if self.pricing is None:
            return None
        return self.pricing.cost(
            self.prompt_tokens, self.completion_tokens, self.batch_prompt_tokens, self.batch_completion_tokens
        )


def text_lengths(texts: Iterable[Any], count: Callable[[str], int] | None = None) -> list[int]:
    """Length of each text: ``count(text)`` (e.g. a tokenizer's token count), else the number of words.

    Missing values (None/NaN) are skipped.
    """
    lengths: list[int] = []
    for text in texts:
        if text is None or (isinstance(text, float) and math.isnan(text)):
            continue
        lengths.append(int(count(str(text))) if count is not None else len(str(text).split()))
    return lengths


def _finite(values: Iterable[Any]) -> list[float]:
    out: list[float] = []
    for value in values:
        if value is None:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue  # pd.NA and other missing markers
        if math.isfinite(number):
            out.append(number)
    return out


@dataclass
class ReportData:
    """The numbers of one run. Every field is optional; sections without data are left out of the report.

    - ``stages``: in the order they ran. ``rejections``: filter step -> reason -> rows dropped by filters;
      ``drops``: the other stages' drops by kind (``dedup``, ``sample``, ``other``) -> name -> reason -> rows.
    - ``sources``: source (e.g. the model that wrote a record) -> records ``in`` (first stage) and ``out``.
    - ``examples``: per stage, a few records it kept and a few it dropped per reason (:meth:`add_examples`).
    - ``clusters``: the final records' clusters: label, size, distinctive terms, two members.
    - ``preference``: ``chosen_score``, ``rejected_score``, ``margin`` values of DPO pairs.
    - ``scores``: score name (``helpfulness`` ... ``verbosity``, ``overall``, or others) -> values.
    - ``lengths``: field (``instruction``, ``response``...) -> lengths in ``length_unit``.
    - ``rouge_l_to_seed``: each record's ROUGE-L F1 with its nearest seed
      (:func:`~curator_synth.diversity.rouge_l_to_nearest_seed`).
    - ``diversity``: :func:`~curator_synth.diversity.compute_diversity_score`'s numbers (``topic_entropy``...).
    - ``cluster_sizes``: cluster label -> records. ``usage``: client/model name -> :class:`TokenUsage`.
    - ``bias``: the bias and representation section (:meth:`set_bias`; ``BiasSummary.to_dict()``).
    - ``info``: free text shown at the top (model, recipe, seed...). ``bins``: histogram bins.
    """

    title: str = "curator_synth run report"
    info: dict[str, str] = field(default_factory=dict)
    stages: list[StageStats] = field(default_factory=list)
    rejections: dict[str, dict[str, int]] = field(default_factory=dict)
    scores: dict[str, list[float]] = field(default_factory=dict)
    lengths: dict[str, list[int]] = field(default_factory=dict)
    length_unit: str = "words"
    rouge_l_to_seed: list[float] = field(default_factory=list)
    diversity: dict[str, float] = field(default_factory=dict)
    cluster_sizes: dict[str, int] = field(default_factory=dict)
    usage: dict[str, TokenUsage] = field(default_factory=dict)
    bias: dict[str, Any] = field(default_factory=dict)
    drops: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    sources: dict[str, dict[str, int]] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)
    clusters: list[dict[str, Any]] = field(default_factory=list)
    preference: dict[str, list[float]] = field(default_factory=dict)
    bins: int = 20

    def __post_init__(self) -> None:
        if self.bins < 1:
            raise ConfigError(f"bins must be at least 1, got {self.bins}")

    # ------------------------------------------------------------------------------------------ stages
    def add_stage(
        self, name: str, records_in: int, records_out: int, seconds: float, *, resumed: bool = False
    ) -> StageStats:
        stage = StageStats(name, int(records_in), int(records_out), float(seconds), resumed)
        self.stages.append(stage)
        return stage

    def add_rejections(self, filter_name: str, reasons: Mapping[str, int], kind: str = "filter") -> None:
        """Add drop counts of one filter (counts for a reason already there are summed). ``kind``: ``filter``
        (the report's "rejected by filters"), or what another stage's drops are: ``dedup`` (duplicates),
        ``sample`` (not sampled), ``other`` (failed requests, unpaired instructions, ...)."""
        if kind != "filter":
            target = self.drops.setdefault(kind, {}).setdefault(filter_name, {})
            for reason, count in reasons.items():
                target[reason or NO_REASON] = target.get(reason or NO_REASON, 0) + int(count)
            return
        target = self.rejections.setdefault(filter_name, {})
        for reason, count in reasons.items():
            key = reason or NO_REASON
            target[key] = target.get(key, 0) + int(count)

    def add_filter_report(self, report: FilterReport) -> None:
        """The drop reasons of a filter chain (``FilteredDataset.report()``), by step and finer reason."""
        for step in report.steps:
            self.add_rejections(step.name, {_finer(reason, step.name): n for reason, n in step.reasons.items()})
        for reason, count in report.other.items():
            name, _, finer = reason.partition(":")
            self.add_rejections(name, {finer: count})

    # ------------------------------------------------------------------------------------------- usage
    def add_usage(self, name: str, usage: TokenUsage | ClientStats, pricing: Pricing | None = None) -> TokenUsage:
        """Record a client's usage under ``name``; ``pricing`` (per 1M tokens) overrides the usage's own."""
        if not isinstance(usage, TokenUsage):
            usage = TokenUsage.from_client_stats(usage, pricing)
        elif pricing is not None:
            usage = replace(usage, pricing=pricing)
        self.usage[name] = usage
        return usage

    # ---------------------------------------------------------------------------------- distributions
    def set_scores(self, scores: pd.DataFrame | Mapping[str, Sequence[Any]], prefix: str = "reward_") -> None:
        """Score values from a frame's ``reward_helpfulness`` ... ``reward_overall`` columns (names without
        ``prefix`` are accepted too), or from a mapping of name -> values (``prefix`` is stripped from names).
        Missing values (rows not scored) are dropped."""
        import pandas as pd

        if isinstance(scores, pd.DataFrame):
            picked: dict[str, Sequence[Any]] = {}
            for name in SCORE_NAMES:
                for column in (f"{prefix}{name}", name):
                    if column in scores.columns:
                        picked[name] = scores[column].tolist()
                        break
            if not picked:
                raise ConfigError(
                    f"no score columns in the frame: expected {prefix}{SCORE_NAMES[0]} ... {prefix}overall"
                )
            mapping: Mapping[str, Sequence[Any]] = picked
        else:
            mapping = {(k[len(prefix) :] if prefix and k.startswith(prefix) else k): v for k, v in scores.items()}
        ordered = sorted(mapping, key=lambda n: (SCORE_NAMES.index(n) if n in SCORE_NAMES else len(SCORE_NAMES), n))
        self.scores = {name: _finite(mapping[name]) for name in ordered}

    def set_lengths(
        self,
        data: pd.DataFrame | Mapping[str, Sequence[Any]],
        fields: Sequence[str] = ("instruction", "response"),
        count: Callable[[str], int] | None = None,
        unit: str | None = None,
    ) -> None:
        """Lengths of the texts in ``fields`` (absent fields are skipped): words, or ``count(text)`` with
        ``unit`` naming what it counts (default ``"tokens"`` when ``count`` is given)."""
        columns = data.columns if hasattr(data, "columns") else list(data)
        self.lengths = {name: text_lengths(list(data[name]), count) for name in fields if name in columns}
        self.length_unit = unit or ("tokens" if count is not None else "words")

    def set_cluster_sizes(self, sizes: Mapping[Any, int] | Sequence[int]) -> None:
        """Records per cluster: a mapping label -> size, or a list indexed by cluster number."""
        items = sizes.items() if isinstance(sizes, Mapping) else enumerate(sizes)
        self.cluster_sizes = {str(label): int(size) for label, size in items}

    def add_examples(
        self, stage: str, kept: Sequence[Mapping[str, Any]], dropped: Mapping[str, Sequence[Mapping[str, Any]]]
    ) -> None:
        """A few records a stage kept, and a few it dropped by reason (each a mapping of the record's fields)."""
        by_reason = {reason: [dict(row) for row in rows] for reason, rows in dropped.items()}
        self.examples.append({"stage": stage, "kept": [dict(row) for row in kept], "dropped": by_reason})

    def set_preference(self, pairs: pd.DataFrame) -> None:
        """The scores of DPO pairs: a frame's ``chosen_score``, ``rejected_score`` and ``margin`` columns."""
        self.preference = {
            name: _finite(pairs[name].tolist())
            for name in ("chosen_score", "rejected_score", "margin")
            if name in pairs.columns
        }

    def set_bias(self, summary: BiasSummary, top_n: int = 20) -> None:
        """The bias and representation section (:func:`~curator_synth.report.bias.bias_summary`); its chart
        shows the ``top_n`` most mentioned terms."""
        self.bias = summary.to_dict(top_n)


def _finer(reason: str, step: str) -> str:
    """``"step:too_short"`` -> ``"too_short"``; the bare step label -> ``""`` (no finer reason)."""
    if reason == step:
        return ""
    return reason[len(step) + 1 :] if reason.startswith(step + ":") else reason
