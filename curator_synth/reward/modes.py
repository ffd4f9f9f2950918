"""The reward modes: how :class:`~curator_synth.reward.RewardModel` turns (instruction, response) into scores.

Each mode is a small :class:`RewardScorer` registered by name in :data:`REWARD_MODES` (third-party modes: entry
point group ``curator_synth.reward_modes``, value a :class:`RewardScorer` subclass):

- ``"nemotron"``: a reward model endpoint (Nemotron-4-340B-Reward on NIM). The conversation is the instruction
  as the user turn and the response as the assistant turn; the five HelpSteer2 attributes come back on their
  raw scale (about 0-4), and ``overall = weighted_overall(raw, NEMOTRON_WEIGHTS, normalise=False)``, the model
  card's ``0.3 H + 0.74 Cr + 0.46 Coh + 0.47 Cx - 0.33 V`` (unbounded; higher is better).
- ``"llm_judge"``: any chat model with the rubric of ``evaluation_criteria.yaml``. The answer must be JSON with
  the five attributes as numbers in 0..4 (and a ``rationale`` string when asked for); invalid answers are shown
  back to the model up to ``max_repairs`` times, then a :class:`~curator_synth.errors.ResponseParseError` is
  raised (never a made-up score). ``overall = weighted_overall(scores, weights, normalise=True)`` in 0..1, the
  weights being the rubric's (30/30/20/10/10 by default).
- ``"heuristic"``: no client, no network: :func:`~curator_synth.filters.quality.quality_score`. ``overall`` is
  the quality score (0..1) and the only meaningful number; the five attributes are proxies computed from the
  quality signals (see :func:`heuristic_scores`), not estimates of what a judge would say.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, create_model

from curator_synth.clients.base import AsyncLLMClient
from curator_synth.clients.receipts import journal_namespace
from curator_synth.errors import ConfigError, NotARewardModelError
from curator_synth.prompts.judge import JUDGE_SCORE, EvaluationCriteria, judge_messages, load_criteria
from curator_synth.registry import Registry
from curator_synth.reward.scores import ATTRIBUTES, NEMOTRON_WEIGHTS, RewardScores, weighted_overall
from curator_synth.structured import StructuredMode, query_structured

__all__ = [
    "NEMOTRON_NAMESPACE",
    "REWARD_MODES",
    "HeuristicScorer",
    "JudgeScorer",
    "NemotronScorer",
    "RewardOptions",
    "RewardScorer",
    "heuristic_scores",
    "judge_answer_schema",
]

#: Journal namespace of the reward-model requests of the ``"nemotron"`` mode.
NEMOTRON_NAMESPACE = "reward.nemotron@1"

_STRUCTURED_MODES = ("json_schema", "prompt")


def _check_weights(weights: Mapping[str, float] | None) -> dict[str, float] | None:
    if weights is None:
        return None
    if not isinstance(weights, Mapping) or not weights:
        raise ConfigError(f"weights must be a non-empty mapping of attribute -> number, got {weights!r}")
    unknown = set(weights) - set(ATTRIBUTES)
    if unknown:
        raise ConfigError(f"unknown reward attribute(s) in weights: {sorted(unknown)}; known: {list(ATTRIBUTES)}")
    checked: dict[str, float] = {}
    for name, value in weights.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"weight of {name!r} must be a finite number, got {value!r}")
        checked[name] = float(value)
    if not any(checked.values()):
        raise ConfigError("reward weights are all zero")
    return checked


@dataclass(frozen=True)
class RewardOptions:
    """The settings a scorer reads, validated once when the reward model is built.

    ``weights`` replace the mode's default weights of ``overall`` (None: the mode's own). ``rationale`` asks
    for an explanation (judge: a ``rationale`` field; heuristic: the problem signals found; nemotron: none).
    ``criteria``, ``structured_mode`` and ``max_repairs`` configure the judge; ``params`` are request
    parameters (temperature, max_tokens, ...) of the judge's chat requests. Options a mode has no use for are
    ignored, so switching modes is one argument.
    """

    weights: Mapping[str, float] | None = None
    rationale: bool = False
    criteria: str | PathLike[str] | EvaluationCriteria | None = None
    structured_mode: StructuredMode = "prompt"
    max_repairs: int = 2
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", _check_weights(self.weights))
        if not isinstance(self.rationale, bool):
            raise ConfigError(f"rationale must be True or False, got {self.rationale!r}")
        if self.structured_mode not in _STRUCTURED_MODES:
            raise ConfigError(f"structured_mode must be one of {_STRUCTURED_MODES}, got {self.structured_mode!r}")
        if isinstance(self.max_repairs, bool) or not isinstance(self.max_repairs, int) or self.max_repairs < 0:
            raise ConfigError(f"max_repairs must be a non-negative integer, got {self.max_repairs!r}")
        if not isinstance(self.params, Mapping):
            raise ConfigError(f"params must be a mapping, got {type(self.params).__name__}")
        object.__setattr__(self, "params", dict(self.params))


class RewardScorer(ABC):
    """One reward mode: scores one (instruction, response) pair. Built once per reward model.

    ``needs_client``: whether the mode sends requests (the reward model refuses to build without a client);
    ``needs_model``: whether a model name is required.
    """

    mode: ClassVar[str] = ""
    needs_client: ClassVar[bool] = True
    needs_model: ClassVar[bool] = True

    def __init__(self, client: AsyncLLMClient, options: RewardOptions) -> None:
        self.client = client
        self.options = options

    @abstractmethod
    async def score(self, instruction: str, response: str, *, model: str | None) -> RewardScores:
        """The scores of ``response`` as the answer to ``instruction`` (errors are raised, typed)."""

    def _require_model(self, model: str | None) -> str:
        if not model:
            raise ConfigError(f"reward mode {self.mode!r} needs a model: pass model= to the reward model or the call")
        return model


def _scores(values: Mapping[str, float], overall: float, mode: str, rationale: str | None = None) -> RewardScores:
    return RewardScores(
        helpfulness=values["helpfulness"],
        correctness=values["correctness"],
        coherence=values["coherence"],
        complexity=values["complexity"],
        verbosity=values["verbosity"],
        overall=overall,
        rationale=rationale,
        mode=mode,
    )


#: Reward modes by name; extensible by entry points (group ``curator_synth.reward_modes``).
REWARD_MODES: Registry[type[RewardScorer]] = Registry("reward_modes")


@REWARD_MODES.register("nemotron")
class NemotronScorer(RewardScorer):
    """A reward model endpoint's five raw HelpSteer2 scores; ``overall`` by the model card's formula."""

    mode = "nemotron"

    async def score(self, instruction: str, response: str, *, model: str | None) -> RewardScores:
        chosen = self._require_model(model)
        messages = [{"role": "user", "content": instruction}, {"role": "assistant", "content": response}]
        with journal_namespace(NEMOTRON_NAMESPACE):
            raw = await self.client.query_reward_model(messages=messages, model=chosen)
        missing = [name for name in ATTRIBUTES if name not in raw]
        if missing:
            raise NotARewardModelError(
                f"the reward model {chosen!r} answered without the HelpSteer2 attribute(s) {missing} "
                f"(it scored {sorted(raw)}); mode 'nemotron' needs all of {list(ATTRIBUTES)}",
                raw=repr(raw),
            )
        values = {name: float(raw[name]) for name in ATTRIBUTES}
        overall = weighted_overall(values, self.options.weights or NEMOTRON_WEIGHTS, normalise=False)
        return _scores(values, overall, self.mode)


_Score = Annotated[float, Field(ge=0, le=4, strict=True, allow_inf_nan=False)]
_SCHEMAS: dict[bool, type[BaseModel]] = {}


def judge_answer_schema(rationale: bool = False) -> type[BaseModel]:
    """The pydantic model a judge's answer must validate as: the five attributes, numbers in 0..4 (booleans
    and numeric strings are invalid), plus a non-empty ``rationale`` string when ``rationale`` is True."""
    if rationale not in _SCHEMAS:
        fields: dict[str, Any] = {name: (_Score, ...) for name in ATTRIBUTES}
        if rationale:
            fields["rationale"] = (Annotated[str, Field(min_length=1)], ...)
        name = "JudgeScoresWithRationale" if rationale else "JudgeScores"
        _SCHEMAS[rationale] = create_model(name, __config__=ConfigDict(frozen=True), **fields)
    return _SCHEMAS[rationale]


@REWARD_MODES.register("llm_judge")
class JudgeScorer(RewardScorer):
    """A chat model grading with the rubric; the answer is validated, repaired, or the pair fails."""

    mode = "llm_judge"

    def __init__(self, client: AsyncLLMClient, options: RewardOptions) -> None:
        super().__init__(client, options)
        self.criteria = load_criteria(options.criteria)
        self.weights: Mapping[str, float] = options.weights or self.criteria.weights
        self.schema = judge_answer_schema(options.rationale)

    async def score(self, instruction: str, response: str, *, model: str | None) -> RewardScores:
        chosen = self._require_model(model)
        messages = judge_messages(self.criteria, instruction, response, rationale=self.options.rationale)
        with journal_namespace(JUDGE_SCORE.namespace):
            answer = await query_structured(
                self.client,
                messages=messages,
                model=chosen,
                schema=self.schema,
                mode=self.options.structured_mode,
                max_repairs=self.options.max_repairs,
                **self.options.params,
            )
        data = answer.model_dump()
        values = {name: float(data[name]) for name in ATTRIBUTES}
        rationale = str(data["rationale"]).strip() if self.options.rationale else None
        overall = weighted_overall(values, self.weights, normalise=True)
        return _scores(values, overall, self.mode, rationale)


@REWARD_MODES.register("heuristic")
class HeuristicScorer(RewardScorer):
    """The offline quality heuristic; no client, no model, no request."""

    mode = "heuristic"
    needs_client = False
    needs_model = False

    async def score(self, instruction: str, response: str, *, model: str | None) -> RewardScores:
        return heuristic_scores(instruction, response, rationale=self.options.rationale)


_WORD = re.compile(r"\w+", re.UNICODE)
#: Correctness proxy: answering what was asked, in the form asked (no fact is checked).
_CORRECTNESS_SIGNALS = ("empty", "refusal", "truncation", "format", "echo")
#: Coherence proxy: loops, leaked prompt templates, garbage characters, runaway lists.
_COHERENCE_SIGNALS = ("repetition", "compression", "template", "degenerate", "runaway_list")
_VERBOSITY_FULL_WORDS = 400  # verbosity proxy reaches 4 at this many words (log scale)


def _clip(value: float) -> float:
    return min(1.0, max(0.0, value))


def heuristic_scores(instruction: str, response: str, *, rationale: bool = False) -> RewardScores:
    """The ``"heuristic"`` mode's scores. Only ``overall`` (the quality score, 0..1) is meaningful; the
    attributes are documented proxies on the 0..4 scale, for code that expects all five:

    - helpfulness = 4 × quality score;
    - correctness = 4 × (1 − the largest of the signals empty, refusal, truncation, format, echo);
    - coherence = 4 × (1 − the largest of repetition, compression, template, degenerate, runaway_list);
    - complexity = 4 × clip((mean word length − 3.5) / 2.5): lexical, not intellectual, depth;
    - verbosity = 4 × log(1 + words) / log(1 + 400), capped at 4.

    With ``rationale`` the rationale lists the signals that lowered the score (strongest first).
    """
    from curator_synth.filters.quality import DEFAULT_WEIGHTS, combine_signals, quality_signals

    signals = quality_signals(instruction, response)
    values = signals.as_dict()
    overall = combine_signals(signals)
    words = _WORD.findall(response or "")
    mean_length = sum(len(word) for word in words) / len(words) if words else 0.0
    explanation = None
    if rationale:
        found = sorted(
            ((DEFAULT_WEIGHTS.get(name, 0.0) * value, name, value) for name, value in values.items() if value > 0),
        )
        shown = [f"{name} {value:.2f}" for impact, name, value in found if impact < 0]
        explanation = "quality signals: " + ", ".join(shown) if shown else "no problem signal found"
    return RewardScores(
        helpfulness=4.0 * overall,
        correctness=4.0 * (1.0 - max(values[name] for name in _CORRECTNESS_SIGNALS)),
        coherence=4.0 * (1.0 - max(values[name] for name in _COHERENCE_SIGNALS)),
        complexity=4.0 * _clip((mean_length - 3.5) / 2.5) if words else 0.0,
        verbosity=4.0 * min(1.0, math.log1p(len(words)) / math.log1p(_VERBOSITY_FULL_WORDS)),
        overall=overall,
        rationale=explanation,
        mode="heuristic",
    )
