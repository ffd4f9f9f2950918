"""``RewardModel``: one API to score responses, whatever does the scoring (a reward model, an LLM judge or the
offline heuristic); the mode is one argument (``mode="llm_judge"``) or one YAML line (``mode: llm_judge``).

``evaluate`` scores one pair; ``evaluate_many`` scores many concurrently through the client's engine (limits,
retries, journal), reporting failed pairs in ``Outcome.failures`` instead of aborting; ``score_dataset``
adds score columns to a :class:`~curator_synth.DocumentDataset` or pandas frame, with an error column that
makes failed rows visible (their scores are NaN, never a made-up zero). See ``docs/reward.md``.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterable, Iterable, Mapping, Sequence
from os import PathLike
from typing import TYPE_CHECKING, Any, overload

from typing_extensions import Self

from curator_synth.clients.base import AsyncLLMClient, LLMClient
from curator_synth.errors import ConfigError
from curator_synth.generators.base import GENERATORS, BaseGenerator
from curator_synth.generators.blocking import BlockingGenerator, blocking
from curator_synth.outcome import Outcome
from curator_synth.prompts.judge import EvaluationCriteria
from curator_synth.reward.modes import REWARD_MODES, RewardOptions
from curator_synth.reward.scores import ATTRIBUTES, RewardScores
from curator_synth.structured import StructuredMode

if TYPE_CHECKING:
    import pandas as pd

    from curator_synth.dataset import DocumentDataset

__all__ = ["CONFIG_KEYS", "AsyncRewardModel", "RewardModel", "reward_model_arguments", "score_columns", "score_fields"]

#: The keys :meth:`AsyncRewardModel.from_config` accepts (the constructor's arguments except the client).
CONFIG_KEYS = (
    "mode",
    "model",
    "weights",
    "rationale",
    "criteria",
    "structured_mode",
    "max_repairs",
    "params",
    "max_pending",
)

Pair = tuple[str, str]


class _OfflineClient(AsyncLLMClient):
    """The client of a reward model whose mode sends no request: a request would be a bug, so it says so."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    async def query_model(self, **kwargs: Any) -> list[str]:
        raise ConfigError(f"reward mode {self.mode!r} has no client: it cannot send chat requests")

    async def query_reward_model(self, **kwargs: Any) -> dict[str, float]:
        raise ConfigError(f"reward mode {self.mode!r} has no client: it cannot send reward requests")


def reward_model_arguments(config: Mapping[str, Any]) -> dict[str, Any]:
    """The constructor arguments in a config mapping (e.g. a recipe's ``reward:`` section), checked by name."""
    if not isinstance(config, Mapping):
        raise ConfigError(f"a reward model config must be a mapping, got {type(config).__name__}")
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(f"unknown reward model setting(s) {unknown}; known: {list(CONFIG_KEYS)}")
    return dict(config)


def _text(what: str, value: object) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"the {what} must be a string, got {value!r:.80}")
    return value


def _pair(item: object) -> Pair:
    if isinstance(item, (str, bytes)) or not isinstance(item, Sequence) or len(item) != 2:
        raise ConfigError(f"expected an (instruction, response) pair, got {item!r:.80}")
    return _text("instruction", item[0]), _text("response", item[1])


