"""``topic_prompts``: prompts from the Nemotron-4 340B pipelines (open Q&A, writing, closed Q&A, math, Python).

The stage runs one of :class:`~curator_synth.generators.nemotron_pipelines.NemotronPipelines`' ``run_*_pipeline``
methods on the driver (its stages fan out concurrently through the client's engine, journaled under the run)
and yields one record per final prompt, with an empty response for a following ``responses`` stage::

    - stage: topic_prompts
      pipeline: math                     # open_qa | writing | closed_qa | math | python
      options: {n_macro_topics: 3, school_level: middle school, classify_topics: true}
      templates: {math_problem_prompt_template: "generation_prompts:nemotron.math_problem_beginner"}

``options`` are the chosen pipeline's own (validated by its model in :data:`TOPIC_PIPELINES`, so an unknown key
is an error naming ``stages[i].options.<key>``); ``templates`` overrides the method's ``*_prompt_template``
parameters with template text or a ``"generation_prompts:<id>"`` reference. Closed Q&A reads its documents from
``options.documents`` (a JSON Lines file, relative to the recipe) or, placed after a ``load`` stage, from the
input records' ``document_field``. Items that failed (HTTP error, unparseable list, wrong count) and topics the
classification rejected are counted in the stage's rejections.
"""

from __future__ import annotations

import inspect
import json
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, create_model, field_validator

from curator_synth.errors import ConfigError
from curator_synth.generators.nemotron_pipelines import NemotronPipelineResult, NemotronPipelines, PipelineFailure
from curator_synth.pipeline.context import RunContext, read_seed_texts
from curator_synth.pipeline.stages.base import Stage, StageOutput, register_stage, require_some_output
from curator_synth.pipeline.stages.generation import GenerationOptions, model_params
from curator_synth.pipeline.stages.load import normalise_records
from curator_synth.records import record_id
from curator_synth.registry import Registry

if TYPE_CHECKING:
    from curator_synth.dataset import DocumentDataset

__all__ = [
    "TOPIC_PIPELINES",
    "ClosedQAOptions",
    "MathOptions",
    "OpenQAOptions",
    "PipelineOptions",
    "PythonOptions",
    "TopicPipeline",
    "TopicPromptsOptions",
    "TopicPromptsStage",
    "WritingOptions",
]

_Count = Annotated[int, Field(ge=1, le=100)]


