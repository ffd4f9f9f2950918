"""Stages that need no endpoint: filter, redact PII, deduplicate, sample (``load`` is in ``load.py``).

Each stage's :meth:`check` validates its options against the registries before the run starts.
"""

from __future__ import annotations

import difflib
import inspect
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, Literal, TypeVar

from pydantic import Field

from curator_synth.dataset import DocumentDataset
from curator_synth.errors import ConfigError
from curator_synth.pipeline.context import RunContext
from curator_synth.pipeline.stages.base import Stage, StageOptions, StageOutput, register_stage, write_rejected
from curator_synth.registry import Registry

__all__ = ["DedupStage", "FilterStage", "RedactPiiStage", "SampleStage"]

T = TypeVar("T")


def _unknown(option: str, kind: str, name: str, known: Iterable[str]) -> ConfigError:
    """``filters[0].name: unknown filter 'safty'; did you mean 'safety'?`` (else the known names)."""
    names = sorted(known)
    close = difflib.get_close_matches(name.lower(), names, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(names)}"
    return ConfigError(f"{option}: unknown {kind} {name!r}; {hint}")


def _registered(registry: Registry[T], name: str, option: str) -> T:
    """``registry.get(name)``; an unknown name is a ConfigError naming ``option`` (with the registry's own
    "did you mean" and the known names)."""
    try:
        return registry.get(name)
    except ConfigError as error:
        raise ConfigError(f"{option}: {error}") from None


# ----------------------------------------------------------------------------------------------- filter
class FilterSpec(StageOptions):
    """One filter: ``name`` in ``FILTERS``; ``field`` (or ``fields`` for pair filters such as ``quality``);
    ``score_field`` keeps the score as a column; other keys are the filter's own arguments."""

    model_config = StageOptions.model_config | {"extra": "allow"}

    name: str
    field: str | list[str] = "response"
    score_field: str | None = None
    invert: bool = False


class FilterOptions(StageOptions):
    filters: list[FilterSpec] = Field(min_length=1)
    write_rejected: bool = True


@register_stage
class FilterStage(Stage[FilterOptions]):
    """Apply registered filters in order; counts drops per filter and reason; keeps the rejected rows with
    their reasons under the stage directory (``rejected/``)."""

    name = "filter"
    Options = FilterOptions
    drops = "filter"

    def check(self, ctx: RunContext) -> None:
        """Every filter name is registered and its filter takes the arguments given."""
        _filter_steps(self.options)

    def run(self, data: DocumentDataset | None, ctx: RunContext) -> StageOutput:
        options = self.options
        dataset = self.require(data)
        steps = _filter_steps(options)
        result: Any = dataset
        for step in steps:
            result = step(result)
        result = result.persist()
        kept, report = result.compute_with_report()
        if options.write_rejected:
            write_rejected(result.rejected().to_pandas(), ctx)
        rejections = {
            step.name: {reason.partition(":")[2] or "dropped": count for reason, count in step.reasons.items()}
            for step in report.steps
            if step.dropped
        }
        return StageOutput(ctx.dataset(kept), rejections)


def _filter_steps(options: FilterOptions) -> list[Any]:
    """One ``ScoreFilter`` per spec, its filter built from the spec's arguments; an unknown name or a bad
    argument is a ``ConfigError`` naming ``filters[i]``."""
    from curator_synth.filters import FILTERS, ScoreFilter

    steps = []
    for number, spec in enumerate(options.filters):
        cls = _registered(FILTERS, spec.name, f"filters[{number}].name")
        arguments = dict(spec.model_extra or {})
        if "field" in inspect.signature(cls.__init__).parameters and isinstance(spec.field, str):
            arguments.setdefault("field", spec.field)  # filters of a column (score_threshold) name it too
        try:
            filter_obj = cls(**arguments)
        except (TypeError, ValueError) as error:  # ConfigError is a ValueError
            raise ConfigError(f"filters[{number}]: filter {spec.name!r}: {error}") from None
        field = spec.field if isinstance(spec.field, str) else tuple(spec.field)
        steps.append(ScoreFilter(filter_obj, text_field=field, score_field=spec.score_field, invert=spec.invert))
    return steps


# -------------------------------------------------------------------------------------------------- pii
class RedactOptions(StageOptions):
    fields: list[str] = Field(default_factory=lambda: ["instruction", "input", "response"])
    replacement: str = "[{kind}]"
    kinds: list[str] | None = None


@register_stage
class RedactPiiStage(Stage[RedactOptions]):
    """Replace PII (emails, phones, cards with Luhn, SSNs, IPs, keys) in place in the given fields."""

    name = "redact_pii"
    Options = RedactOptions

    def check(self, ctx: RunContext) -> None:
        """The ``kinds`` are known PII kinds and ``replacement`` uses no placeholder but ``{kind}``."""
        from curator_synth.filters.pii import PII_KINDS

        options = self.options
        for number, kind in enumerate(options.kinds or ()):
            if kind not in PII_KINDS:
                raise _unknown(f"kinds[{number}]", "PII kind", kind, PII_KINDS)
        try:
            options.replacement.format(kind=PII_KINDS[0])
        except (KeyError, IndexError, ValueError) as error:
            raise ConfigError(f"replacement: {options.replacement!r} may only use {{kind}} ({error!r})") from None

    def run(self, data: DocumentDataset | None, ctx: RunContext) -> StageOutput:
        from curator_synth.filters.pii import redact_series

        options = self.options
        frame = self.require(data).to_pandas()
        found: Counter[str] = Counter()
        for field in (name for name in options.fields if name in frame.columns):
            texts = frame[field].fillna("").astype(str)
            frame[field] = redact_series(texts, options.replacement, options.kinds, found).tolist()
        counts = dict(found)
        return StageOutput(ctx.dataset(frame), usage={"pii_redactions": counts})


