"""The stage contract: a registered name, a pydantic ``Options`` model (unknown keys are errors) and one method.

A stage is ``Stage[Options]``: ``self.options`` is typed as its own options model. ``run(data, ctx) ->
StageOutput`` takes the previous stage's dataset (None for the first stage) and returns the next one plus what
the report needs (rejections by reason, token usage). Persistence, resume, timing, the error budget, request
accounting and progress are done for every stage, once, by the runner (DESIGN rule 3), never by a stage.

The kinds: stages that need no endpoint (load, filter, redact_pii, dedup, sample, blend), generating LLM stages
that run a generator on the driver (self_instruct, topic_prompts), and per-record LLM stages that run a
:class:`~curator_synth.distributed.PartitionTask` over every partition (:class:`~curator_synth.pipeline.stages.
llm.RecordLLMStage`: responses, evol_instruct, score, dialogue, rephrase, preference). Third-party stages register
through the entry point group ``curator_synth.stages`` and recipes name them like the built-ins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from pydantic import BaseModel, ConfigDict

from curator_synth.errors import ConfigError
from curator_synth.registry import Registry

if TYPE_CHECKING:
    import pandas as pd

    from curator_synth.dataset import DocumentDataset
    from curator_synth.pipeline.context import RunContext

__all__ = [
    "STAGES",
    "OptionsT",
    "Stage",
    "StageOptions",
    "StageOutput",
    "register_stage",
    "require_some_output",
    "write_rejected",
]


class StageOptions(BaseModel):
    """Base of every stage's options: frozen, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


OptionsT = TypeVar("OptionsT", bound=StageOptions)


@dataclass
class StageOutput:
    """A stage's result: the dataset, drops by reason (``{filter: {reason: count}}``), and request usage."""

    data: DocumentDataset
    rejections: dict[str, dict[str, int]] = field(default_factory=dict)
    usage: dict[str, Any] = field(default_factory=dict)


class Stage(Generic[OptionsT]):
    """Base of the pipeline stages: ``class MyStage(Stage[MyOptions])`` sets ``name`` and ``Options = MyOptions``
    and implements :meth:`run`.

    ``uses_llm``: the stage sends requests (``--dry-run`` plans them; it needs ``client`` and ``model``).
    ``first``: the stage can start a pipeline (it does not need a previous dataset).
    """

    name: ClassVar[str]
    Options: ClassVar[type[StageOptions]] = StageOptions
    uses_llm: ClassVar[bool] = False
    first: ClassVar[bool] = False
    #: What the report calls the records this stage drops: ``filter`` (rejected by filters), ``dedup``
    #: (duplicates removed), ``sample`` (not sampled) or ``other`` (failed requests, unpaired instructions...).
    drops: ClassVar[str] = "other"

    def __init__(self, options: OptionsT | None = None) -> None:
        self.options: OptionsT = options if options is not None else cast(OptionsT, self.Options())

    def needs_client(self) -> bool:
        """Whether this stage, with its options, sends requests (default: ``uses_llm``)."""
        return self.uses_llm

    def uses_embeddings(self) -> bool:
        """Whether this stage, with its options, embeds texts (the recipe's ``embeddings:`` model); the report
        then adds its embedding metrics at little cost (default: no)."""
        return False

    def check(self, ctx: RunContext) -> None:
        """Validate, before any stage of the run starts and before the first request is sent, everything this
        stage will need that its options model cannot see: names looked up in registries (filters, dedup
        methods, strategies, modes), arguments those objects take, input files and their formats. Raise
        :class:`~curator_synth.errors.ConfigError` (or ``DataFormatError``) naming the option, e.g.
        ``filters[0].name: unknown filter 'safty'`` (the runner prefixes the stage's place, ``stages[3]``).
        ``inspect`` runs the same checks. The default checks nothing."""

    def preview(self, n: int) -> dict[str, Any]:
        """Option changes that make this stage produce about ``n`` records, for ``curator-synth preview`` (the
        stage's options as a recipe writes them; default: none, the stage works on what it is given)."""
        return {}

    def fingerprint(self, ctx: RunContext) -> dict[str, Any]:
        """What, besides the options and the stages before, decides this stage's output (part of the resume
        fingerprint): the model and endpoint for stages that call one. Stages reading files add the files."""
        if not self.needs_client():
            return {}
        return {"model": ctx.config.model, "endpoint": ctx.endpoint()}

    def run(self, data: DocumentDataset | None, ctx: RunContext) -> StageOutput:
        raise NotImplementedError

    def require(self, data: DocumentDataset | None) -> DocumentDataset:
        if data is None:
            raise ConfigError(f"stage {self.name!r} needs input records: put a generating or load stage before it")
        return data

    def require_columns(self, data: DocumentDataset, *columns: str) -> None:
        missing = [column for column in columns if column not in data.columns]
        if missing:
            raise ConfigError(f"stage {self.name!r} needs column(s) {missing}; the records have {data.columns}")


def write_rejected(rows: pd.DataFrame, ctx: RunContext) -> None:
    """A dropping stage's removed ``rows`` (with their reasons) as the stage directory's ``rejected.jsonl``, where
    the summary and ``preview`` read them; nothing when no row was removed."""
    if len(rows):
        rows.to_json(ctx.stage_dir / "rejected.jsonl", orient="records", lines=True, force_ascii=False)


def require_some_output(
    stage: str,
    records: int,
    failures: int,
    detail: str = "",
    *,
    errors: Iterable[object] = (),
    keys: Sequence[str] | None = None,
) -> None:
    """A generating stage that produced nothing because its requests failed raises
    :class:`~curator_synth.errors.StageError` (it is then not saved, and a re-run asks again); ``errors`` (the
    failed items' ``"ErrorType: message"`` texts) choose the hint, ``keys`` (the key's variables) complete it."""
    if records == 0 and failures > 0:
        from collections import Counter

        from curator_synth.errors import IncompleteStageError, StageError, error_class
        from curator_synth.pipeline.failures import error_name, hint_for

        names = [error_name(text) for text in errors]
        if names and all(getattr(error_class(name), "transient", False) for name in names):
            raise IncompleteStageError(stage, dict(Counter(names)))  # an endpoint that is down: re-run later
        raise StageError(
            f"{stage}: nothing generated, {failures} failed{f' ({detail})' if detail else ''}. {hint_for(names, keys)}"
        )


STAGES: Registry[type[Stage[Any]]] = Registry("stages")

StageT = TypeVar("StageT", bound="type[Stage[Any]]")


def register_stage(cls: StageT) -> StageT:
    """Class decorator: register a stage under its ``name``."""
    STAGES.add(cls.name, cls)
    return cls
