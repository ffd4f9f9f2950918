"""Per-partition tasks of the record stages (``dialogue``, ``rephrase``, ``preference``): picklable, so Dask
ships them to workers; each is called with a partition (pandas) and the worker's client and returns the new
partition.

As in :mod:`curator_synth.pipeline.tasks`, a row that could not be made is returned with
``"<reason>: <detail>"`` in ``llm_error``; the stage counts it under ``<reason>`` and drops it, so nothing
disappears silently. Reasons name what went wrong (``post_process_rejected``, ``empty_turn``,
``scoring_failed (<ErrorType>)``...); a failed request is ``request_failed (<ErrorType>)``. An instruction
whose answers were scored but gave no preference pair is not a failure: it is marked in ``no_pair`` instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from curator_synth.clients.base import AsyncLLMClient
from curator_synth.errors import ConfigError, CuratorSynthError, ResponseParseError
from curator_synth.outcome import Failure
from curator_synth.pipeline.tasks import ERROR_COLUMN, merge_provenance, parsed_provenance, with_errors
from curator_synth.records import prompt_text, record_id

if TYPE_CHECKING:
    from curator_synth.generators.responses import ResponseRecord, Sampling
    from curator_synth.reward.scores import RewardScores

    Score = RewardScores | CuratorSynthError  # a response's scores, or why it could not be scored

__all__ = [
    "NO_PAIR_COLUMN",
    "PREFERENCE_COLUMNS",
    "DialogueTask",
    "PreferenceTask",
    "RephraseTask",
    "merge_provenance",
]

Labels = Mapping[type[BaseException], str]

#: Why a dialogue failed, by the exact error type (anything else: ``request_failed (<type>)``).
DIALOGUE_REASONS: Labels = {ResponseParseError: "empty_turn", ConfigError: "empty_instruction"}
#: Why a document was left out by Nemotron-CC rephrasing: the post-processor's rejection, or an empty text.
REPHRASE_REASONS: Labels = {ResponseParseError: "post_process_rejected", ConfigError: "empty_document"}

#: The columns of a ``preference`` row: the pipeline's record columns, then the pair's.
PREFERENCE_COLUMNS = (
    "id", "instruction", "input", "response", "source", "provenance",
    "prompt", "chosen", "rejected", "chosen_score", "rejected_score", "margin",
)  # fmt: skip
_SCORE_COLUMNS = ("chosen_score", "rejected_score", "margin")
#: Why an instruction whose answers were all scored gave no pair (not a failure: its requests worked).
NO_PAIR_COLUMN = "no_pair"


def _error(error: BaseException, labels: Labels, detail: str | None = None, failed: str = "request_failed") -> str:
    """``"<reason>: <detail>"`` for the error column. The reason is looked up by the error's exact type in
    ``labels``, else it is ``"<failed> (<ErrorType>)"``; the detail defaults to ``"<ErrorType>: <message>"``."""
    kind = type(error).__name__
    reason = labels.get(type(error), f"{failed} ({kind})")
    return f"{reason}: {detail if detail is not None else f'{kind}: {error}'}"


def _prompts(frame: pd.DataFrame) -> list[str]:
    """Each row's instruction, then its input (if any) after a blank line, both stripped."""
    columns = [column for column in ("instruction", "input") if column in frame.columns]
    rows = frame[columns].fillna("").astype(str).to_dict("records")
    return [prompt_text(row["instruction"], row.get("input")) for row in rows]


def _failures(failures: Sequence[Failure], labels: Labels) -> dict[int, str]:
    return {failure.index: _error(failure.error, labels, failure.reason) for failure in failures}


# ----------------------------------------------------------------------------------------------- dialogue
@dataclass(frozen=True)
class DialogueTask:
    """Turn each row's instruction (+ input) into a conversation of ``n_user_turns`` user turns, each answered
    (:class:`~curator_synth.generators.dialogue.AsyncDialogueGenerator`): ``messages`` (a list of
    ``{"role", "content"}``), ``response`` the first assistant turn. ``user_template`` is a format string with
    ``{conversation}`` for the simulated user (None: the built-in one)."""

    model: str
    params: dict[str, Any] = field(default_factory=dict)
    n_user_turns: int = 3
    system_prompt: str | None = None
    user_template: str | None = None
    name: str = "dialogue"

    async def __call__(self, frame: pd.DataFrame, client: AsyncLLMClient) -> pd.DataFrame:
        from curator_synth.generators.dialogue import AsyncDialogueGenerator
        from curator_synth.prompts.responses import USER_TURN

        frame = frame.reset_index(drop=True)
        generator = AsyncDialogueGenerator(client, self.model, params=self.params)
        result = await generator.generate_dialogues(
            _prompts(frame),
            self.n_user_turns,
            system_prompt=self.system_prompt,
            user_template=self.user_template if self.user_template is not None else USER_TURN,
        )
        failed = _failures(result.failures, DIALOGUE_REASONS)
        messages: list[list[dict[str, str]] | None] = [None] * len(frame)
        frame = frame.copy()
        made = (position for position in range(len(frame)) if position not in failed)
        for position, record in zip(made, result.items, strict=True):
            messages[position] = [dict(message) for message in record.messages]
            first = next(message for message in record.messages if message["role"] == "assistant")
            frame.at[position, "response"] = first["content"]
            frame.at[position, "provenance"] = merge_provenance(frame.at[position, "provenance"], "dialogue",
                                                                record.provenance)  # fmt: skip
        frame["messages"] = pd.Series(messages, index=frame.index, dtype=object)
        return with_errors(frame, failed)


