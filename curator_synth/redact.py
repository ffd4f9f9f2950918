"""Secrets out of every text the library shows: error messages, reprs, and the log records of every logger.

A process-wide registry holds the secret values in use (every :class:`~curator_synth.clients.config.Secret`
registers its value when it is created; values shorter than 6 characters are ignored, they would scrub
ordinary words). :func:`redact` replaces each registered value with ``***`` and scrubs credentials written in
URLs (``scheme://user:pass@host`` becomes ``scheme://***@host``; query parameters named like a key, token,
secret, signature or password keep their name and lose their value), so it also cleans a key it was never
told about when the key sits in a URL.

Redact the *whole* text, then cut it: a key straddling a cut is no longer whole, and then no rule finds it.

:func:`install_log_redaction` wraps the logging record factory, so every record of every logger (httpx,
httpcore, openai, aiohttp, distributed, ...) is scrubbed when it is created, before any handler or filter
sees it; a filter on one logger would not see the records of its children. While no secret is registered the
wrapper costs one attribute test per record. It is installed when :mod:`curator_synth.clients` is imported
and again, if another factory replaced it since, when a secret is registered.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any
from urllib.parse import quote, unquote, urlsplit

__all__ = [
    "MIN_SECRET_LENGTH",
    "install_log_redaction",
    "redact",
    "redact_url",
    "register_secret",
    "register_url_secrets",
]

#: Shorter values are not registered: scrubbing them would mangle ordinary text.
MIN_SECRET_LENGTH = 6
_MASK = "***"
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)[^\s/?#'\"<>]*@")
_SENSITIVE_PARAM = re.compile(
    r"(?P<name>[?&;](?:[\w.\-]*(?:key|token|secret|signature|password|passwd|credential)[\w.\-]*|sig)=)"
    r"[^&#\s'\"<>]*",
    re.IGNORECASE,
)
_FORMATTER = logging.Formatter()


class _Registry:
    """The registered values and one compiled alternation of them (longest first), swapped whole on change."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: frozenset[str] = frozenset()
        self.pattern: re.Pattern[str] | None = None

    def add(self, values: set[str]) -> None:
        with self.lock:
            merged = self.values | values
            if merged == self.values:
                return
            alternation = "|".join(re.escape(value) for value in sorted(merged, key=len, reverse=True))
            self.values, self.pattern = merged, re.compile(alternation)


_registry = _Registry()


def register_secret(value: str) -> None:
    """Scrub ``value`` (and its percent-encoded form) from every redacted text and log record from now on."""
    if not isinstance(value, str) or len(value) < MIN_SECRET_LENGTH:
        return
    _registry.add({value, quote(value, safe="")})
    install_log_redaction()


def register_url_secrets(url: str) -> None:
    """Register the credentials written in ``url``: the password (or a lone user name, often a token) and the
    values of sensitive query parameters, decoded and as written."""
    try:
        parts = urlsplit(url)
        password, username = parts.password, parts.username
    except ValueError:  # e.g. a port that is not a number: the URL is refused elsewhere
        return
    found = [password] if password else [username] if username else []
    for match in _SENSITIVE_PARAM.finditer("?" + parts.query):
        found.append(match.group(0)[len(match.group("name")) :])
    for value in found:
        if value:
            register_secret(value)
            register_secret(unquote(value))


def redact(text: str) -> str:
    """``text`` with every registered secret and every URL credential replaced by ``***``."""
    pattern = _registry.pattern
    if pattern is not None:
        text = pattern.sub(_MASK, text)
    if "://" in text:
        text = _USERINFO.sub(r"\g<scheme>***@", text)
    if "=" in text:
        text = _SENSITIVE_PARAM.sub(r"\g<name>***", text)
    return text


def redact_url(url: str) -> str:
    """``url`` safe to print: ``http://user:key@host/v1?api_key=k`` becomes ``http://***@host/v1?api_key=***``."""
    return redact(url)


# ------------------------------------------------------------------------------------------------ logging
class _RedactingFactory:
    """A log record factory that scrubs the records made by the factory it wraps (see the module docstring)."""

    __slots__ = ("previous",)

    def __init__(self, previous: Any) -> None:
        self.previous = previous

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.previous(*args, **kwargs)
        if _registry.pattern is not None:
            _scrub(record)
        return record


def _scrub(record: logging.LogRecord) -> None:
    """Render the message now and keep the redacted text if it changed; the same for a traceback and stack."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format call: render what there is rather than let logging print it raw
        message = f"{record.msg} % {record.args!r}"
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, ()
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        record.exc_text = redact(_FORMATTER.formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


_install_lock = threading.Lock()


def install_log_redaction() -> None:
    """Make every log record pass through :func:`redact`. Idempotent; chains the factory in place."""
    with _install_lock:
        current = logging.getLogRecordFactory()
        if not isinstance(current, _RedactingFactory):
            logging.setLogRecordFactory(_RedactingFactory(current))