# ------------------------------------------------------------------------------------------------ dedup
class DedupOptions(StageOptions):
    method: Literal["exact", "fuzzy", "semantic", "novelty"] = "fuzzy"
    field: str = "instruction"
    options: dict[str, Any] = Field(default_factory=dict)
    against_seeds: bool = False


def _dedup_step(options: DedupOptions, pool: Sequence[str], ctx: RunContext) -> Any:
    """The dedup object of ``options.method`` (``pool``: the texts novelty compares with; semantic dedup embeds
    with the recipe's ``embeddings:`` model); bad method options are a ``ConfigError`` naming ``options``. Builds
    objects only: no model or data is loaded."""
    from curator_synth.dedup import ExactDuplicates, FuzzyDuplicates, NoveltyDuplicates, SemanticDuplicates

    field, arguments = options.field, dict(options.options)
    methods: dict[str, Any] = {
        "exact": lambda: ExactDuplicates(text_field=field, **arguments),
        "fuzzy": lambda: FuzzyDuplicates(text_field=field, **arguments),
        "semantic": lambda: SemanticDuplicates(text_field=field, **{"embedder": ctx.config.embedder(), **arguments}),
        "novelty": lambda: NoveltyDuplicates(text_field=field, pool=pool, **arguments),
    }
    try:
        return methods[options.method]()
    except (TypeError, ValueError) as error:  # ConfigError is a ValueError
        raise ConfigError(f"options: dedup method {options.method!r}: {error}") from None


@register_stage
class DedupStage(Stage[DedupOptions]):
    """Remove duplicates by ``method`` over ``field``, keeping one representative per group (``against_seeds``:
    novelty also against the recipe's seeds)."""

    name = "dedup"
    Options = DedupOptions
    drops = "dedup"

    def uses_embeddings(self) -> bool:
        return self.options.method == "semantic"

    def check(self, ctx: RunContext) -> None:
        """The method's options construct it, and ``against_seeds`` has novelty and the recipe's seeds to use."""
        options = self.options
        if options.against_seeds and options.method != "novelty":
            raise ConfigError(f"against_seeds: only method 'novelty' compares with the seeds, not {options.method!r}")
        if options.against_seeds and not ctx.config.seeds:
            raise ConfigError("against_seeds: the recipe has no `seeds:` file to compare with")
        _dedup_step(options, (), ctx)

    def run(self, data: DocumentDataset | None, ctx: RunContext) -> StageOutput:
        options = self.options
        dataset = self.require(data)
        self.require_columns(dataset, "id", options.field)
        pool = ctx.seeds() if options.against_seeds and options.method == "novelty" else ()
        step = _dedup_step(options, pool, ctx)
        before = len(dataset)
        kept = step.remove(dataset).to_pandas()
        dropped = before - len(kept)
        return StageOutput(ctx.dataset(kept), {f"dedup_{options.method}": {"duplicate": dropped}} if dropped else {})


# ----------------------------------------------------------------------------------------------- sample
class SampleOptions(StageOptions):
    strategy: str = "cluster_balanced"
    n: int = Field(1000, ge=1)
    field: str = "instruction"
    topic_field: str | None = None
    n_clusters: int | None = Field(None, ge=1)
    allocation: Literal["proportional", "equal"] = "proportional"


def _sampler(options: SampleOptions, ctx: RunContext) -> Any:
    """The ``DiversitySampler`` of ``options`` (an unregistered strategy is a ``ConfigError`` naming ``strategy``)."""
    from curator_synth.diversity import SAMPLING_STRATEGIES, DiversitySampler

    strategy = _registered(SAMPLING_STRATEGIES, options.strategy, "strategy")
    return DiversitySampler(
        options.strategy,
        n=options.n,
        seed=ctx.config.seed,
        embedder=ctx.config.embedder() if strategy.needs_embeddings else None,
        n_clusters=options.n_clusters,
        topic_field=options.topic_field,
        text_field=options.field,
        allocation=options.allocation,
    )


@register_stage
class SampleStage(Stage[SampleOptions]):
    """Draw ``n`` diverse records with :class:`~curator_synth.diversity.DiversitySampler`."""

    name = "sample"
    Options = SampleOptions
    drops = "sample"

    def uses_embeddings(self) -> bool:
        from curator_synth.diversity import SAMPLING_STRATEGIES

        strategy = (
            SAMPLING_STRATEGIES.get(self.options.strategy) if self.options.strategy in SAMPLING_STRATEGIES else None
        )
        return bool(getattr(strategy, "needs_embeddings", False))

    def check(self, ctx: RunContext) -> None:
        """The strategy is registered and the sampler accepts the options (no model is loaded)."""
        _sampler(self.options, ctx)

    def run(self, data: DocumentDataset | None, ctx: RunContext) -> StageOutput:
        options = self.options
        dataset = self.require(data)
        sampler = _sampler(options, ctx)
        frame = dataset.to_pandas()
        sample = sampler.sample(frame)
        dropped = len(frame) - len(sample)
        return StageOutput(ctx.dataset(sample), {"sample": {"not_sampled": dropped}} if dropped else {})
