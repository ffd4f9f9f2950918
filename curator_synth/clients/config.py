"""Frozen, validated configuration objects for the client layer (transport apart from policy).

``ConnectionConfig`` says where and how to connect; ``RetryPolicy`` and ``RateLimits`` say how hard to push.
The API key is held in a :class:`Secret`, whose ``repr``/``str`` never show it; creating one registers the value
with :mod:`curator_synth.redact`, so it is scrubbed from errors and from every log record. Importing this module
installs that log redaction.
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass, field

from curator_synth.errors import ConfigError, CuratorSynthError, RateLimitError
from curator_synth.redact import install_log_redaction, redact_url, register_secret, register_url_secrets

__all__ = ["ConnectionConfig", "RateLimits", "RetryPolicy", "Secret", "resolve_api_key"]

install_log_redaction()
_SENSITIVE_HEADER = re.compile(r"auth|key|token|secret|password|cookie", re.IGNORECASE)


class Secret:
    """A credential that prints as ``'***'``; call :meth:`reveal` at the one place that sends it.

    The value is registered for redaction when the secret is made, unpickled included.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register_secret(value)

    def __reduce__(self) -> tuple[type[Secret], tuple[str]]:
        return (Secret, (self._value,))

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def resolve_api_key(api_key: str | Secret | None, env_vars: tuple[str, ...]) -> Secret | None:
    """``api_key`` if given, else the first set environment variable of ``env_vars``, else None (no auth)."""
    if isinstance(api_key, Secret):
        return api_key
    if api_key:
        return Secret(api_key)
    for name in env_vars:
        value = os.environ.get(name)
        if value:
            return Secret(value)
    return None


@dataclass(frozen=True)
class ConnectionConfig:
    """Where requests go, for the transports: built by a client from its validated
    :class:`~curator_synth.clients.settings.ClientSettings` (``base_url``, ``timeout``, ``max_concurrency`` as
    ``max_connections``, which bounds the connection pool; the engine's window matches it), the key and headers.

    ``timeout`` is a total deadline per attempt (connect, send, headers and the whole body), on every transport.
    Credentials written in ``base_url`` (``user:pass@``, ``?api_key=``) and the values of sensitive ``headers``
    are registered for redaction; the ``repr`` shows the URL redacted.
    """

    base_url: str
    api_key: Secret | None = field(default=None, repr=False)
    timeout: float | None = 300.0
    max_connections: int = 64
    headers: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.api_key is not None and "@" in self.base_url.partition("://")[2].partition("/")[0]:
            raise ConfigError(
                f"base_url {redact_url(self.base_url)!r} carries credentials (user:password@) and an API key is set"
                " too (api_key or its environment variable): the endpoint would get two Authorization headers;"
                " give one of them"
            )
        register_url_secrets(self.base_url)
        for name, value in self.headers:
            if _SENSITIVE_HEADER.search(name):
                register_secret(value)
                register_secret(value.rpartition(" ")[2])  # "Bearer <token>": the token alone

    def __repr__(self) -> str:
        return (
            f"ConnectionConfig(base_url={redact_url(self.base_url)!r}, timeout={self.timeout!r}, "
            f"max_connections={self.max_connections!r}, headers={[name for name, _ in self.headers]!r})"
        )

    @property
    def url_root(self) -> str:
        return self.base_url.rstrip("/") + "/"

    def auth_headers(self) -> dict[str, str]:
        """The request headers, credential included: for transports only, never for logs."""
        headers = {"Content-Type": "application/json", "Accept": "application/json", **dict(self.headers)}
        if self.api_key is not None:
            headers["Authorization"] = f"Bearer {self.api_key.reveal()}"
        return headers


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before trying a request again.

    A failure is retried when its type is retryable (``CuratorSynthError.retryable``: 429, 5xx, timeouts,
    dropped connections, malformed bodies) or listed in ``extra_retry_on`` (e.g. ``TruncatedResponseError``),
    and attempts remain. The wait is the server's ``Retry-After`` if given, else exponential with full jitter.

    A 429 (:class:`~curator_synth.errors.RateLimitError`) is not a failure of the request while the endpoint is
    answering others: it says "not now". So it is retried whatever ``max_retries`` says as long as the endpoint
    answered a request of this client within the last ``rate_limit_patience`` seconds and the request itself has
    been rate limited for less than that. An endpoint that has answered nothing (a spent quota from the start) gets
    ``max_retries`` as before; ``rate_limit_patience=0`` counts 429s like every other failure.
    """

    max_retries: int = 5
    initial_backoff: float = 0.25
    max_backoff: float = 60.0
    extra_retry_on: tuple[type[CuratorSynthError], ...] = ()
    rate_limit_patience: float = 600.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ConfigError(f"max_retries must be >= 0, got {self.max_retries}")
        if self.initial_backoff < 0 or self.max_backoff < self.initial_backoff:
            raise ConfigError("need 0 <= initial_backoff <= max_backoff")
        if not self.rate_limit_patience >= 0:
            raise ConfigError(f"rate_limit_patience must be seconds >= 0, got {self.rate_limit_patience!r}")

    def should_retry(
        self, error: BaseException, attempt: int, *, rate_limited_for: float = 0.0, answered_ago: float | None = None
    ) -> bool:
        """``attempt`` counts from 0 (the first try). For a 429: ``rate_limited_for`` is the time since the
        request's first 429, ``answered_ago`` the time since the endpoint last answered any request of this
        client (None: never)."""
        if not isinstance(error, CuratorSynthError):
            return False
        if isinstance(error, RateLimitError) and self.patient(rate_limited_for, answered_ago):
            return True
        if attempt >= self.max_retries:
            return False
        return error.retryable or isinstance(error, self.extra_retry_on)

    def patient(self, rate_limited_for: float, answered_ago: float | None) -> bool:
        """Whether a 429 is retried regardless of ``max_retries`` (see the class docstring)."""
        patience = self.rate_limit_patience
        return answered_ago is not None and answered_ago < patience and rate_limited_for < patience

    def backoff(self, attempt: int, error: BaseException) -> float:
        """Seconds to wait before retry ``attempt + 1``.

        The server's ``Retry-After`` when it gave one (capped at ``max_backoff``, plus up to 10 % jitter so a
        burst of 429s does not come back as one burst); else exponential backoff with full jitter: uniform in
        ``[0, min(max_backoff, initial_backoff * 2**attempt)]``, at least 10 ms.
        """
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            wait = min(float(retry_after), self.max_backoff)
            return wait + random.uniform(0, 0.1 * wait)
        ceiling = min(self.max_backoff, self.initial_backoff * (2**attempt))
        return max(0.01, random.uniform(0, ceiling))


@dataclass(frozen=True)
class RateLimits:
    """Client-side request and token budgets per minute (None = unlimited), from the client's validated
    :class:`~curator_synth.clients.settings.ClientSettings` (``rpm``, ``tpm``)."""

    rpm: float | None = None
    tpm: float | None = None