# ----------------------------------------------------------------------------------------------- rephrase
@dataclass(frozen=True)
class RephraseTask:
    """Rewrite each row's ``text_field`` with a Nemotron-CC ``method`` (a key of
    :data:`~curator_synth.generators.nemotron_cc.NEMOTRON_CC_METHODS`), post-processed, into ``output_field``
    and ``response``; the row gets the rewrite's id, its provenance the method and the source id."""

    model: str
    method: str = "wikipedia"
    text_field: str = "text"
    output_field: str = "rephrased"
    params: dict[str, Any] = field(default_factory=dict)
    system_prompt: str | None = None
    prompt_template: str | None = None
    max_chunk_tokens: int | None = 512
    post_process: bool = True
    seed: int = 0
    qa_tokens_per_pair: int = 150
    qa_max_pairs: int | None = None
    min_fact_words: int = 3
    name: str = "rephrase"

    async def __call__(self, frame: pd.DataFrame, client: AsyncLLMClient) -> pd.DataFrame:
        from curator_synth.generators.nemotron_cc import AsyncNemotronCCGenerator

        frame = frame.reset_index(drop=True)
        texts = frame[self.text_field].fillna("").astype(str)
        documents = [{"id": str(rid), "text": text} for rid, text in zip(frame["id"], texts, strict=True)]
        result = await AsyncNemotronCCGenerator(client, self.model, params=self.params).process_documents(
            documents,
            self.method,
            prompt_template=self.prompt_template,
            system_prompt=self.system_prompt,
            max_chunk_tokens=self.max_chunk_tokens,
            post_process=self.post_process,
            seed=self.seed,
            qa_tokens_per_pair=self.qa_tokens_per_pair,
            qa_max_pairs=self.qa_max_pairs,
            min_fact_words=self.min_fact_words,
        )
        failed = _failures(result.failures, REPHRASE_REASONS)
        frame = frame.copy()
        frame[self.output_field] = pd.Series([""] * len(frame), index=frame.index, dtype=object)
        made = (position for position in range(len(frame)) if position not in failed)
        for position, item in zip(made, result.items, strict=True):
            provenance = {**item["provenance"], "method": item["method"], "source_id": item["source_id"],
                          "source_field": self.text_field, "chunks": item["chunks"]}  # fmt: skip
            frame.at[position, "id"] = item["id"]
            frame.at[position, self.output_field] = item["text"]
            frame.at[position, "response"] = item["text"]
            frame.at[position, "provenance"] = merge_provenance(frame.at[position, "provenance"], "rephrase",
                                                                provenance)  # fmt: skip
        return with_errors(frame, failed)


