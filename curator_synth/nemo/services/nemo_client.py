"""NeMo's client for a model served by NeMo Deploy (``nemo.deploy.nlp.NemoQueryLLM``, given by the caller: the
``nemo`` toolkit is not a dependency of curator_synth).

NeMo Deploy takes prompts, not conversations: ``query_model`` renders the conversation with the
``conversation_formatter`` it is given (required), sends it as ``prompts=[...]`` with NeMo Deploy's parameter
names (``max_output_len``, ``random_seed``, ``stop_words_list``, ``temperature``, ``top_k``, ``top_p``), and cuts
each answer at the first stop word and strips it. ``n`` and streaming are not supported (a ``UserWarning``);
reward models are not either (``NotImplementedError``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from curator_synth.clients.base import LLMClient

__all__ = ["NemoDeployClient"]


class NemoDeployClient(LLMClient):
    """Blocking queries through a ``NemoQueryLLM`` instance (``self.client``)."""

    def __init__(self, nemo_deploy: Any) -> None:
        self.client = nemo_deploy

    def query_model(  # type: ignore[override]
        self,
        *,
        messages: Iterable[Mapping[str, Any]],
        model: str,
        conversation_formatter: Any = None,
        max_tokens: int | None = None,
        n: int | None = None,
        seed: int | None = None,
        stop: str | list[str] | None = None,
        stream: bool = False,
        temperature: float | None = None,
        top_k: int | None = None,
        top_p: float | None = None,
    ) -> list[str]:
        if conversation_formatter is None:
            raise ValueError("NemoDeployClient's query_model requires a conversation_formatter")
        if n is not None:
            warnings.warn("n is not supported in NemoDeployClient", UserWarning, stacklevel=2)
        if stream:
            warnings.warn("streamming is not supported in NeMoDeployClient", UserWarning, stacklevel=2)
        stops = [stop] if isinstance(stop, str) else stop
        self.client.model_name = model
        answers = self.client.query_llm(
            prompts=[conversation_formatter.format_conversation(messages)], max_output_len=max_tokens,
            random_seed=seed, stop_words_list=stops, temperature=temperature, top_k=top_k, top_p=top_p,
        )[0]  # fmt: skip
        return self._postprocess_response(answers, stops or [])

    @staticmethod
    def _postprocess_response(responses: Sequence[str], stop_words: Sequence[str]) -> list[str]:
        """Each response cut before the first of ``stop_words`` it contains, and stripped."""
        processed = []
        for response in responses:
            cut = min((at for at in (response.find(word) for word in stop_words) if at >= 0), default=len(response))
            processed.append(response[:cut].strip())
        return processed

    def query_reward_model(self, *, messages: Iterable[Mapping[str, Any]], model: str) -> dict[str, float]:
        raise NotImplementedError("Reward model inference is not supported in NeMo Deploy Clients")
