"""The one exception tree of curator_synth.

Everything the library raises on purpose derives from :class:`CuratorSynthError`. Third-party errors
(aiohttp, httpx, openai) are translated into this tree at the transport boundary
(``curator_synth.clients.transport``) with ``raise ... from``, so callers catch one family.

Retryability is a property of the *type* (the ``retryable`` class attribute), never decided by matching
message strings. The retry layer may widen the set (``TruncatedResponseError`` is retried only when asked).

Two more class attributes say what a failure means for a run (docs/reliability.md):

- ``transient``: the failure says nothing about the request itself (connection, 5xx, timeout, rate limit, a
  journal that cannot be written). A request that ends with a transient failure is never a rejection: its
  stage stays unfinished, the CLI exits with code 75 (unfinished) and a re-run asks it again. Every other
  failure is a permanent rejection with a reason (invalid request, unparseable answer, truncated, ...).
- ``fatal``: going on is pointless or harmful (the journal cannot keep what is paid for, the error budget is
  spent): a stream of requests stops at the first one instead of collecting it as one item's failure.

Nothing here ever holds an API key: API errors carry a :class:`RequestSummary` (method, URL without query,
model, body size), never headers or bodies of the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from curator_synth.redact import redact as _redact

__all__ = [
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigError",
    "ConnectError",
    "ContentFilterError",
    "ContextLengthError",
    "ConversationFormatError",
    "CuratorSynthError",
    "DataFormatError",
    "ErrorBudgetExceeded",
    "IncompleteStageError",
    "JournalCorruptError",
    "JournalError",
    "MalformedResponseError",
    "MissingDependencyError",
    "MissingPackageError",
    "NotARewardModelError",
    "NotFoundError",
    "PermissionDeniedError",
    "PromptTooLongError",
    "RateLimitError",
    "RequestSummary",
    "RequestTimeoutError",
    "ResponseParseError",
    "ServerError",
    "StageError",
    "StorageError",
    "TransportError",
    "TruncatedResponseError",
    "UnknownParameterError",
    "UnsupportedRequestError",
    "YamlConversionError",
    "error_class",
    "status_error_for",
]

_BODY_EXCERPT = 300


@dataclass(frozen=True)
class RequestSummary:
    """What an error may say about the request that caused it: no headers, no credentials, no body text."""

    method: str
    url: str
    model: str | None = None
    body_bytes: int = 0

    @classmethod
    def create(cls, method: str, url: str, model: str | None = None, body_bytes: int = 0) -> RequestSummary:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        # Drop user-info and query: both are places where people put keys.
        clean = urlunsplit((parts.scheme, host, parts.path, "", ""))
        return cls(method=method, url=clean, model=model, body_bytes=body_bytes)

    def __str__(self) -> str:
        model = f" model={self.model}" if self.model else ""
        return f"{self.method} {self.url}{model}"


class CuratorSynthError(Exception):
    """Root of every error curator_synth raises on purpose.

    Every error pickles with its type, message and attributes (whatever its constructor's signature), so one
    raised on a Dask worker reaches the driver as the same class: ``except AuthenticationError`` still works.
    """

    retryable: ClassVar[bool] = False
    transient: ClassVar[bool] = False
    fatal: ClassVar[bool] = False

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _rebuild(cls: type[CuratorSynthError], args: tuple[Any, ...], state: dict[str, Any]) -> CuratorSynthError:
    """Unpickle an error without calling its (often keyword-only) constructor."""
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


# --------------------------------------------------------------------------------------------- transport
class TransportError(CuratorSynthError):
    """The request did not get an HTTP answer (connect failure, dropped connection, timeout)."""

    retryable = True
    transient = True

    def __init__(self, message: str, *, request: RequestSummary | None = None) -> None:
        self.request = request
        super().__init__(f"{message} ({request})" if request else message)


class RequestTimeoutError(TransportError):
    """No complete answer within the configured timeout."""


class ConnectError(TransportError):
    """The connection could not be made, or the peer dropped it before a full answer."""


# -------------------------------------------------------------------------------------------- API status
class APIStatusError(CuratorSynthError):
    """The endpoint answered with a non-2xx status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        request: RequestSummary,
        body: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.status_code = status_code
        self.request = request
        self.body = _redact(body)[:_BODY_EXCERPT]  # redact the whole text, then cut: a cut key is not found
        self.retry_after = retry_after
        detail = f": {self.body}" if self.body else ""
        super().__init__(f"{_redact(message)} (HTTP {status_code} from {request}){detail}")


class BadRequestError(APIStatusError):
    """400/422: the request is wrong; retrying will not help."""


class ContextLengthError(BadRequestError):
    """The prompt and ``max_tokens`` do not fit the model's context (a 400 ``context_length_exceeded``, or
    "maximum context length is N tokens"); ``context_length`` is N when the endpoint said it. Permanent:
    rejected with reason ``context_length``."""

    context_length: int | None = None


class PromptTooLongError(CuratorSynthError):
    """The prompt (estimated low) and ``max_tokens`` cannot fit the endpoint's known context length: rejected
    here, never sent (reason ``prompt_too_long``)."""


class UnsupportedRequestError(BadRequestError):
    """The endpoint refused a field of the request as invalid — even when it said so with a 5xx (llama.cpp answers
    ``response_format: json_schema`` with a 500 quoting its request validation error; OpenAI's reasoning models
    refuse ``max_tokens`` with a 400 ``unsupported_parameter``). Not retried: the same request would fail the same
    way; callers with a fallback (structured output, the ``max_completion_tokens`` rename) take it. ``param`` is
    the field the endpoint named, when it named one."""

    param: str | None = None


class AuthenticationError(APIStatusError):
    """401: missing or invalid API key."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not use this model or endpoint."""


class NotFoundError(APIStatusError):
    """404: wrong base_url, endpoint path or model name."""


class RateLimitError(APIStatusError):
    """429: slow down; ``retry_after`` holds the server's hint in seconds when it gave one."""

    retryable = True
    transient = True


class ServerError(APIStatusError):
    """5xx (and 408/409): a server-side problem worth retrying."""

    retryable = True
    transient = True


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: ServerError,
    409: ServerError,
    422: BadRequestError,
    429: RateLimitError,
}