# ------------------------------------------------------------------------------------- per-pipeline options
class PipelineOptions(BaseModel):
    """Base of a pipeline's options: frozen, unknown keys rejected; :meth:`arguments` feeds the method."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def arguments(self, data: DocumentDataset | None, ctx: RunContext) -> dict[str, Any]:
        """The pipeline method's keyword arguments. A pipeline that makes its own inputs takes no records."""
        if data is not None:
            raise ConfigError(
                "stage 'topic_prompts' makes its prompts from topics and takes no input records: put it first "
                "(only pipeline: closed_qa reads documents from the records before it)"
            )
        return self.model_dump()

    def record_input(self, record: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
        """The ``input`` column of a final prompt (empty: the instruction stands alone)."""
        return ""


class _TopicTree(PipelineOptions):
    """Macro topics → subtopics (+ the caller's) → ``n_openlines`` prompts per topic."""

    n_macro_topics: _Count = 5
    n_subtopics: _Count = 5
    n_openlines: _Count = 3
    additional_macro_topics: list[str] = Field(default_factory=list)
    additional_subtopics: list[str] = Field(default_factory=list)
    combine_topics: bool = True


class OpenQAOptions(_TopicTree):
    """Open questions about the world, each rewritten ``n_revisions`` ways."""

    n_revisions: _Count = 2


class WritingOptions(PipelineOptions):
    """Writing tasks per (topic, text material type), each rewritten ``n_revisions`` ways."""

    topics: list[str] = Field(min_length=1)
    text_material_types: list[str] = Field(min_length=1)
    n_openlines: _Count = 3
    n_revisions: _Count = 2


class MathOptions(_TopicTree):
    """Math problems for a school level; ``classify_topics`` keeps only topics the model calls math."""

    school_level: str = "high school"
    classify_topics: bool = False


class PythonOptions(_TopicTree):
    """Coding problems in ``language`` about Python topics; ``classify_topics`` as for math."""

    language: str = "Python"
    classify_topics: bool = False


class ClosedQAOptions(PipelineOptions):
    """Questions about documents: from ``documents`` (JSON Lines, field ``document_field``, relative to the
    recipe) or, when the stage follows another, from the input records' ``document_field``. ``limit``: the first
    documents only. ``document_as_input``: the document becomes the record's ``input``, so the answer can use it."""

    documents: str | None = None
    document_field: str = "text"
    limit: int | None = Field(None, ge=1)
    n_openlines: _Count = 3
    document_as_input: bool = True

    def arguments(self, data: DocumentDataset | None, ctx: RunContext) -> dict[str, Any]:
        texts = self._documents(data, ctx)[: self.limit]
        if not texts:
            raise ConfigError(f"stage 'topic_prompts' (closed_qa): no documents in {self._origin()}")
        return {"documents": texts, "n_openlines": self.n_openlines}

    def record_input(self, record: Mapping[str, Any], arguments: Mapping[str, Any]) -> str:
        return str(arguments["documents"][record["document_index"]]) if self.document_as_input else ""

    def _documents(self, data: DocumentDataset | None, ctx: RunContext) -> list[str]:
        if data is not None and self.documents is not None:
            raise ConfigError(
                "stage 'topic_prompts' (closed_qa): documents come either from `options.documents` or from the "
                "records of the stage before, not both"
            )
        if self.documents is not None:
            return read_seed_texts(ctx.config.resolve(self.documents), self.document_field)
        if data is None:
            raise ConfigError(
                "stage 'topic_prompts' (closed_qa) needs documents: set `options.documents:` (a .jsonl file) or "
                "put a load stage before it"
            )
        if self.document_field not in data.columns:
            raise ConfigError(
                f"stage 'topic_prompts' (closed_qa): the input records have no {self.document_field!r} column "
                f"(options.document_field); they have {data.columns}"
            )
        column = data.to_pandas()[self.document_field]
        return [str(text) for text in column.dropna() if str(text).strip()]

    def _origin(self) -> str:
        return self.documents if self.documents is not None else f"the input records' {self.document_field!r}"


# ----------------------------------------------------------------------------------------------- registry
PipelineMethod = Callable[..., Coroutine[Any, Any, NemotronPipelineResult]]


@dataclass(frozen=True)
class TopicPipeline:
    """A pipeline the stage can run: its options model and the :class:`NemotronPipelines` method."""

    options: type[PipelineOptions]
    method: PipelineMethod
    templates: type[BaseModel] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "templates", _templates_model(self.method))


def _template_text(value: str) -> str:
    from curator_synth.prompts.library import resolve_template

    resolve_template(value)  # an unknown generation_prompts id or a stray brace fails here, with the key path
    return value


def _templates_model(method: PipelineMethod) -> type[BaseModel]:
    """A model whose keys are the method's ``*_prompt_template`` parameters (anything else: unknown key)."""
    names = [name for name in inspect.signature(method).parameters if name.endswith("_prompt_template")]
    fields: dict[str, Any] = {name: (str, None) for name in names}
    validators = {"check": field_validator(*names)(_template_text)} if names else {}
    config = ConfigDict(extra="forbid", frozen=True)
    return create_model(f"{method.__name__}_templates", __config__=config, __validators__=validators, **fields)


#: The pipelines of ``topic_prompts``, by the name recipes give in ``pipeline:``.
TOPIC_PIPELINES: Registry[TopicPipeline] = Registry("topic_pipelines")
TOPIC_PIPELINES.add("open_qa", TopicPipeline(OpenQAOptions, NemotronPipelines.run_open_qa_pipeline))
TOPIC_PIPELINES.add("writing", TopicPipeline(WritingOptions, NemotronPipelines.run_writing_pipeline))
TOPIC_PIPELINES.add("closed_qa", TopicPipeline(ClosedQAOptions, NemotronPipelines.run_closed_qa_pipeline))
TOPIC_PIPELINES.add("math", TopicPipeline(MathOptions, NemotronPipelines.run_math_pipeline))
TOPIC_PIPELINES.add("python", TopicPipeline(PythonOptions, NemotronPipelines.run_python_pipeline))


