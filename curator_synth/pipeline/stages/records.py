"""Stages that turn each record into new records with a model, over partitions on Dask: multi-turn dialogues
(``dialogue``), Nemotron-CC rephrasing of documents (``rephrase``) and preference pairs (``preference``).

Their partition tasks are in :mod:`curator_synth.pipeline.record_tasks`; rows that could not be made are
counted by reason in the stage's rejections and dropped (never silently lost).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from curator_synth.dataset import DocumentDataset
from curator_synth.pipeline.context import RunContext
from curator_synth.pipeline.record_tasks import NO_PAIR_COLUMN, DialogueTask, PreferenceTask, RephraseTask
from curator_synth.pipeline.stages.base import StageOutput, register_stage
from curator_synth.pipeline.stages.generation import GenerationOptions, model_params
from curator_synth.pipeline.stages.llm import RecordLLMStage

__all__ = ["DialogueStage", "PreferenceStage", "RephraseStage"]


def _one_of(value: str, known: list[str], what: str) -> str:
    if value not in known:
        raise ValueError(f"unknown {what} {value!r}; known: {', '.join(known)}")
    return value


def _template(value: str | None, family: str, placeholder: str) -> str | None:
    """A recipe's prompt template (a format string), checked to have exactly the one placeholder it is filled
    with (``{{`` and ``}}`` for literal braces)."""
    if value is None:
        return None
    from curator_synth.generators.base import template_of

    found = sorted(template_of(value, family).fields)  # a malformed format string raises ConfigError (a ValueError)
    if found != [placeholder]:
        raise ValueError(f"the template must have exactly the placeholder {{{placeholder}}}, has {found}")
    return value


# ----------------------------------------------------------------------------------------------- dialogue
class DialogueOptions(GenerationOptions):
    """``n_user_turns`` user turns per dialogue (each answered); ``temperature``/``max_tokens`` for both roles;
    ``system_prompt`` opens the conversation (seen by the assistant only); ``user_template`` replaces the
    simulated user's prompt (a format string with exactly ``{conversation}``)."""

    n_user_turns: int = Field(3, ge=1, le=20)
    temperature: float | None = Field(0.7, ge=0)
    max_tokens: int | None = Field(None, ge=1)
    system_prompt: str | None = None
    user_template: str | None = None

    @field_validator("user_template")
    @classmethod
    def _user_template(cls, value: str | None) -> str | None:
        return _template(value, "dialogue", "conversation")


@register_stage
class DialogueStage(RecordLLMStage[DialogueOptions]):
    """Turn every record's instruction (with its input) into a multi-turn conversation with a simulated user.
    Adds ``messages`` (the conversation, a list of ``{"role", "content"}``) and sets ``response`` to the first
    assistant turn; the other columns are kept."""

    name = "dialogue"
    Options = DialogueOptions

    def needs_columns(self) -> tuple[str, ...]:
        return ("id", "instruction", "response", "provenance")

    def task(self, ctx: RunContext) -> DialogueTask:
        options = self.options
        return DialogueTask(ctx.model, model_params(options), options.n_user_turns,
                            options.system_prompt, options.user_template)  # fmt: skip


# ----------------------------------------------------------------------------------------------- rephrase
def _rephrase_methods() -> list[str]:
    from curator_synth.generators.nemotron_cc import NEMOTRON_CC_METHODS

    return sorted(NEMOTRON_CC_METHODS)


class RephraseOptions(GenerationOptions):
    """``method`` (a key of ``NEMOTRON_CC_METHODS``) applied to the text in ``field``; the result goes to
    ``output_field`` and ``response``. Long texts are cut at ``max_chunk_tokens`` (None: never) and every
    chunk's answer is post-processed (``post_process``) as :meth:`process_documents` does; ``qa_*`` and
    ``min_fact_words`` tune the diverse-QA sampling and the knowledge-list clean-up."""

    method: str = "wikipedia"
    field: str = "text"
    output_field: str = "rephrased"
    temperature: float | None = Field(0.5, ge=0)
    max_tokens: int | None = Field(None, ge=1)
    system_prompt: str | None = None
    prompt_template: str | None = None
    max_chunk_tokens: int | None = Field(512, ge=1)
    post_process: bool = True
    qa_tokens_per_pair: int = Field(150, ge=1)
    qa_max_pairs: int | None = Field(None, ge=1)
    min_fact_words: int = Field(3, ge=0)

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        return _one_of(value, _rephrase_methods(), "method")

    @field_validator("prompt_template")
    @classmethod
    def _prompt_template(cls, value: str | None) -> str | None:
        return _template(value, "nemotron_cc", "document")