class AsyncRewardModel(BaseGenerator):
    """Scores responses to instructions on the five HelpSteer2 attributes plus an overall score.

    ``mode`` names an entry of :data:`~curator_synth.reward.REWARD_MODES`: ``"nemotron"`` (a reward model
    endpoint; ``model`` e.g. ``"nvidia/nemotron-4-340b-reward"``), ``"llm_judge"`` (any chat model with the
    rubric ``criteria``: the shipped ``evaluation_criteria.yaml`` or a YAML path of your own) or
    ``"heuristic"`` (offline; ``client`` and ``model`` may be None). ``weights`` replace the mode's weights of
    ``overall``. ``rationale=True`` adds an explanation (judge and heuristic modes). The judge's answers are
    validated JSON (``structured_mode="prompt"`` works with any chat endpoint; ``"json_schema"`` uses
    constrained decoding), repaired up to ``max_repairs`` times; ``params`` are the judge's request
    parameters (temperature, max_tokens, ...). Options a mode does not use are ignored.

    ``client`` may also be a Hugging Face model with its tokenizer, as the second argument or ``tokenizer=``
    (``RewardModel(hf_model, tokenizer, mode="llm_judge")``; the judge then runs in this process, see
    :func:`~curator_synth.clients.accept.resolve_client`); ``model`` defaults to the client's own name.
    """

    family = "reward"

    def __init__(
        self,
        client: AsyncLLMClient | LLMClient | Any = None,
        model: str | Any = None,
        *,
        mode: str = "nemotron",
        weights: Mapping[str, float] | None = None,
        rationale: bool = False,
        criteria: str | PathLike[str] | EvaluationCriteria | None = None,
        structured_mode: StructuredMode = "prompt",
        max_repairs: int = 2,
        params: Mapping[str, Any] | None = None,
        max_pending: int = 256,
        tokenizer: Any = None,
    ) -> None:
        if not isinstance(mode, str) or mode not in REWARD_MODES:
            raise ConfigError(f"unknown reward mode {mode!r}; known modes: {', '.join(REWARD_MODES.names())}")
        scorer_class = REWARD_MODES.get(mode)
        if model is not None and not isinstance(model, str):  # RewardModel(hf_model, tokenizer, mode=...)
            if tokenizer is not None:
                raise ConfigError("pass the tokenizer once: as the second argument or as tokenizer=")
            model, tokenizer = None, model
        if client is not None:
            from curator_synth.clients.accept import resolve_client

            client, own_name = resolve_client(client, tokenizer, model_name=model)
            model = model or (own_name if scorer_class.needs_client else None)
        elif tokenizer is not None:
            raise ConfigError("a tokenizer was given without a model")
        if client is None:
            if scorer_class.needs_client:
                raise ConfigError(
                    f"reward mode {mode!r} sends requests: pass a client (e.g. NemotronClient() or OpenAIClient()); "
                    "only mode='heuristic' runs without one"
                )
            client = _OfflineClient(mode)
        super().__init__(client, model, params=params, max_pending=max_pending)
        options = RewardOptions(
            weights=weights,
            rationale=rationale,
            criteria=criteria,
            structured_mode=structured_mode,
            max_repairs=max_repairs,
            params=self.params,
        )
        #: The mode's registered name (lower case).
        self.mode = mode.lower()
        self.rationale = rationale
        self.scorer = scorer_class(self.client, options)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], client: AsyncLLMClient | LLMClient | None = None) -> Self:
        """A reward model from a config mapping (keys: :data:`CONFIG_KEYS`), e.g. a parsed YAML section such as
        ``{"mode": "llm_judge", "model": "meta/llama-3.1-70b-instruct"}``; the client is passed apart."""
        return cls(client, **reward_model_arguments(config))

    def _chosen_model(self, model: str | None) -> str | None:
        return self.model_for(model) if self.scorer.needs_model else (model or self.model)

    async def evaluate(self, instruction: str, response: str, *, model: str | None = None) -> RewardScores:
        """The scores of ``response`` as the answer to ``instruction`` (errors are raised, typed)."""
        chosen = self._chosen_model(model)
        return await self.scorer.score(_text("instruction", instruction), _text("response", response), model=chosen)

    async def evaluate_many(
        self, pairs: Iterable[Pair] | AsyncIterable[Pair], *, model: str | None = None
    ) -> Outcome[RewardScores]:
        """:meth:`evaluate` for every ``(instruction, response)`` pair, concurrently (at most ``max_pending`` in
        flight; the client's limits apply). Scores in input order; failed pairs in ``.failures`` with the pair,
        its index and the typed error."""
        self._chosen_model(model)  # a missing model is the caller's error, raised once rather than per pair

        async def one(item: Pair) -> RewardScores:
            instruction, response = _pair(item)
            return await self.evaluate(instruction, response, model=model)

        return await self.fan_out(one, pairs)

    @overload
    async def score_dataset(
        self,
        dataset: DocumentDataset,
        instruction_field: str = ...,
        response_field: str = ...,
        prefix: str = ...,
        *,
        model: str | None = ...,
    ) -> DocumentDataset: ...
    @overload
    async def score_dataset(
        self,
        dataset: pd.DataFrame,
        instruction_field: str = ...,
        response_field: str = ...,
        prefix: str = ...,
        *,
        model: str | None = ...,
    ) -> pd.DataFrame: ...
    async def score_dataset(
        self,
        dataset: DocumentDataset | pd.DataFrame,
        instruction_field: str = "instruction",
        response_field: str = "response",
        prefix: str = "reward_",
        *,
        model: str | None = None,
    ) -> DocumentDataset | pd.DataFrame:
        """``dataset`` with score columns added: ``<prefix>helpfulness`` ... ``<prefix>verbosity``,
        ``<prefix>overall`` (float; NaN where scoring failed), ``<prefix>rationale`` when ``rationale=True``, and
        ``<prefix>error`` (``"ErrorType: message"`` where the row failed, else null). Existing columns of those
        names are replaced. A row whose instruction or response is missing or not text fails without a request.

        A :class:`~curator_synth.DocumentDataset` gives a DocumentDataset with the same partitions; a pandas
        DataFrame gives a DataFrame. Scoring is eager: the rows are computed, scored concurrently as one stream
        (the journal makes a re-run free), and the result holds them in memory.
        """
        import pandas as pd

        from curator_synth.dataset import DocumentDataset

        if isinstance(dataset, pd.DataFrame):
            _check_columns(list(dataset.columns), instruction_field, response_field)
            (scored,) = await self._score_frames([dataset], instruction_field, response_field, prefix, model)
            return scored
        if not isinstance(dataset, DocumentDataset):
            raise ConfigError(
                f"score_dataset takes a DocumentDataset or pandas DataFrame, got {type(dataset).__name__}"
            )
        _check_columns(dataset.columns, instruction_field, response_field)
        parts = await asyncio.to_thread(_compute_partitions, dataset)
        scored_parts = await self._score_frames(parts, instruction_field, response_field, prefix, model)
        return _dataset_from_parts(scored_parts)

    async def _score_frames(
        self, frames: list[pd.DataFrame], instruction_field: str, response_field: str, prefix: str, model: str | None
    ) -> list[pd.DataFrame]:
        """The frames with score columns: all their rows scored in one concurrent stream."""
        import pandas as pd

        pairs = [
            pair
            for frame in frames
            for pair in zip(frame[instruction_field].tolist(), frame[response_field].tolist(), strict=True)
        ]
        result = await self.evaluate_many(pairs, model=model)
        errors: dict[int, str] = {failure.index: failure.reason for failure in result.failures}
        scores = iter(result.items)
        rows = [
            score_fields(None if index in errors else next(scores), errors.get(index), prefix, self.rationale)
            for index in range(len(pairs))
        ]
        types = score_columns(prefix, self.rationale)
        out: list[pd.DataFrame] = []
        start = 0
        for frame in frames:
            end = start + len(frame)
            added = {
                name: pd.Series([row[name] for row in rows[start:end]], index=frame.index,
                                dtype="float64" if kind is float else object)
                for name, kind in types.items()
            }  # fmt: skip
            out.append(frame.assign(**added))
            start = end
        return out


