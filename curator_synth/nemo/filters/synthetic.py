"""NeMo Curator 0.9's filters of synthetic retrieval data (``nemo_curator.filters.synthetic``), over the native
:mod:`curator_synth.filters.qa_checks`.

- ``AnswerabilityFilter(base_url, api_key, model, answerability_system_prompt, answerability_user_prompt_template,
  num_criteria, text_fields=None)`` sends NeMo's request (the system prompt and the filled template in one user
  message; temperature 0.5, top_p 1, max_tokens 1024) through curator_synth's own client, so it is retried and
  rate limited. Unlike NeMo's, an answer without a verdict is dropped with reason ``unparseable`` and a request
  that fails raises, where NeMo keeps the document and prints the error.
- ``EasinessFilter`` embeds through an embeddings endpoint in NeMo; curator_synth has no embeddings client, so
  it is a :class:`~curator_synth.errors.ConfigError` naming the native filter, which embeds offline.
"""

from __future__ import annotations

from typing import Any

from curator_synth.clients import OpenAIClient
from curator_synth.clients.bulk import QueryRequest
from curator_synth.errors import ConfigError
from curator_synth.filters.qa_checks import AnswerabilityFilter as _Answerability

__all__ = ["AnswerabilityFilter", "EasinessFilter"]


class AnswerabilityFilter(_Answerability):
    """NeMo's signature over the native judge; apply with ``ScoreFilter(f, text_field=f.text_fields)``."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        model: str,
        answerability_system_prompt: str,
        answerability_user_prompt_template: str,
        num_criteria: int,
        text_fields: list[str] | None = None,
    ) -> None:
        client = OpenAIClient(base_url=base_url, api_key=api_key)
        super().__init__(
            client, model, answerability_system_prompt, answerability_user_prompt_template, num_criteria,
            temperature=0.5, max_tokens=1024,
        )  # fmt: skip
        self.name = "answerability_filter"
        self.text_fields = list(text_fields) if text_fields is not None else ["text", "question"]
        if len(self.text_fields) != 2:
            raise ConfigError(f"AnswerabilityFilter: text_fields must name (context, question), got {text_fields}")

    def _request(self, context: str, question: str) -> QueryRequest:
        content = self.system_prompt + "\n\n" + self.user_prompt_template.format(context=context, question=question)
        return QueryRequest(
            [{"role": "user", "content": content}], self.model, max_tokens=self.max_tokens,
            temperature=self.temperature, top_p=1,
        )  # fmt: skip


class EasinessFilter:
    """NeMo's easiness filter needs an embeddings endpoint, which curator_synth does not query (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise ConfigError(
            "EasinessFilter over an embeddings endpoint is not available in curator_synth: use "
            "curator_synth.filters.qa_checks.EasinessFilter(max_similarity, embedder=Embedder(...)), which embeds "
            "with a local model (the packaged all-MiniLM-L6-v2 by default) and keeps questions at most "
            "max_similarity (cosine) from their passage"
        )