def status_error_for(status_code: int) -> type[APIStatusError]:
    """The exception class for an HTTP status (a table, not a chain of ifs)."""
    if status_code in _STATUS_CLASSES:
        return _STATUS_CLASSES[status_code]
    return ServerError if status_code >= 500 else APIStatusError


# ---------------------------------------------------------------------------------------- response parse
class ResponseParseError(CuratorSynthError):
    """An answer arrived but could not be turned into what was asked for.

    ``raw`` keeps the response text (never the request) so nothing paid for is lost.
    """

    def __init__(self, message: str, *, raw: str | None = None, request: RequestSummary | None = None) -> None:
        self.raw = raw
        self.request = request
        super().__init__(f"{message} ({request})" if request else message)


class MalformedResponseError(ResponseParseError):
    """The body is not the JSON an OpenAI-compatible endpoint returns (often a broken proxy or cut stream)."""

    retryable = True
    transient = True


class TruncatedResponseError(ResponseParseError):
    """The model stopped at ``max_tokens`` (``finish_reason == "length"``); retried only when asked."""


class ContentFilterError(ResponseParseError):
    """The endpoint filtered the answer (``finish_reason == "content_filter"``)."""


class NotARewardModelError(ResponseParseError):
    """A reward query got an answer without per-attribute logprobs: the model is not a reward model."""


class YamlConversionError(ResponseParseError):
    """The LLM-assisted YAML conversion of a list response failed its checks."""


# ----------------------------------------------------------------------------------------------- journal
class StorageError(CuratorSynthError):
    """A file of the run could not be written during the run (disk full, I/O error); the message names the path
    and the cause. Transient (free space and re-run) and fatal (nothing more can be kept)."""

    transient = True
    fatal = True