def score_columns(prefix: str, rationale: bool) -> dict[str, type]:
    """The columns scoring adds, in order, with their kind: ``<prefix><attribute>`` and ``<prefix>overall``
    (float), ``<prefix>rationale`` (text, with ``rationale``) and ``<prefix>error`` (text)."""
    columns: dict[str, type] = {f"{prefix}{name}": float for name in (*ATTRIBUTES, "overall")}
    if rationale:
        columns[f"{prefix}rationale"] = str
    columns[f"{prefix}error"] = str
    return columns


def score_fields(score: RewardScores | None, error: str | None, prefix: str, rationale: bool) -> dict[str, Any]:
    """One row's score columns (:func:`score_columns`): the scores, or NaN and ``error`` when it was not scored."""
    names = (*ATTRIBUTES, "overall")
    fields: dict[str, Any] = {f"{prefix}{name}": math.nan if score is None else float(getattr(score, name))
                              for name in names}  # fmt: skip
    if rationale:
        fields[f"{prefix}rationale"] = None if score is None else score.rationale
    fields[f"{prefix}error"] = error
    return fields


def _check_columns(columns: list[str], instruction_field: str, response_field: str) -> None:
    for field in (instruction_field, response_field):
        if field not in columns:
            raise ConfigError(f"no column {field!r} to score; columns are {columns}")


def _compute_partitions(dataset: DocumentDataset) -> list[pd.DataFrame]:
    import dask

    return list(dask.compute(*dataset.df.to_delayed()))


def _dataset_from_parts(parts: list[pd.DataFrame]) -> DocumentDataset:
    import dask
    import dask.dataframe as dd

    from curator_synth.dataset import DocumentDataset

    with dask.config.set({"dataframe.convert-string": False}):
        df = dd.from_delayed([dask.delayed(part) for part in parts], meta=parts[0].iloc[:0], verify_meta=False)
    return DocumentDataset(df)


GENERATORS.add("reward_model", AsyncRewardModel)  # judges are generators too: recipes and plugins name them


class RewardModel(BlockingGenerator[AsyncRewardModel]):
    """Blocking version of :class:`AsyncRewardModel` (same arguments and methods, no ``await``)."""

    async_class = AsyncRewardModel

    evaluate = blocking(AsyncRewardModel.evaluate)
    evaluate_many = blocking(AsyncRewardModel.evaluate_many)
    score_dataset = blocking(AsyncRewardModel.score_dataset)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], client: AsyncLLMClient | LLMClient | None = None) -> RewardModel:
        """Blocking :meth:`AsyncRewardModel.from_config`."""
        return cls.wrapping(AsyncRewardModel.from_config(config, client))
