"""Filters for synthetic retrieval data: a question checked against the passage it was written from.

Both are :class:`~curator_synth.filters.base.PairFilter` s, applied with
``ScoreFilter(f, text_field=("text", "question"))`` (passage first, question second), as NeMo Curator's filters of
the same names are.

- :class:`AnswerabilityFilter`: an LLM judges the pair against ``num_criteria`` criteria and answers a JSON object
  ``{"criterion_1": "Y", ...}``; a question is kept when every criterion is ``"Y"``. The score is the judge's raw
  answer, so it can be stored (``score_field=``) and audited. An answer that is not such an object is a rejection
  with reason ``unparseable`` (NeMo keeps those documents without a word); a failed criterion gives
  ``criterion_<i>``. The requests go through the client's engine (retries, journal, rate limits), all of a batch
  concurrently; a request that still fails raises its typed error, so nothing is kept or dropped on a failure.
- :class:`EasinessFilter`: a question whose embedding is too close to its passage's is easy for a retriever to
  find, so it teaches little. The score is the cosine similarity (an :class:`~curator_synth.embeddings.Embedder`,
  the packaged offline all-MiniLM-L6-v2 by default); a question is kept when the similarity is at most
  ``max_similarity``. NeMo's threshold is a percentile of each partition, so what is kept depends on how the data
  is partitioned; a fixed threshold does not (compute a quantile over the whole dataset first to get one).
"""

from __future__ import annotations

import string
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from curator_synth.clients.accept import as_async_client
from curator_synth.clients.base import AsyncLLMClient, LLMClient
from curator_synth.clients.bulk import QueryRequest
from curator_synth.clients.sync import run_sync
from curator_synth.errors import ConfigError, ResponseParseError
from curator_synth.filters.base import PairFilter, _text, register_filter
from curator_synth.parsing.json_values import extract_json

__all__ = [
    "ANSWERABILITY_SYSTEM_PROMPT",
    "ANSWERABILITY_USER_TEMPLATE",
    "AnswerabilityFilter",
    "EasinessFilter",
    "judged_criteria",
]

ANSWERABILITY_SYSTEM_PROMPT = (
    "You check questions written for a reading-comprehension dataset against the passage they were written from."
    ' Judge each criterion and answer only with a JSON object whose keys are "criterion_1", "criterion_2", ...'
    ' and whose values are "Y" (met) or "N" (not met).'
)
ANSWERABILITY_USER_TEMPLATE = (
    "Criteria:\n"
    "1. The passage contains the information needed to answer the question.\n"
    "2. The question can be understood without seeing the passage.\n\n"
    "Passage:\n{context}\n\nQuestion:\n{question}"
)


def judged_criteria(answer: str, num_criteria: int) -> list[bool] | None:
    """Whether each of ``criterion_1`` .. ``criterion_<num_criteria>`` is met (``"Y"``) in a judge's answer; None
    when the answer has no JSON object with every criterion answered ``"Y"`` or ``"N"``."""
    try:
        verdict = extract_json(answer)
    except ResponseParseError:
        return None
    if not isinstance(verdict, dict):
        return None
    values = [str(verdict.get(f"criterion_{number}", "")).strip().upper() for number in range(1, num_criteria + 1)]
    if any(value not in ("Y", "N") for value in values):
        return None
    return [value == "Y" for value in values]


