"""How a stage tells its failed rows: counted by error type, with the one hint that type calls for.

A failed row carries its error as text, ``"ErrorType: message"`` (``Failure.reason``; the ``llm_error`` and
``reward_error`` columns). The type decides the hint (:data:`HINTS`, looked up along the class hierarchy), so a
parse error where the endpoint worked is not told to check the endpoint, and a context-length 400 is told about
``max_tokens`` and the prompt rather than the API key.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence

from curator_synth import errors

__all__ = [
    "HINTS", "REASONS", "error_counts", "error_name", "explained", "hint_for", "key_hint", "reason_of",
    "rejection_counts",
]  # fmt: skip

#: The rejection reason of an error type where it has a short name of its own (else the type's name).
REASONS: dict[type[errors.CuratorSynthError], str] = {
    errors.TruncatedResponseError: "truncated",
    errors.ContentFilterError: "content_filter",
    errors.ContextLengthError: "context_length",
    errors.PromptTooLongError: "prompt_too_long",
}

#: Advice by error type (the nearest class in the hierarchy wins). Keep each one line, in the imperative.
HINTS: dict[type[errors.CuratorSynthError], str] = {
    errors.AuthenticationError: "Check the API key (the variable named by client.api_key_env).",
    errors.PermissionDeniedError: "The key may not use this model or endpoint: check the model name and the key.",
    errors.NotFoundError: "Check the endpoint (client.base_url) and the model name.",
    errors.ContextLengthError: (
        "The prompt and max_tokens exceed the model's context: lower max_tokens or shorten the input."
    ),
    errors.PromptTooLongError: (
        "The prompt and max_tokens cannot fit the model's context (not sent): lower max_tokens or shorten the input."
    ),
    errors.BadRequestError: (
        "The endpoint refused the requests as invalid: check the model name, max_tokens and the prompt length"
        " against the model's context."
    ),
    errors.TransportError: "Check that the endpoint (client.base_url) is up and reachable.",
    errors.RateLimitError: "The endpoint keeps rate-limiting: lower client.max_concurrency or set client.rpm.",
    errors.ServerError: "The endpoint keeps failing (5xx): check its health and logs.",
    errors.TruncatedResponseError: "The answers stopped at max_tokens: raise max_tokens.",
    errors.NotARewardModelError: "The model is not a reward model: use mode llm_judge or a reward model's name.",
    errors.ResponseParseError: (
        "The endpoint answered, but the answers could not be used (the raw answers are in the journal; a re-run"
        " asks them again): check that the model follows the prompt's format."
    ),
    errors.StorageError: "Free space (or fix the file system) and re-run.",
    errors.ConfigError: "Fix the recipe or the arguments.",
}
_DEFAULT = "Check the endpoint (client.base_url), the model name and the API key."


def error_name(text: object) -> str:
    """The error type of a failed row's text ``"ErrorType: message"`` (the whole text if it has no type)."""
    return str(text).split(":", 1)[0].strip()


def error_counts(texts: Iterable[object]) -> Counter[str]:
    """Failed rows by error type."""
    return Counter(error_name(text) for text in texts)


def hint_for(names: Iterable[str], keys: Sequence[str] | None = None) -> str:
    """The hint of the most frequent error type among ``names`` that has one (its nearest class in
    :data:`HINTS`); the generic endpoint hint when none is known. ``keys``: the environment variables the
    client reads its key from, in order: a refused key (401) is then told which variable to set."""
    for name, _ in Counter(names).most_common():
        cls = errors.error_class(name)
        for klass in cls.__mro__ if cls is not None else ():
            if klass is errors.AuthenticationError and keys is not None:
                return key_hint(keys)
            if klass in HINTS:
                return HINTS[klass]
    return _DEFAULT


def key_hint(keys: Sequence[str]) -> str:
    """What to do about a refused key, naming the variable it came from (or the ones to set)."""
    given = next((name for name in keys if os.environ.get(name)), None)
    if given is not None:
        return f"Check the API key: the endpoint refused the key in ${given}; set it to a key this endpoint accepts."
    named = " or ".join("$" + name for name in keys)
    where = "name the variable holding one in client.api_key_env (--api-key-env)"
    return f"Check the API key: none was sent; {f'set {named} (or {where})' if keys else where}."


def reason_of(name: str) -> str:
    """The rejection reason of the error type ``name``: ``truncated`` for TruncatedResponseError, ..."""
    cls = errors.error_class(name)
    return REASONS.get(cls, name) if cls is not None else name


def rejection_counts(texts: Iterable[object]) -> Counter[str]:
    """Failed rows by rejection reason (:func:`reason_of` their error type)."""
    return Counter(reason_of(error_name(text)) for text in texts)


def explained(
    error: errors.CuratorSynthError, what: str, keys: Sequence[str] | None = None
) -> errors.CuratorSynthError:
    """``error`` (the same object: its type, exit code and attributes stay) with a message that says what
    failed and its hint: ``"<what> failed: <message> <hint>"`` (``keys``: see :func:`hint_for`)."""
    error.args = (f"{what} failed: {error} {hint_for([type(error).__name__], keys)}",)
    return error