@register_stage
class RephraseStage(RecordLLMStage[RephraseOptions]):
    """Nemotron-CC rephrasing: rewrite every record's ``field`` (``method``: wikipedia, diverse_qa, distill,
    extract_knowledge, knowledge_list), one record per input: the rewrite in ``output_field`` (default
    ``rephrased``) and ``response``, a new id, and ``provenance["rephrase"]`` with the method and the source
    id. Documents whose request failed or whose answer the post-processor rejected are counted by reason."""

    name = "rephrase"
    Options = RephraseOptions

    def needs_columns(self) -> tuple[str, ...]:
        return ("id", "response", "provenance", self.options.field)

    def task(self, ctx: RunContext) -> RephraseTask:
        options = self.options
        return RephraseTask(
            ctx.model,
            options.method,
            options.field,
            options.output_field,
            model_params(options),
            options.system_prompt,
            options.prompt_template,
            options.max_chunk_tokens,
            options.post_process,
            ctx.config.seed,
            options.qa_tokens_per_pair,
            options.qa_max_pairs,
            options.min_fact_words,
        )


# --------------------------------------------------------------------------------------------- preference
def _reward_modes() -> list[str]:
    from curator_synth.reward.modes import REWARD_MODES

    return list(REWARD_MODES.names())


def _pair_strategies() -> list[str]:
    from curator_synth.reward.preference import PAIR_STRATEGIES

    return list(PAIR_STRATEGIES.names())


class PreferenceOptions(GenerationOptions):
    """``n_responses`` (>= 2) per instruction at ``temperature`` (``sampling``: one request with ``n``, or one
    request per seed), scored by ``mode`` (llm_judge, nemotron, heuristic; ``judge_model`` defaults to the
    recipe's model; ``judge_max_tokens`` bounds a judge's answer), paired by ``strategy`` (``PAIR_STRATEGIES``)
    when the margin is at least ``min_margin``."""

    n_responses: int = Field(2, ge=2, le=16)
    temperature: float | None = Field(0.8, ge=0)
    max_tokens: int | None = Field(None, ge=1)
    system_prompt: str | None = None
    sampling: Literal["n", "seeds"] = "n"
    mode: str = "llm_judge"
    judge_model: str | None = None
    judge_max_tokens: int | None = Field(512, ge=1)
    weights: dict[str, float] | None = None
    strategy: str = "best_vs_worst"
    min_margin: float = Field(0.0, ge=0)

    @field_validator("mode")
    @classmethod
    def _mode(cls, value: str) -> str:
        return _one_of(value, _reward_modes(), "reward mode")

    @field_validator("strategy")
    @classmethod
    def _strategy(cls, value: str) -> str:
        return _one_of(value, _pair_strategies(), "pair strategy")


@register_stage
class PreferenceStage(RecordLLMStage[PreferenceOptions]):
    """Preference pairs: ``n_responses`` responses per instruction, scored, paired; one record per pair with
    ``prompt``, ``chosen``, ``rejected``, ``chosen_score``, ``rejected_score``, ``margin`` (and ``instruction`` =
    prompt, ``response`` = chosen, ``source`` = "preference", both responses' provenance). Instructions whose
    generation or scoring failed, or that gave no pair, are counted by reason."""

    name = "preference"
    Options = PreferenceOptions

    def needs_columns(self) -> tuple[str, ...]:
        return ("id", "instruction")

    def task(self, ctx: RunContext) -> PreferenceTask:
        options = self.options
        return PreferenceTask(
            ctx.model,
            model_params(options),
            options.n_responses,
            options.sampling,
            ctx.config.seed,
            options.system_prompt,
            options.mode,
            options.judge_model,
            model_params(options, temperature=None, seed=None, max_tokens=options.judge_max_tokens),
            options.weights,
            options.strategy,
            options.min_margin,
        )

    def set_aside_column(self) -> str:
        return NO_PAIR_COLUMN

    def run(self, data: DocumentDataset | None, ctx: RunContext) -> StageOutput:
        return _without_unpaired(ctx, super().run(data, ctx), PreferenceTask.name)


def _without_unpaired(ctx: RunContext, output: StageOutput, name: str) -> StageOutput:
    """``output`` without the instructions that gave no pair, counted as ``no_pair`` (their requests worked,
    so they are not failures: a stage where only they are left is empty, not failed)."""
    frame = output.data.to_pandas()
    unpaired = frame[NO_PAIR_COLUMN].notna()
    if unpaired.any():
        output.rejections.setdefault(name, {})["no_pair"] = int(unpaired.sum())
    output.data = ctx.dataset(frame[~unpaired].drop(columns=[NO_PAIR_COLUMN]))
    return output
