"""The instruction-tuning record and what every producer of records shares: content ids and the prompt text.

- :func:`record_id`: a stable id from content, so a re-run gives every record the same id (generators, stages
  and the simple API all derive their ids with it, each with its own first part naming what the record is);
- :func:`prompt_text`: the user's text of an instruction with an optional input — the instruction, then the
  input after a blank line when it has any text, both stripped. The responses stage, the simple API's generator,
  the combined filter and the chat exports all build the prompt with it, so a record is judged, answered and
  exported with the same text;
- :class:`Sample`: one instruction-tuning record of the simple API (instruction, input, response, source,
  provenance, scores, id).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from curator_synth.errors import ConfigError

__all__ = ["Sample", "prompt_text", "record_id"]


def record_id(*parts: Any) -> str:
    """A stable id from content (same inputs and outputs on a re-run give the same id)."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def prompt_text(instruction: str, input: str | None = None) -> str:
    """The instruction, then ``input`` after a blank line when it has any text (both stripped)."""
    extra = (input or "").strip()
    return f"{instruction.strip()}\n\n{extra}" if extra else instruction.strip()


@dataclass
class Sample:
    """One instruction-tuning record: ``instruction`` (+ ``input``) and ``response``, where it came from
    (``source``: ``"seed"``, ``"self_instruct"``, ``"evol_instruct"``; ``provenance``: one entry per step) and
    the scores given to it (``scores``, filled by e.g. a :class:`~curator_synth.reward.RewardModel`).
    ``id`` defaults to a hash of the source, instruction and input."""

    instruction: str
    input: str = ""
    response: str = ""
    source: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    id: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.instruction, str):
            raise ConfigError(f"a sample's instruction must be a string, got {self.instruction!r:.80}")
        if not self.id:
            self.id = record_id("sample", self.source, self.instruction, self.input)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (the fields, ``provenance`` and ``scores`` as nested objects)."""
        return {
            "id": self.id,
            "instruction": self.instruction,
            "input": self.input,
            "response": self.response,
            "source": self.source,
            "provenance": dict(self.provenance),
            "scores": dict(self.scores),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sample:
        """A sample from a mapping such as a line of :meth:`AsyncSyntheticDataGenerator.save` or a pipeline record
        (``output`` is read as ``response``; a ``provenance`` JSON string is decoded; other keys are ignored)."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"expected a Sample or a mapping, got {type(data).__name__}")
        if not isinstance(data.get("instruction"), str):
            raise ConfigError(f"a sample needs an 'instruction' string, got {data.get('instruction')!r:.80}")
        provenance = data.get("provenance") or {}
        if isinstance(provenance, str):
            try:
                provenance = json.loads(provenance)
            except json.JSONDecodeError:
                provenance = {"text": provenance}
        response = data.get("response", data.get("output"))
        return cls(
            instruction=data["instruction"],
            input=str(data.get("input") or ""),
            response=str(response or ""),
            source=str(data.get("source") or ""),
            provenance=dict(provenance) if isinstance(provenance, Mapping) else {"value": provenance},
            scores={str(k): float(v) for k, v in (data.get("scores") or {}).items()},
            id=str(data.get("id") or ""),
        )

    @classmethod
    def of(cls, item: Sample | Mapping[str, Any]) -> Sample:
        """``item`` itself if it is a :class:`Sample`, else :meth:`from_dict`."""
        return item if isinstance(item, Sample) else cls.from_dict(item)
