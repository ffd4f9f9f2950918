"""``PipelineConfig``: a recipe, validated. Loaded from YAML; every mistake is reported with file, line and key path.

A recipe names its stages (``stage: self_instruct``, ``stage: filter`` ...) and each stage validates its own
options (:data:`~curator_synth.pipeline.stages.STAGES`), so an unknown key anywhere — top level, client, or
inside a stage — is an error such as ``recipe.yaml:14: stages[3].min_scor: unknown key``. Relative paths in a
recipe (data, seeds) are relative to the recipe file; ``output_dir`` is relative to the working directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from curator_synth._files import PACKAGE_DATA, package_data
from curator_synth._yaml import load_yaml
from curator_synth.clients.factory import ClientSpec
from curator_synth.errors import ConfigError
from curator_synth.pipeline.recipe_keys import apply_overrides, close_key

if TYPE_CHECKING:
    from curator_synth.embeddings import Embedder

__all__ = [
    "BiasConfig",
    "ClientConfig",
    "DaskConfig",
    "EmbeddingsConfig",
    "ExportConfig",
    "PipelineConfig",
    "PricingConfig",
    "ReportConfig",
    "StageSpec",
    "load_config",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClientConfig(ClientSpec):
    """The recipe's ``client:`` section: a :class:`~curator_synth.clients.factory.ClientSpec` (``kind`` names a
    client in ``CLIENTS``; the settings of :class:`~curator_synth.clients.settings.ClientSettings`; ``options``),
    validated with the recipe so a mistake is reported at its line. The API key is never written in a recipe:
    ``api_key_env`` names the environment variable holding it. ``check``: the pre-flight before the first LLM
    stage (the model listing; false: none). ``cache_dir`` is not set here: a run keeps its journals in its output
    directory."""

    __init__ = BaseModel.__init__  # pydantic's messages, at the key's line

    check: bool = True

    @field_validator("cache_dir")
    @classmethod
    def _journal_of_the_run(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError("a run keeps its request journals in its output directory (journal/, stages/*/parts/)")
        return value

    def spec(self) -> ClientSpec:
        """The section as the :class:`ClientSpec` that clients are built from (``check`` is the run's own)."""
        return ClientSpec.model_construct(**{name: getattr(self, name) for name in ClientSpec.model_fields})


class DaskConfig(_Strict):
    """Where partitions run. ``cluster: threads`` (the default): Dask's local threads in this process, nothing
    is started; ``cluster: local``: a ``LocalCluster`` of ``n_workers`` processes (``threads_per_worker`` each),
    started for a run's LLM stages; ``scheduler_address``: a running cluster (``cluster`` is then not used)."""

    cluster: Literal["threads", "local"] = "threads"
    scheduler_address: str | None = None
    n_workers: int = Field(2, ge=1)
    threads_per_worker: int = Field(1, ge=1)


class EmbeddingsConfig(_Strict):
    """The sentence-embedding model of a run's semantic steps (cluster-balanced sampling, semantic dedup, the
    report's embedding metrics): ``model`` a local directory (relative to the recipe, or ``package:``) or a
    sentence-transformers hub name (default: the packaged all-MiniLM-L6-v2, offline); ``backend``, ``device`` and
    ``batch_size`` as for :class:`~curator_synth.embeddings.Embedder`."""

    model: str | None = None
    backend: Literal["auto", "numpy", "sentence-transformers"] = "auto"
    device: str = "cpu"
    batch_size: int = Field(64, ge=1)


class PricingConfig(_Strict):
    """Prices per million tokens, for the cost estimate in the report and in ``--dry-run``; requests answered
    through the provider's batch API (``batch: true``) cost ``batch_discount`` times as much (OpenAI: 0.5)."""

    prompt_per_1m: float = Field(ge=0)
    completion_per_1m: float = Field(ge=0)
    currency: str = "USD"
    batch_discount: float = Field(0.5, ge=0, le=1)

    def pricing(self) -> Any:
        """The :class:`~curator_synth.report.Pricing` of these prices."""
        from curator_synth.report import Pricing

        return Pricing(self.prompt_per_1m, self.completion_per_1m, self.currency, self.batch_discount)


class ExportConfig(_Strict):
    """One export of the final dataset: ``format`` in ``EXPORT_FORMATS``, ``path`` relative to ``output_dir``;
    ``trace``: responses carry their reasoning (a reasoning model's) before them in ``<think>`` tags."""

    format: str
    path: str
    fields: dict[str, str] = Field(default_factory=dict)
    metadata: list[str] = Field(default_factory=list)
    trace: bool = False


class BiasConfig(_Strict):
    """The report's bias and representation section: term lists from ``terms_file`` (relative to the recipe;
    default the packaged ``prompt_templates/bias_terms.yaml``) with the groups of ``terms`` added or replaced,
    matched in ``fields``; categories from ``category_field`` (default: a ``category`` or ``topic`` column, else
    the diversity clusters); the chart shows the ``top_n`` most mentioned terms."""

    enabled: bool = True
    terms_file: str | None = None
    terms: dict[str, list[str] | dict[str, list[str]]] = Field(default_factory=dict)
    category_field: str | None = None
    fields: list[str] = Field(default_factory=lambda: ["instruction", "response"], min_length=1)
    top_n: int = Field(20, ge=1)


class ReportConfig(_Strict):
    """``embeddings``: the report's embedding metrics (semantic diversity, labelled clusters); ``auto``: when a
    stage of the recipe embeds texts anyway (semantic dedup, cluster-balanced sampling), so a recipe that embeds
    nothing loads no model for its report (~5 s per 1,000 texts on 2 cores)."""

    enabled: bool = True
    title: str | None = None
    plots: bool = True
    embeddings: Literal["auto"] | bool = "auto"
    bias: BiasConfig = BiasConfig.model_validate({})


class StageSpec(BaseModel):
    """One validated stage of a recipe: its registered ``name`` and its options (the stage's own model)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    name: str
    options: Any


class PipelineConfig(_Strict):
    """A whole recipe. ``stages`` is a list of mappings, each with a ``stage`` key naming a registered stage;
    use :meth:`stage_specs` (or :func:`load_config`) to get them validated."""

    name: str
    description: str = ""
    output_dir: str | None = None
    model: str | None = None
    client: ClientConfig | None = None
    dask: DaskConfig = DaskConfig.model_validate({})
    seeds: str | None = None
    seed_field: str = "instruction"
    stages: list[dict[str, Any]] = Field(min_length=1)
    exports: list[ExportConfig] = Field(default_factory=list)
    report: ReportConfig = ReportConfig.model_validate({})
    pricing: PricingConfig | None = None
    embeddings: EmbeddingsConfig = EmbeddingsConfig.model_validate({})
    seed: int = 0
    #: Finish reasons that keep an answer out of the data (asked once more first); a stage may set its own.
    invalid_finish_reasons: list[str] = Field(default_factory=lambda: ["length", "content_filter"])
    #: Consecutive per-record LLM stages (responses, score, ...) run as one streamed chain in this process: a
    #: record's next request goes out as soon as its previous one is answered (docs/pipeline.md#streamed-chains);
    #: False runs them stage by stage, each over every partition before the next starts. None (default): streamed,
    #: except on a Dask cluster (``dask.cluster: local`` or a scheduler), whose workers then run the partitions.
    streaming: bool | None = None
    base_dir: str = Field(default=".", exclude=True)
    _source: str | None = PrivateAttr(default=None)
    _lines: dict[tuple[Any, ...], int] = PrivateAttr(default_factory=dict)

    def locate(self, key_path: tuple[Any, ...]) -> str:
        """``"recipe.yaml:14: "``: where ``key_path`` (e.g. ``("stages", 3)``) is written, for messages about it
        (``""`` for a recipe given as a mapping)."""
        return _where(self._source, self._lines, key_path) if self._source else ""

    def resolve(self, path: str | os.PathLike[str]) -> Path:
        """``path`` relative to the recipe's directory (absolute paths and ``~`` as given); ``package:NAME`` is
        the data shipped in the package (``curator_synth/data/NAME``), so a shipped recipe copied anywhere still
        finds its data."""
        text = os.fspath(path)
        if text.startswith(PACKAGE_DATA):
            return package_data(text[len(PACKAGE_DATA) :])
        candidate = Path(os.path.expanduser(text))
        return candidate if candidate.is_absolute() else Path(self.base_dir) / candidate

    def embedder(self) -> Embedder:
        """The :class:`~curator_synth.embeddings.Embedder` of the ``embeddings:`` section (built now: a missing
        extra is a ``MissingDependencyError`` here; the model loads on first use)."""
        from curator_synth.embeddings import Embedder

        settings = self.embeddings
        model: str | Path | None = settings.model
        if model is not None and self.resolve(model).is_dir():
            model = self.resolve(model)  # a directory beside the recipe; else a hub name, as given
        return Embedder(model, device=settings.device, batch_size=settings.batch_size, backend=settings.backend)

    @property
    def output_path(self) -> Path:
        """``output_dir`` (default ``runs/<name>``), relative to the working directory, not to the recipe."""
        return Path(os.path.expanduser(self.output_dir or f"runs/{self.name}"))

    def stage_specs(self) -> list[StageSpec]:
        """Each stage's options validated by its own model (errors name ``stages[i].key``)."""
        specs, problems = _stage_specs(self.stages, self._source, self._lines)
        if problems:
            raise ConfigError(problems[0] if len(problems) == 1 else "invalid recipe:\n  " + "\n  ".join(problems))
        return specs

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, base_dir: str | os.PathLike[str] = ".", source: str | None = None
    ) -> PipelineConfig:
        return _validate(dict(data), base_dir, source, {})

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> PipelineConfig:
        return load_config(path)