# --------------------------------------------------------------------------------------------------- stage
class TopicPromptsOptions(GenerationOptions):
    """``pipeline`` (a name in :data:`TOPIC_PIPELINES`), its ``options``, ``templates`` overrides, how list
    answers are read (``count_policy``, ``yaml_fallback``) and the sampling parameters of every request."""

    pipeline: str
    options: Any = Field(default=None, validate_default=True)
    templates: dict[str, str] = Field(default_factory=dict)
    count_policy: Literal["error", "trim", "accept"] = "trim"
    yaml_fallback: bool = True
    temperature: float | None = 0.7
    max_tokens: int | None = 1024

    @field_validator("pipeline")
    @classmethod
    def _known_pipeline(cls, name: str) -> str:
        if name not in TOPIC_PIPELINES:
            raise ValueError(f"unknown pipeline {name!r}; one of {', '.join(TOPIC_PIPELINES.names())}")
        return name.lower()

    @field_validator("options")
    @classmethod
    def _pipeline_options(cls, value: Any, info: ValidationInfo) -> Any:
        if "pipeline" not in info.data:  # the pipeline name is wrong: that error is reported already
            return value
        return TOPIC_PIPELINES.get(info.data["pipeline"]).options.model_validate({} if value is None else value)

    @field_validator("templates")
    @classmethod
    def _template_parameters(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        if "pipeline" in info.data:
            TOPIC_PIPELINES.get(info.data["pipeline"]).templates.model_validate(value)
        return value


@register_stage
class TopicPromptsStage(Stage[TopicPromptsOptions]):
    """Run a Nemotron prompt pipeline (``pipeline:``) on the driver: one record per final prompt, source
    ``nemotron_<pipeline>``, provenance with the topic chain; failures and rejected topics are counted."""

    name = "topic_prompts"
    Options = TopicPromptsOptions
    uses_llm = True
    first = True

    def preview(self, n: int) -> dict[str, Any]:
        """One topic (one document, one material type), ``n`` openlines, one revision: about ``n`` prompts."""
        options = self.options.options.model_dump()
        small = {"n_macro_topics": 1, "n_subtopics": 1, "n_openlines": n, "n_revisions": 1, "limit": 1}
        for key in ("topics", "text_material_types", "additional_macro_topics", "additional_subtopics"):
            small[key] = options.get(key, [])[:1]
        return {"options": {key: value for key, value in {**options, **small}.items() if key in options}}

    def run(self, data: DocumentDataset | None, ctx: RunContext) -> StageOutput:
        options = self.options
        chosen: PipelineOptions = options.options
        arguments = chosen.arguments(data, ctx)
        result = self._generate(options, arguments, ctx)
        rows = [_row(options.pipeline, item, result, chosen.record_input(item, arguments)) for item in result.items]
        failures = _failures(result)
        reasons = ", ".join(f"{reason} {n}" for reason, n in failures.items())
        errors = [type(failure.error).__name__ for failure in result.failures]
        require_some_output(
            self.name, len(rows), len(result.failures), reasons, errors=errors, keys=ctx.key_variables()
        )
        frame = normalise_records(pd.DataFrame(rows, columns=None if rows else ["id", "instruction"]))
        duplicates = int(frame["id"].duplicated().sum())
        frame = frame.drop_duplicates("id", ignore_index=True)
        rejections = _rejections(failures, result, duplicates)
        return StageOutput(ctx.dataset(frame), {self.name: rejections} if rejections else {})

    @staticmethod
    def _generate(options: TopicPromptsOptions, arguments: dict[str, Any], ctx: RunContext) -> NemotronPipelineResult:
        """Run the pipeline method on the driver's client (the runner counts its requests for this stage)."""
        from curator_synth.clients.sync import run_sync
        from curator_synth.generators.nemotron import AsyncNemotronGenerator
        from curator_synth.prompts.library import resolve_template

        templates = {name: resolve_template(text) for name, text in options.templates.items()}
        params = model_params(options)
        generator = AsyncNemotronGenerator(ctx.llm_client(), ctx.model, params=params)
        method = TOPIC_PIPELINES.get(options.pipeline).method
        call = method(NemotronPipelines(generator), **arguments, **templates, count_policy=options.count_policy,
                      yaml_fallback=options.yaml_fallback)  # fmt: skip
        result = run_sync(call)
        _raise_config_errors(result)
        return result


# ------------------------------------------------------------------------------------------------ records
def _row(pipeline: str, record: Mapping[str, Any], result: NemotronPipelineResult, text_input: str) -> dict[str, Any]:
    source = f"nemotron_{pipeline}"
    instruction = str(record["text"])
    lineage = _lineage(record, result)
    provenance = {"pipeline": pipeline, "stage": record["stage"], **lineage}
    return {
        "id": record_id(source, instruction, text_input),
        "instruction": instruction,
        "input": text_input,
        "response": "",
        "source": source,
        "provenance": json.dumps(provenance, default=str, ensure_ascii=False),
        "topic": _topic(lineage),
    }


def _topic(lineage: Mapping[str, Any]) -> str:
    """The ``topic`` column (for ``sample: {strategy: topic_stratified, topic_field: topic}``): the topic the
    prompt was asked about, else its macro topic, else its document."""
    if "topic" in lineage:
        return str(lineage["topic"])
    if "macro_topic" in lineage:
        return str(lineage["macro_topic"])
    return f"document {lineage['document_index']}" if "document_index" in lineage else ""


_OWN_KEYS = frozenset({"id", "stage", "text", "provenance", "accepted"})
_NAMED_STAGES = {"macro_topics": "macro_topic", "subtopics": "subtopic"}


def _lineage(record: Mapping[str, Any], result: NemotronPipelineResult) -> dict[str, Any]:
    """What a prompt came from: the chain of its ancestors (root first), the fields they carry (topic,
    text_material_type, document_index), the macro topic and subtopic, and how the prompt itself was made."""
    by_id = {item["id"]: item for items in result.stages.values() for item in items}
    chain: list[Mapping[str, Any]] = []
    current = record
    while current["provenance"].get("parents") and current["provenance"]["parents"][0] in by_id:
        current = by_id[current["provenance"]["parents"][0]]
        chain.insert(0, current)
    found: dict[str, Any] = {}
    for item in (*chain, record):
        found.update({key: value for key, value in item.items() if key not in _OWN_KEYS})
        if item["stage"] in _NAMED_STAGES:
            found[_NAMED_STAGES[item["stage"]]] = item["text"]
    generation = {key: value for key, value in record["provenance"].items() if key != "parents"}
    return {**found, "chain": [{"stage": item["stage"], "text": item["text"]} for item in chain], **generation}


def _failures(result: NemotronPipelineResult) -> Counter[str]:
    """Failed items by stage and error type."""
    return Counter(f"{_stage_of(failure)}: {type(failure.error).__name__}" for failure in result.failures)


def _rejections(failures: Counter[str], result: NemotronPipelineResult, duplicates: int) -> dict[str, int]:
    """The failures, topics the classification said No to, duplicate prompts."""
    counts = Counter(failures)
    rejected = sum(1 for item in result.stages.get("classification", []) if not item.get("accepted"))
    if rejected:
        counts["classification: not in scope"] = rejected
    if duplicates:
        counts["duplicate_prompt"] = duplicates
    return dict(counts)


def _raise_config_errors(result: NemotronPipelineResult) -> None:
    """A ConfigError in an item is the recipe's mistake (e.g. a template placeholder nobody fills), not a
    model's: raise it rather than count every item as failed."""
    for failure in result.failures:
        if isinstance(failure.error, ConfigError):
            raise ConfigError(f"stage 'topic_prompts', {_stage_of(failure)}: {failure.error}") from failure.error


def _stage_of(failure: Any) -> str:
    return failure.stage if isinstance(failure, PipelineFailure) else "pipeline"
