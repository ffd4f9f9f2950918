"""Which extra keyword arguments ``query_model`` sends: request fields it knows, and ``extra_body``.

A keyword argument that is not a named parameter of ``query_model`` goes into the request body only if it is a
field of OpenAI's chat or completions request (:data:`REQUEST_FIELDS`), or one of the sampling fields that
vLLM, llama.cpp, NIM and TGI all take at the top level of the body (``top_k``, ``min_p``,
``repetition_penalty``). Anything else is an :class:`~curator_synth.errors.UnknownParameterError` before
anything is sent: a misspelt ``temprature=`` or NeMo 1.x's ``generation_config=`` would otherwise be sent as an
unknown field that the endpoint ignores, and the caller's settings would be lost without a word. An
endpoint-specific field goes in ``extra_body={...}``, as with the openai SDK: it is merged into the body as is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from curator_synth.errors import UnknownParameterError

__all__ = ["REQUEST_FIELDS", "request_extra"]

#: OpenAI's chat-completions and completions request fields that ``query_model`` does not name, plus the
#: sampling fields open-source servers share.
REQUEST_FIELDS = frozenset(
    {
        # OpenAI chat completions
        "audio", "frequency_penalty", "logit_bias", "logprobs", "max_completion_tokens", "metadata",
        "modalities", "parallel_tool_calls", "prediction", "presence_penalty", "prompt_cache_key",
        "reasoning_effort", "response_format", "safety_identifier", "service_tier", "store", "tool_choice",
        "tools", "top_logprobs", "user", "verbosity", "web_search_options",
        # OpenAI completions (a conversation formatter sends to /completions)
        "best_of", "echo", "suffix",
        # the sampling fields of vLLM, llama.cpp, NIM and TGI
        "top_k", "min_p", "repetition_penalty",
    }
)  # fmt: skip

#: What a caller most likely meant by a name that is not a field, for the error message.
_HINTS = {
    "generation_config": "NeMo Curator 1.x's GenerationConfig is taken by curator_synth.nemo.models.client's"
    " clients; here pass its settings as query_model's own arguments (max_tokens=, temperature=, ...)",
    "stream": "answers are read whole; streaming is not supported",
}


def request_extra(extra: Mapping[str, Any]) -> dict[str, Any]:
    """The body fields of ``query_model``'s extra keyword arguments: the known fields, then ``extra_body``."""
    body = dict(extra)
    extra_body = body.pop("extra_body", None)
    unknown = sorted(set(body) - REQUEST_FIELDS)
    if unknown:
        hints = "".join(f"; {name}: {_HINTS[name]}" for name in unknown if name in _HINTS)
        raise UnknownParameterError(
            f"query_model() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}: not a field of an"
            f" OpenAI-compatible request, so nothing was sent (an endpoint-specific field goes in"
            f" extra_body={{...}}){hints}"
        )
    if extra_body is not None:
        if not isinstance(extra_body, Mapping) or not all(isinstance(key, str) for key in extra_body):
            raise UnknownParameterError(f"extra_body must be a dict of body fields, got {type(extra_body).__name__}")
        body.update(extra_body)
    return body
