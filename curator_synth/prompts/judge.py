"""The LLM-judge template and its rubric (``prompt_templates/evaluation_criteria.yaml``).

The wording of the rubric lives in YAML, not here: the five HelpSteer2 attributes with their 0-4 anchors, the
weights of the overall score and the answer format. :func:`load_criteria` reads and validates it (the shipped
file, or a user's own); :func:`judge_messages` fills :data:`JUDGE_SCORE` with it:

- the system message is the rubric (:func:`render_rubric`): the judge's instructions, then each attribute
  with its description and anchors 0..4;
- the user message shows the instruction and the response between tags, followed by the output format (and
  the rationale format when a rationale is asked for).

Requests are journaled under ``judge.score@<version>``; the rubric text is part of each request, so editing the
rubric never reuses answers given to the old one.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from importlib.resources import files
from os import PathLike, fspath
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from curator_synth._yaml import load_yaml
from curator_synth.errors import ConfigError
from curator_synth.prompts.base import PromptTemplate, register

__all__ = [
    "ATTRIBUTES",
    "JUDGE_SCORE",
    "AttributeCriterion",
    "EvaluationCriteria",
    "default_criteria",
    "default_criteria_path",
    "judge_messages",
    "load_criteria",
    "parse_criteria",
    "render_rubric",
]
ATTRIBUTES: tuple[str, ...] = ("helpfulness", "correctness", "coherence", "complexity", "verbosity")
"""The HelpSteer2 attributes, each on a 0 (worst) to 4 (best; for verbosity: longest) scale."""

JUDGE_SCORE = register(
    PromptTemplate(
        id="judge.score",
        version=1,
        description="LLM judge: score one response on the five HelpSteer2 attributes (0-4) with the YAML rubric.",
        system="{rubric}",
        text=(
            "Evaluate the AI assistant's response to the user's instruction below.\n\n"
            "<instruction>\n{instruction}\n</instruction>\n\n"
            "<response>\n{response}\n</response>\n\n"
            "{output_format}"
        ),
    )
)

_ANCHORS = frozenset(range(5))
_Text = Annotated[str, Field(min_length=1)]


class AttributeCriterion(BaseModel):
    """One attribute of the rubric: what it measures and what each score 0..4 means."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: _Text
    anchors: dict[int, _Text]

    @field_validator("anchors")
    @classmethod
    def _every_anchor(cls, anchors: dict[int, str]) -> dict[int, str]:
        if set(anchors) != _ANCHORS:
            raise ValueError(f"anchors must be exactly 0, 1, 2, 3 and 4, got {sorted(anchors)}")
        return dict(sorted(anchors.items()))


class EvaluationCriteria(BaseModel):
    """A validated rubric (the schema of ``evaluation_criteria.yaml``; every key is required)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    instructions: _Text
    attributes: dict[str, AttributeCriterion]
    weights: dict[str, Annotated[float, Field(strict=True)]]
    output_format: _Text
    rationale_format: _Text

    @field_validator("attributes")
    @classmethod
    def _the_five_attributes(cls, attributes: dict[str, AttributeCriterion]) -> dict[str, AttributeCriterion]:
        if set(attributes) != set(ATTRIBUTES):
            raise ValueError(f"attributes must be exactly {list(ATTRIBUTES)}, got {list(attributes)}")
        return attributes

    @field_validator("weights")
    @classmethod
    def _usable_weights(cls, weights: dict[str, float]) -> dict[str, float]:
        unknown = set(weights) - set(ATTRIBUTES)
        if unknown:
            raise ValueError(f"unknown attribute(s) {sorted(unknown)}; known: {list(ATTRIBUTES)}")
        if not all(math.isfinite(value) for value in weights.values()):
            raise ValueError("weights must be finite numbers")
        if not any(weights.values()):
            raise ValueError("at least one weight must be non-zero")
        return weights


def default_criteria_path() -> str:
    """Where the shipped rubric is (package data: ``curator_synth/prompt_templates/evaluation_criteria.yaml``)."""
    return str(files("curator_synth") / "prompt_templates" / "evaluation_criteria.yaml")


def parse_criteria(text: str, source: str) -> EvaluationCriteria:
    """Validate the YAML ``text`` of a rubric; errors are :class:`ConfigError` naming ``source`` and the key."""
    data = load_yaml(text, source)
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: the evaluation criteria must be a YAML mapping, got {type(data).__name__}")
    try:
        return EvaluationCriteria.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
        raise ConfigError(f"{source}: key {key!r}: {error['msg']}{more}") from exc


@functools.lru_cache(maxsize=1)
def default_criteria() -> EvaluationCriteria:
    """The shipped rubric, read once."""
    resource = files("curator_synth") / "prompt_templates" / "evaluation_criteria.yaml"
    return parse_criteria(resource.read_text(encoding="utf-8"), default_criteria_path())


def load_criteria(source: str | PathLike[str] | EvaluationCriteria | None = None) -> EvaluationCriteria:
    """The rubric from ``source``: None for the shipped one, a YAML file path, or a ready criteria object."""
    if source is None:
        return default_criteria()
    if isinstance(source, EvaluationCriteria):
        return source
    if not isinstance(source, (str, PathLike)):
        raise ConfigError(f"criteria must be a YAML file path or EvaluationCriteria, got {type(source).__name__}")
    path = Path(fspath(source))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the evaluation criteria: {exc.strerror or exc}") from exc
    return parse_criteria(text, str(path))


def render_rubric(criteria: EvaluationCriteria) -> str:
    """The judge's system prompt: the instructions, then each attribute with its description and anchors."""
    blocks = [criteria.instructions.strip()]
    for name, attribute in criteria.attributes.items():
        anchors = "\n".join(f"  {score}: {text.strip()}" for score, text in attribute.anchors.items())
        blocks.append(f"{name.capitalize()}: {attribute.description.strip()}\n{anchors}")
    return "\n\n".join(blocks)


def judge_messages(
    criteria: EvaluationCriteria, instruction: str, response: str, *, rationale: bool = False
) -> list[dict[str, Any]]:
    """The chat messages asking a judge to score ``response`` to ``instruction`` with ``criteria``."""
    output_format = criteria.output_format.strip()
    if rationale:
        output_format = f"{output_format}\n\n{criteria.rationale_format.strip()}"
    messages: list[dict[str, Any]] = JUDGE_SCORE.messages(
        rubric=render_rubric(criteria), instruction=instruction, response=response, output_format=output_format
    )
    return messages