class AnswerabilityFilter(PairFilter):
    """Keep questions an LLM judges answerable from their passage (see the module)."""

    name = "answerability"
    pair_fields = ("passage", "question")
    #: What Dask's trial run on fake rows gets as a score, so that learning the output's columns asks nothing.
    trial_score = '{"criterion_1": "Y"}'

    def __init__(
        self,
        client: AsyncLLMClient | LLMClient,
        model: str,
        system_prompt: str = ANSWERABILITY_SYSTEM_PROMPT,
        user_prompt_template: str = ANSWERABILITY_USER_TEMPLATE,
        num_criteria: int = 2,
        *,
        temperature: float | None = 0.5,
        max_tokens: int | None = 1024,
    ) -> None:
        super().__init__()
        fields = {name for _, name, _, _ in string.Formatter().parse(user_prompt_template) if name is not None}
        if fields != {"context", "question"}:
            raise ConfigError(
                f"AnswerabilityFilter: user_prompt_template must use exactly {{context}} and {{question}}, "
                f"it uses {sorted(fields)}"
            )
        if isinstance(num_criteria, bool) or not isinstance(num_criteria, int) or num_criteria < 1:
            raise ConfigError(f"AnswerabilityFilter: num_criteria must be an int >= 1, got {num_criteria!r}")
        self.client = as_async_client(client)
        self.model = model
        self.system_prompt = system_prompt
        self.user_prompt_template = user_prompt_template
        self.num_criteria = num_criteria
        self.temperature = temperature
        self.max_tokens = max_tokens
        self._token = uuid.uuid4().hex

    def __dask_tokenize__(self) -> tuple[str, str]:
        # A client holds threads and sockets, so Dask cannot hash it: one token per filter instance.
        return type(self).__name__, self._token

    def _request(self, context: str, question: str) -> QueryRequest:
        user = self.user_prompt_template.format(context=context, question=question)
        messages = [{"role": "system", "content": self.system_prompt}, {"role": "user", "content": user}]
        return QueryRequest(messages, self.model, max_tokens=self.max_tokens, temperature=self.temperature)

    async def ajudge(self, pairs: Sequence[tuple[str, str]]) -> list[str]:
        """The judge's answer for each ``(context, question)``, asked concurrently; a failed request raises."""
        requests = [self._request(context, question) for context, question in pairs]
        answers: list[str] = []
        async for result in self.client.query_many(requests, ordered=True):
            if result.error is not None:
                raise result.error
            answers.append((result.value or [""])[0])
        return answers

    def score_pair(self, instruction: str, response: str) -> Any:
        """The judge's answer (a text) for one ``(passage, question)``."""
        return run_sync(self.ajudge([(instruction, response)]))[0]

    def score_batch(self, texts: pd.Series | pd.DataFrame) -> pd.Series:
        pairs = self.pairs(texts)
        return pd.Series(run_sync(self.ajudge(pairs)) if pairs else [], index=texts.index, dtype=object)

    def keep_document(self, score: Any) -> bool:
        met = judged_criteria(_text(score), self.num_criteria)
        return met is not None and all(met)

    def reject_reason(self, score: Any) -> str | None:
        met = judged_criteria(_text(score), self.num_criteria)
        if met is None:
            return "unparseable"
        return f"criterion_{met.index(False) + 1}" if False in met else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r}, num_criteria={self.num_criteria})"


@register_filter
class EasinessFilter(PairFilter):
    """Keep questions whose embedding is at most ``max_similarity`` (cosine) from their passage's."""

    name = "easiness"
    pair_fields = ("passage", "question")

    def __init__(self, max_similarity: float, embedder: Any = None) -> None:
        super().__init__()
        if not isinstance(max_similarity, (int, float)) or not -1.0 <= max_similarity <= 1.0:
            raise ConfigError(f"EasinessFilter: max_similarity must be a cosine in [-1, 1], got {max_similarity!r}")
        self.max_similarity = float(max_similarity)
        self._embedder = embedder

    @property
    def embedder(self) -> Any:
        """The embedder (the packaged offline model unless one was given), made on first use."""
        if self._embedder is None:
            from curator_synth.embeddings import Embedder

            self._embedder = Embedder()
        return self._embedder

    def similarities(self, passages: Sequence[str], questions: Sequence[str]) -> np.ndarray:
        """The cosine similarity of each passage with its question."""
        vectors = self.embedder.embed([*passages, *questions]).astype(np.float64)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return np.einsum("ij,ij->i", vectors[: len(passages)], vectors[len(passages) :])

    def score_pair(self, instruction: str, response: str) -> float:
        return float(self.similarities([instruction], [response])[0])

    def score_batch(self, texts: pd.Series | pd.DataFrame) -> pd.Series:
        pairs = self.pairs(texts)
        passages, questions = [p for p, _ in pairs], [q for _, q in pairs]
        scores = self.similarities(passages, questions) if pairs else np.zeros(0)
        return pd.Series(scores, index=texts.index, dtype=float)

    def keep_document(self, score: Any) -> bool:
        return bool(score <= self.max_similarity)

    def reject_reason(self, score: Any) -> str | None:
        return "too_easy"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_similarity={self.max_similarity})"