# ----------------------------------------------------------------------------------------------- loading
def load_config(path: str | os.PathLike[str], overrides: Sequence[tuple[str, Any]] = ()) -> PipelineConfig:
    """Read and validate a YAML recipe; errors name the file, the line and the key path (every problem at once).
    ``overrides``: ``(key.path, value)`` pairs set before validation (``curator-synth run --set``, see
    :func:`~curator_synth.pipeline.recipe_keys.apply_overrides`)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read recipe {file}: {error.strerror or error}") from error
    data = load_yaml(text, str(file))  # a key given twice is an error naming both lines
    lines = _line_map(yaml.compose(text, Loader=yaml.SafeLoader))
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: a recipe is a YAML mapping (name:, stages: ...), got {type(data).__name__}")
    return _validate(apply_overrides(data, overrides), file.resolve().parent, str(file), lines)


def _validate(data: dict[str, Any], base_dir: Any, source: str | None, lines: dict[tuple[Any, ...], int]) -> Any:
    """The recipe, or one ConfigError listing every problem: of the recipe's sections and of each stage."""
    problems: list[str] = []
    config = None
    try:
        config = PipelineConfig.model_validate({**data, "base_dir": os.fspath(base_dir)})
    except ValidationError as error:
        problems += _describe(error, PipelineConfig, (), source, lines)
    stages = data.get("stages")
    if isinstance(stages, list) and all(isinstance(stage, Mapping) for stage in stages):
        problems += _stage_specs(stages, source, lines)[1]
    if problems or config is None:
        raise ConfigError(problems[0] if len(problems) == 1 else "invalid recipe:\n  " + "\n  ".join(problems))
    config._source, config._lines = source, lines
    return config