class JournalError(StorageError):
    """The request journal could not be written (disk full, I/O error): stop rather than pay unjournaled.

    Transient (free space and re-run: what was journaled is not paid again) and fatal (no request is sent
    after it)."""

    transient = True
    fatal = True


class JournalCorruptError(JournalError):
    """The journal file is damaged (a bad page, not a database): move it away or restore it; not transient."""

    transient = False


class ErrorBudgetExceeded(CuratorSynthError):
    """Too many requests of a client failed (more than its ``max_error_rate``): the rest are not sent, so a dead
    endpoint costs minutes, not hours. Transient: the failures that spent the budget decide what a re-run asks."""

    transient = True
    fatal = True


# ------------------------------------------------------------------------------------------- pipeline
class StageError(CuratorSynthError):
    """A pipeline stage produced nothing usable (e.g. every request of an LLM stage failed); it is not saved,
    so a re-run does it again."""


class IncompleteStageError(StageError):
    """Requests of a stage failed transiently (connection, 5xx, timeouts, journal): the stage is not finished
    and not saved; what was answered is kept (journals, finished partitions) and a re-run asks exactly the
    failed requests again. ``failures`` counts them by error type."""

    transient = True

    def __init__(
        self,
        stage: str,
        failures: dict[str, int],
        *,
        where: str | None = None,
        detail: str | None = None,
        stopped: bool = False,
    ) -> None:
        self.stage = stage
        self.failures = dict(failures)
        self.detail = detail
        #: A fatal failure (the journal, the error budget) stopped the stage early.
        self.stopped = stopped
        total = sum(self.failures.values())
        counts = ", ".join(f"{name} {count}" for name, count in sorted(self.failures.items(), key=lambda i: -i[1]))
        kept = f" in {where}" if where else ""
        why = f" ({detail})" if detail else ""
        what = f"{total} request{'s' if total != 1 else ''} failed transiently ({counts})" if total else "unfinished"
        again = "retry them" if total else "go on"
        super().__init__(f"{stage}: {what}{why}; answers so far are kept{kept}; re-run to {again}")


# ---------------------------------------------------------------------------------------------- data
class DataFormatError(CuratorSynthError, ValueError):
    """Input data that cannot be read as the format promised: names the file and the 1-based line.

    ``line`` is ``None`` when the problem is not tied to one line (e.g. a column whose values in one file
    cannot take the dtype the dataset's schema has).
    """

    def __init__(self, path: str | PathLike[str], line: int | None, reason: str) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")


# ------------------------------------------------------------------------------------------------ config
class ConfigError(CuratorSynthError, ValueError):
    """Invalid configuration or arguments, found before any request is sent."""


class UnknownParameterError(ConfigError, TypeError):
    """A keyword argument the call does not take (also ``TypeError``, as Python's own): nothing was sent."""


class ConversationFormatError(ConfigError):
    """A conversation does not have the shape a formatter or endpoint needs."""


class MissingDependencyError(CuratorSynthError, ImportError):
    """An optional dependency is not installed; the message says which extra to install."""

    def __init__(self, package: str, extra: str, feature: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{feature} needs the '{package}' package. Install it with: pip install 'curator_synth[{extra}]'",
            name=package,
        )


class MissingPackageError(MissingDependencyError):
    """A package outside curator_synth's extras is not installed; the message says what to ``pip install``
    (or, with ``message``, what else to do)."""

    def __init__(self, package: str, feature: str, pip_name: str | None = None, message: str | None = None) -> None:
        self.package = package
        self.extra = ""  # no curator_synth extra installs it
        text = message or f"{feature} needs the '{package}' package. Install it with: pip install {pip_name or package}"
        ImportError.__init__(self, text, name=package)


def error_class(name: str) -> type[CuratorSynthError] | None:
    """The error class of this tree called ``name`` (as in ``"ConnectError: ..."`` texts of failed rows), or None."""
    found: dict[str, type[CuratorSynthError]] = {}
    stack: list[type[CuratorSynthError]] = [CuratorSynthError]
    while stack:
        cls = stack.pop()
        found.setdefault(cls.__name__, cls)
        stack.extend(cls.__subclasses__())
    return found.get(name)
