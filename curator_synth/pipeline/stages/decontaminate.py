"""The ``decontaminate`` stage: remove records holding n-grams of benchmark (evaluation) sets.

```yaml
- stage: decontaminate
  benchmarks:
    - {name: squad, path: benchmarks/squad_questions.jsonl, field: question}
  fields: [instruction, input, response]   # the record text searched (joined by newlines)
  ngram_size: 13
  max_matches: 10
```
The removed records are rejections: counted by reason (``contaminated:<benchmark>``) and kept with their
reasons in the stage directory's ``rejected.jsonl``. Benchmark files (paths relative to the recipe) are read and
checked before the run starts; their size and modification time are part of the resume fingerprint.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from pydantic import Field

from curator_synth.dataset import DocumentDataset
from curator_synth.errors import ConfigError
from curator_synth.pipeline.context import RunContext
from curator_synth.pipeline.stages.base import Stage, StageOptions, StageOutput, register_stage, write_rejected

if TYPE_CHECKING:
    import pandas as pd

    from curator_synth.dedup import Benchmark, BenchmarkDecontamination

__all__ = ["DecontaminateStage"]

_TEXT = "_decontamination_text"


class BenchmarkSpec(StageOptions):
    """One benchmark: its ``name`` (in the removal reasons), a local ``path`` (JSON Lines, Parquet or ``.txt``)
    and the ``field`` (or fields) holding its texts."""

    name: str = Field(min_length=1)
    path: str
    field: str | list[str] = "text"


class DecontaminateOptions(StageOptions):
    benchmarks: list[BenchmarkSpec] = Field(min_length=1)
    fields: list[str] = Field(default_factory=lambda: ["instruction", "input", "response"], min_length=1)
    ngram_size: int = Field(13, ge=1)
    min_ngram_size: int = Field(8, ge=1)
    max_matches: int | None = Field(10, ge=1)
    write_rejected: bool = True


@register_stage
class DecontaminateStage(Stage[DecontaminateOptions]):
    """Remove records whose ``fields`` hold n-grams of the ``benchmarks``
    (:class:`~curator_synth.dedup.BenchmarkDecontamination`)."""

    name = "decontaminate"
    Options = DecontaminateOptions
    drops = "filter"

    def check(self, ctx: RunContext) -> None:
        """Every benchmark file reads, and gives n-grams; names differ."""
        self._decontamination(ctx)

    def fingerprint(self, ctx: RunContext) -> dict[str, Any]:
        """The benchmark files (name, size, modification time): an edited benchmark runs the stage again."""
        files = [str(ctx.config.resolve(spec.path)) for spec in self.options.benchmarks]
        try:
            return {"benchmarks": [(path, os.stat(path).st_size, os.stat(path).st_mtime_ns) for path in files]}
        except OSError:
            return {}  # reported by check() and run()

    def run(self, data: DocumentDataset | None, ctx: RunContext) -> StageOutput:
        import pandas as pd

        from curator_synth.dedup.decontamination import REASON_COLUMN

        options = self.options
        dataset = self.require(data)
        fields = [field for field in options.fields if field in dataset.columns]
        if not fields:
            raise ConfigError(f"fields: the records have none of {options.fields}; they have {dataset.columns}")
        decontamination = self._decontamination(ctx)
        meta = dataset.df._meta.assign(**{_TEXT: pd.Series([], dtype=object)})
        with_text = DocumentDataset(dataset.df.map_partitions(_joined_text, fields, meta=meta))
        kept, removed = (frame.drop(columns=[_TEXT]) for frame in decontamination.decontaminate(with_text).compute())
        if options.write_rejected:
            write_rejected(removed, ctx)
        counts = removed[REASON_COLUMN].value_counts()
        rejections = {self.name: {str(reason): int(count) for reason, count in counts.items()}} if len(removed) else {}
        return StageOutput(ctx.dataset(kept), rejections)

    def _decontamination(self, ctx: RunContext) -> BenchmarkDecontamination:
        from curator_synth.dedup import BenchmarkDecontamination

        options = self.options
        benchmarks = [self._benchmark(number, spec, ctx) for number, spec in enumerate(options.benchmarks)]
        try:
            return BenchmarkDecontamination(
                benchmarks,
                text_field=_TEXT,
                ngram_size=options.ngram_size,
                min_ngram_size=options.min_ngram_size,
                max_matches=options.max_matches,
            )
        except ConfigError as error:
            raise ConfigError(f"benchmarks: {error}") from None

    @staticmethod
    def _benchmark(number: int, spec: BenchmarkSpec, ctx: RunContext) -> Benchmark:
        from curator_synth.dedup import Benchmark

        try:
            return Benchmark.from_file(spec.name, ctx.config.resolve(spec.path), spec.field)
        except ConfigError as error:  # a DataFormatError names the file and line itself
            raise ConfigError(f"benchmarks[{number}]: {error}") from None


def _joined_text(part: pd.DataFrame, fields: list[str]) -> pd.DataFrame:
    """``part`` with the text searched: the non-empty string values of ``fields``, one per line."""
    texts = [
        "\n".join(value for value in values if isinstance(value, str) and value)
        for values in zip(*(part[field] for field in fields), strict=True)
    ]
    return part.assign(**{_TEXT: texts})
