"""The client contracts: curator_synth's own :class:`~curator_synth.clients.base.LLMClient` and
:class:`~curator_synth.clients.base.AsyncLLMClient`, whose abstract methods and keyword-only arguments are NeMo's
(``query_model``, ``query_reward_model``). A class written against NeMo's contract subclasses them unchanged, and
its instances work with every curator_synth generator and pipeline stage."""

from curator_synth.clients.base import AsyncLLMClient, LLMClient

__all__ = ["AsyncLLMClient", "LLMClient"]
