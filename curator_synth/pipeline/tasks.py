"""Per-partition LLM tasks of the pipeline: picklable, so Dask ships them to workers; each is called with a
partition (pandas) and the worker's client and returns the new partition.

A row whose requests failed is returned with its error in ``llm_error`` (the stage counts and drops it, or,
for scores, keeps it with NaN scores): nothing disappears silently.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import pandas as pd

from curator_synth.clients.base import AsyncLLMClient
from curator_synth.records import prompt_text

__all__ = [
    "ERROR_COLUMN",
    "REASONING_COLUMN",
    "EvolTask",
    "RecordTask",
    "ResponseTask",
    "ScoreTask",
    "frame_by_records",
    "merge_provenance",
    "parsed_provenance",
    "records_frame",
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


class RecordTask(Protocol):
    """A partition task that works record by record: ``record(row, client)`` gives the rows one input row becomes
    (each with its error, if any, in the task's error column); ``dtypes`` the types of the columns it adds, so
    every part of the stage has one schema. A streamed chain (:mod:`curator_synth.pipeline.stream`) sends each
    record on as soon as it is done; a partition is all its records at once (:func:`frame_by_records`)."""

    @property
    def name(self) -> str: ...

    @property
    def dtypes(self) -> Mapping[str, str]: ...

    async def record(self, row: dict[str, Any], client: Any) -> list[dict[str, Any]]: ...


async def frame_by_records(task: RecordTask, frame: pd.DataFrame, client: Any) -> pd.DataFrame:
    """``task`` over every row of ``frame`` concurrently (the client bounds what is in flight): the rows out,
    in input order, as a frame with the input's columns (and types) first, then the task's."""
    import asyncio

    rows = frame.reset_index(drop=True).to_dict("records")
    outputs = await asyncio.gather(*(task.record(row, client) for row in rows))
    return records_frame([row for output in outputs for row in output], dict(frame.dtypes), task.dtypes)


def records_frame(rows: list[dict[str, Any]], dtypes: Mapping[str, Any], added: Mapping[str, Any]) -> pd.DataFrame:
    """``rows`` as a frame: the columns of ``dtypes`` (the input's, with their types), then those of ``added``,
    then any other; a column that could not take its type keeps pandas' own (e.g. a list column)."""
    names = list(dict.fromkeys([*dtypes, *added, *(name for row in rows for name in row)]))
    frame = pd.DataFrame(rows, columns=names)
    for name, dtype in {**dict(dtypes), **dict(added)}.items():
        if name in frame.columns and str(frame[name].dtype) != str(dtype):
            with contextlib.suppress(TypeError, ValueError):
                frame[name] = frame[name].astype(dtype)
    return frame


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
    #: A reasoning model's reasoning, split off the answer: text, null for none (every part has the column, so
    #: the stage's parts share one schema).
    dtypes: ClassVar[Mapping[str, str]] = {REASONING_COLUMN: "string", ERROR_COLUMN: "object"}

    async def __call__(self, frame: pd.DataFrame, client: AsyncLLMClient) -> pd.DataFrame:
        return await frame_by_records(self, frame, client)

    async def record(self, row: dict[str, Any], client: AsyncLLMClient) -> list[dict[str, Any]]:
        """The row answered (or with its error in ``llm_error``); unchanged if it has a response to keep."""
        from curator_synth.generators.responses import AsyncResponseGenerator

        out = {**row, REASONING_COLUMN: row.get(REASONING_COLUMN), ERROR_COLUMN: None}
        if not self.overwrite and str(row.get("response") or "").strip():
            return [out]
        generator = AsyncResponseGenerator(client, self.model, params=self.params)
        result = await generator.generate_responses([_row_prompt(row)], system_prompt=self.system_prompt)
        if result.failures:
            return [{**out, ERROR_COLUMN: result.failures[0].reason}]
        answer = result.items[0]
        out["response"] = answer.responses[0]
        out[REASONING_COLUMN] = answer.reasoning[0] if answer.reasoning else None
        out["provenance"] = merge_provenance(row.get("provenance"), "response", answer.provenance)
        return [out]


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

    @property
    def dtypes(self) -> dict[str, str]:
        """The score columns' types (float scores; text rationale and error)."""
        from curator_synth.reward.model import score_columns

        return {name: "float64" if kind is float else "object" for name, kind in score_columns(self.prefix,
                self.rationale).items()}  # fmt: skip

    async def __call__(self, frame: pd.DataFrame, client: AsyncLLMClient) -> pd.DataFrame:
        return await frame_by_records(self, frame, client)

    def score_offline(self, frame: pd.DataFrame) -> pd.DataFrame:
        from curator_synth.clients.sync import run_sync

        return run_sync(frame_by_records(self, frame, None))

    async def record(self, row: dict[str, Any], client: AsyncLLMClient | None) -> list[dict[str, Any]]:
        """The row with its ``<prefix>*`` scores (NaN and ``<prefix>error`` where it could not be scored)."""
        from curator_synth.reward.model import score_fields

        result = await self._reward_model(client).evaluate_many([(_row_prompt(row), row.get("response"))])
        score = result.items[0] if result.items else None
        error = result.failures[0].reason if result.failures else None
        return [{**row, **score_fields(score, error, self.prefix, self.rationale)}]