# --------------------------------------------------------------------------------------------- preference
@dataclass(frozen=True)
class PreferenceTask:
    """``n_responses`` responses per row (one request with ``n``, or one per seed with ``sampling="seeds"``),
    each scored by :class:`~curator_synth.reward.AsyncRewardModel` (``mode``, request ``judge_params``), paired by
    :func:`~curator_synth.reward.build_preference_pairs`: one row per pair (:data:`PREFERENCE_COLUMNS`).

    A row whose generation or any of whose scores failed comes back once with its reason in ``llm_error``; one
    that gives no pair (equal scores, a margin under ``min_margin``, identical responses) with its scores in
    ``no_pair`` (the stage counts both and drops them)."""

    model: str
    params: dict[str, Any] = field(default_factory=dict)
    n_responses: int = 2
    sampling: Sampling = "n"
    seed: int = 0
    system_prompt: str | None = None
    mode: str = "llm_judge"
    judge_model: str | None = None
    judge_params: dict[str, Any] = field(default_factory=dict)
    weights: dict[str, float] | None = None
    strategy: str = "best_vs_worst"
    min_margin: float = 0.0
    name: str = "preference"

    async def __call__(self, frame: pd.DataFrame, client: AsyncLLMClient) -> pd.DataFrame:
        from curator_synth.generators.responses import AsyncResponseGenerator

        frame = frame.reset_index(drop=True)
        prompts = _prompts(frame)
        generated = await AsyncResponseGenerator(client, self.model, params=self.params).generate_responses(
            prompts, self.n_responses, self.system_prompt, sampling=self.sampling, seed=self.seed
        )
        errors = {f.index: _error(f.error, {}, f.reason, "generation_failed") for f in generated.failures}
        answered = [position for position in range(len(frame)) if position not in errors]
        records = dict(zip(answered, generated.items, strict=True))
        candidates = [(prompts[p], text) for p in answered for text in records[p].responses]
        scores = iter(await self._scores(client, candidates))
        rows: list[dict[str, Any]] = []
        for position, parent in enumerate(frame.to_dict("records")):
            if position in errors:
                rows.append(_unpaired(parent, ERROR_COLUMN, errors[position]))
                continue
            mine = [next(scores) for _ in records[position].responses]
            rows.extend(self._pairs(parent, prompts[position], records[position], mine))
        out = pd.DataFrame(rows, columns=[*PREFERENCE_COLUMNS, ERROR_COLUMN, NO_PAIR_COLUMN])
        return out.astype(dict.fromkeys(_SCORE_COLUMNS, "float64"))

    async def _scores(self, client: AsyncLLMClient, pairs: list[tuple[str, str]]) -> list[Score]:
        """The reward scores of every (prompt, response), in order; a failed one is its error instead."""
        from curator_synth.reward.model import AsyncRewardModel

        model = self.judge_model or self.model
        judge = AsyncRewardModel(client, model, mode=self.mode, weights=self.weights, params=self.judge_params)
        result = await judge.evaluate_many(pairs)
        failed = {failure.index: failure.error for failure in result.failures}
        scores = iter(result.items)
        return [failed[index] if index in failed else next(scores) for index in range(len(pairs))]

    def _pairs(
        self, parent: dict[str, Any], prompt: str, record: ResponseRecord, results: list[Score]
    ) -> list[dict[str, Any]]:
        """The rows of one instruction's pairs, or one failed row saying why there are none."""
        from curator_synth.reward.preference import build_preference_pairs

        scores = [score for score in results if not isinstance(score, CuratorSynthError)]
        failure = next((score for score in results if isinstance(score, CuratorSynthError)), None)
        if failure is not None:
            return [_unpaired(parent, ERROR_COLUMN, _error(failure, {}, failed="scoring_failed"))]
        candidates = [
            {"instruction": prompt, "response": text, "score": score.overall, "id": f"{parent['id']}-{sample}",
             "provenance": {"sample": sample, "response": record.provenance, "scores": score.as_dict()}}
            for sample, (text, score) in enumerate(zip(record.responses, scores, strict=True))
        ]  # fmt: skip
        pairs = build_preference_pairs(candidates, min_margin=self.min_margin, strategy=self.strategy)
        if not pairs:
            overall = [round(score.overall, 4) for score in scores]
            return [_unpaired(parent, NO_PAIR_COLUMN, f"scores {overall}, min_margin {self.min_margin}")]
        return [
            {"id": record_id("preference", parent["id"], pair.chosen, pair.rejected), "instruction": prompt,
             "input": "", "response": pair.chosen, "source": "preference",
             "provenance": json.dumps({"parent_id": parent["id"], "parent": parsed_provenance(parent.get("provenance")),
                                       "chosen": pair.chosen_provenance, "rejected": pair.rejected_provenance,
                                       "decided_by": pair.decided_by}, default=str),
             "prompt": pair.prompt, "chosen": pair.chosen, "rejected": pair.rejected,
             "chosen_score": pair.chosen_score, "rejected_score": pair.rejected_score, "margin": pair.margin,
             ERROR_COLUMN: None, NO_PAIR_COLUMN: None}
            for pair in pairs
        ]  # fmt: skip


def _unpaired(parent: Mapping[str, Any], column: str, reason: str) -> dict[str, Any]:
    """The row standing for an instruction without pairs: ``reason`` in ``column`` (the other one None)."""
    blank = dict.fromkeys(PREFERENCE_COLUMNS, "") | dict.fromkeys(_SCORE_COLUMNS, float("nan"))
    reasons = {ERROR_COLUMN: None, NO_PAIR_COLUMN: None, column: reason}
    return {**blank, "id": f"{parent['id']}-unpaired", "source": "preference", "provenance": "{}", **reasons}