def _stage_specs(
    stages: Sequence[Mapping[str, Any]], source: str | None, lines: dict[tuple[Any, ...], int]
) -> tuple[list[StageSpec], list[str]]:
    """Each stage's options validated by its own model, and the problems of all of them."""
    from curator_synth.pipeline.stages import STAGES

    specs, problems = [], []
    for index, raw in enumerate(stages):
        where = _where(source, lines, ("stages", index))
        if "stage" not in raw:
            problems.append(f"{where}stages[{index}]: missing 'stage:' (one of {', '.join(STAGES.names())})")
            continue
        options = {key: value for key, value in raw.items() if key != "stage"}
        try:
            stage = STAGES.get(str(raw["stage"]))
        except ConfigError as error:
            problems.append(f"{_where(source, lines, ('stages', index, 'stage'))}stages[{index}].stage: {error}")
            continue
        try:
            specs.append(StageSpec(name=stage.name, options=stage.Options.model_validate(options)))
        except ValidationError as error:
            problems += _describe(error, stage.Options, ("stages", index), source, lines)
    return specs, problems


def _describe(
    error: ValidationError, model: type[BaseModel], prefix: tuple[Any, ...], source: str | None, lines: Any
) -> list[str]:
    """One line per problem: ``recipe.yaml:7: stages[1].min_scor: unknown key; did you mean 'min_score'?``."""
    problems = []
    for item in error.errors():
        loc = prefix + tuple(item["loc"])
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            close = close_key(model, tuple(item["loc"]))
            message = "unknown key" + (f"; did you mean {close!r}?" if close else "")
        problems.append(f"{_where(source, lines, loc)}{_key_path(loc)}: {message}")
    return problems


def _key_path(loc: Sequence[Any]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(recipe)"


def _where(source: str | None, lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> str:
    for cut in range(len(loc), -1, -1):  # the deepest node that exists (a missing key: its parent)
        if loc[:cut] in lines:
            return f"{source}:{lines[loc[:cut]]}: " if source else f"line {lines[loc[:cut]]}: "
    return f"{source}: " if source else ""


def _line_map(node: Any, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Key path -> 1-based line, from PyYAML's node tree (keys point at the key's own line)."""
    found: dict[tuple[Any, ...], int] = {}
    if node is None:
        return found
    found[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, key.value)
            found.update(_line_map(value, child))
            found[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, value in enumerate(node.value):
            found.update(_line_map(value, (*path, index)))
    return found
