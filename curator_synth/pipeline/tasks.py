"""Per-partition LLM tasks of the pipeline: picklable, so Dask ships them to workers; each is called with a
partition (pandas) and the worker's client and returns the new partition.

A row whose requests failed is returned with its error in ``llm_error`` (the stage counts and drops it, or,
for scores, keeps it with NaN scores): nothing disappears silently.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from curator_synth.clients.base import AsyncLLMClient
from curator_synth.records import prompt_text

__all__ = [
    "ERROR_COLUMN",
    "REASONING_COLUMN",
    "EvolTask",
    "ResponseTask",
    "ScoreTask",
    "merge_provenance",
    "parsed_provenance",
    "with_errors",
]

ERROR_COLUMN = "llm_error"
#: Where the ``responses`` stage keeps a reasoning model's reasoning (docs/endpoints.md#reasoning-models).
REASONING_COLUMN = "reasoning"


def with_errors(frame: pd.DataFrame, errors: dict[int, str]) -> pd.DataFrame:
    frame = frame.copy()
    frame[ERROR_COLUMN] = [errors.get(position) for position in range(len(frame))]
    return frame


def _row_prompt(row: dict[str, Any]) -> str:
    return prompt_text(str(row["instruction"]), str(row.get("input") or ""))


def parsed_provenance(provenance: Any) -> dict[str, Any]:
    """A record's provenance (JSON text) as a dict; anything else is kept under ``"previous"``."""
    try:
        found = json.loads(provenance) if isinstance(provenance, str) and provenance.strip() else {}
    except json.JSONDecodeError:
        found = provenance
    return found if isinstance(found, dict) else {"previous": found}


def merge_provenance(existing: Any, key: str, value: Mapping[str, Any]) -> str:
    """A record's provenance (JSON text) with ``value`` added under ``key``; earlier keys are kept."""
    return json.dumps({**parsed_provenance(existing), key: dict(value)}, default=str)


@dataclass(frozen=True)
class ResponseTask:
    """Answer each row's instruction (+ input) into ``response`` (only empty ones unless ``overwrite``)."""

    model: str
    params: dict[str, Any] = field(default_factory=dict)
    system_prompt: str | None = None
    overwrite: bool = False
    name: str = "responses"

    async def __call__(self, frame: pd.DataFrame, client: AsyncLLMClient) -> pd.DataFrame:
        from curator_synth.generators.responses import AsyncResponseGenerator

        frame = frame.reset_index(drop=True)
        todo = [i for i, text in enumerate(frame["response"].fillna("")) if self.overwrite or not str(text).strip()]
        generator = AsyncResponseGenerator(client, self.model, params=self.params)
        prompts = [_row_prompt(frame.iloc[i].to_dict()) for i in todo]
        result = await generator.generate_responses(prompts, system_prompt=self.system_prompt)
        failed = {todo[failure.index]: failure.reason for failure in result.failures}
        answered = [i for i in todo if i not in failed]
        frame = frame.copy()
        # A reasoning model's reasoning, split off the answer: every partition has the column (text, null for
        # none), so the stage's parts share one schema.
        reasoning = frame[REASONING_COLUMN].astype("string") if REASONING_COLUMN in frame else None
        if reasoning is None:
            reasoning = pd.Series([None] * len(frame), index=frame.index, dtype="string")
        for position, record in zip(answered, result.items, strict=True):
            frame.at[position, "response"] = record.responses[0]
            reasoning.iat[position] = record.reasoning[0] if record.reasoning else None
            frame.at[position, "provenance"] = merge_provenance(frame.at[position, "provenance"], "response",
                                                                record.provenance)  # fmt: skip
        frame[REASONING_COLUMN] = reasoning
        return with_errors(frame, failed)


@dataclass(frozen=True)
class EvolTask:
    """Evolve each row's instruction; kept evolutions become new rows (ids from their content)."""

    model: str
    params: dict[str, Any] = field(default_factory=dict)
    rounds: int = 1
    keep_original: bool = True
    seed: int = 0
    name: str = "evol_instruct"

    async def __call__(self, frame: pd.DataFrame, client: AsyncLLMClient) -> pd.DataFrame:
        from curator_synth.generators.evol import AsyncEvolInstruct

        frame = frame.reset_index(drop=True)
        generator = AsyncEvolInstruct(client, self.model, params=self.params)
        seeds = [{"id": row["id"], "instruction": row["instruction"]} for row in frame.to_dict("records")]
        result = await generator.evolve(seeds, rounds=self.rounds, seed=self.seed, respond=False)
        rows = [frame.assign(**{ERROR_COLUMN: None})] if self.keep_original else []
        blank = {"input": "", "response": "", "source": "evol_instruct"}
        evolved = [
            {**blank, "id": record.id, "instruction": record.instruction, ERROR_COLUMN: None,
             "provenance": json.dumps({**record.provenance, "parent_id": record.parent_id}, default=str)}
            for record in result.evolved
        ]  # fmt: skip
        failures = [
            {**blank, "id": f"{e.parent_id}-r{e.round}-failed", "instruction": "", "provenance": "{}",
             ERROR_COLUMN: f"{e.reason}: {e.detail}"}
            for e in result.eliminations if e.reason == "request_failed"
        ]  # fmt: skip
        extra = pd.DataFrame(evolved + failures)
        if len(extra):
            rows.append(extra.reindex(columns=[*frame.columns.tolist(), ERROR_COLUMN]))
        return pd.concat(rows, ignore_index=True) if rows else frame.iloc[:0].assign(**{ERROR_COLUMN: None})


@dataclass(frozen=True)
class ScoreTask:
    """Reward/judge scores of each (instruction + input, response) into ``<prefix>*`` columns."""

    model: str | None
    mode: str = "heuristic"
    weights: dict[str, float] | None = None
    rationale: bool = False
    prefix: str = "reward_"
    params: dict[str, Any] = field(default_factory=dict)  # the judge's request parameters (max_tokens, ...)
    name: str = "score"

    def _reward_model(self, client: AsyncLLMClient | None) -> Any:
        from curator_synth.reward.model import AsyncRewardModel

        params = self.params if self.mode == "llm_judge" else {}  # a reward model takes no sampling parameters
        return AsyncRewardModel(
            client, self.model, mode=self.mode, weights=self.weights, rationale=self.rationale, params=params
        )

    async def __call__(self, frame: pd.DataFrame, client: AsyncLLMClient) -> pd.DataFrame:
        return await self._score(frame, client)

    def score_offline(self, frame: pd.DataFrame) -> pd.DataFrame:
        from curator_synth.clients.sync import run_sync

        return run_sync(self._score(frame, None))

    async def _score(self, frame: pd.DataFrame, client: AsyncLLMClient | None) -> pd.DataFrame:
        frame = frame.reset_index(drop=True)
        scoring = frame.assign(_prompt=[_row_prompt(row) for row in frame[["instruction", "input"]].to_dict("records")])
        scored = await self._reward_model(client).score_dataset(
            scoring, instruction_field="_prompt", response_field="response", prefix=self.prefix
        )
        return scored.drop(columns=["_prompt"])
