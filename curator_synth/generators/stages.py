"""Result types of multi-stage generation pipelines: what each stage produced and what failed, at which stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from curator_synth.generators.base import Failure, StageResult

__all__ = ["NemotronPipelineResult", "PipelineFailure", "Record", "StageInput"]

Record = dict[str, Any]


@dataclass(frozen=True)
class StageInput:
    """One request of a stage: the record it derives from (None in a first stage), the method's arguments
    (``values``) and fields copied into the records it yields (``fields``)."""

    parent: Record | None
    values: dict[str, Any]
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PipelineFailure(Failure):
    """A failed item of a pipeline: :class:`Failure` plus its stage (``input`` is a :class:`StageInput`)."""

    stage: str = ""

    @property
    def reason(self) -> str:
        return f"{self.stage}: {type(self.error).__name__}: {self.error}"


@dataclass
class NemotronPipelineResult(StageResult[Record]):
    """The final records (``items``), what failed (``failures``) and every stage's records (``stages``)."""

    stages: dict[str, list[Record]] = field(default_factory=dict)

    @property
    def texts(self) -> list[str]:
        """The final texts alone: what NeMo's pipelines return."""
        return [record["text"] for record in self.items]
