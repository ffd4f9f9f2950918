"""``ClientSettings``: the one description of how an endpoint client connects and how hard it pushes.

Every place that configures a client goes through it: the client constructors (their keywords are these
settings), :class:`~curator_synth.clients.factory.ClientSpec` (a picklable client description: these settings
plus the kind and the key's variable), a recipe's ``client:`` section (a ``ClientSpec`` validated with the recipe,
so a mistake is reported with file, line and key path) and the CLI's endpoint flags (written into that section).
Each setting's type, default, limits and the words an error uses for it are declared once, here.

Made in code, a bad value is a :class:`~curator_synth.errors.ConfigError` such as
``max_concurrency must be >= 1 or 'auto', got 0``; inside a recipe, pydantic's own message at the key's line.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from curator_synth.clients.transport import TRANSPORTS
from curator_synth.errors import ConfigError
from curator_synth.redact import redact, redact_url, register_url_secrets

__all__ = ["ClientSettings", "checked_context_length", "config_error", "http_url"]

# How an error names the type a value must have (the limits' words are declared with each setting).
_TYPE_WORDS = {
    "int_type": "an int",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "a string",
    "dict_type": "a mapping",
}


def _setting(default: Any, expected: str, **limits: Any) -> Any:
    """A setting's ``Field``: ``expected`` is how an error made in code says what the value must be."""
    return Field(default, json_schema_extra={"expected": expected}, strict=True, **limits)


def http_url(value: object, name: str = "base_url") -> str:
    """``value`` if it is an ``http://`` or ``https://`` URL (the error shows it with credentials redacted);
    credentials written in it (``user:pass@``, ``?api_key=``) are registered for redaction everywhere."""
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        shown = redact_url(value) if isinstance(value, str) else value
        raise ValueError(f"{name} must start with http:// or https://, got {shown!r}")
    register_url_secrets(value)
    return value


class ClientSettings(BaseModel):
    """The settings every endpoint client takes (see :class:`~curator_synth.clients.openai.AsyncOpenAIClient`).

    - ``base_url``: the endpoint (None: the client's default, e.g. ``$OPENAI_BASE_URL`` or OpenAI's URL).
    - ``max_concurrency``: requests in flight at most, or ``"auto"``: tuned from the endpoint's latencies up to
      256 (:mod:`curator_synth.clients.autotune`); ``autotune``: tune up to ``max_concurrency`` (``"auto"`` sets it);
      ``rpm`` / ``tpm``: requests / tokens per minute (None: no cap of ours; the endpoint's own limits are learned
      from its answers).
    - ``max_retries``: retries per request of retryable failures; ``timeout``: the total deadline of one attempt.
    - ``cache_dir``: the request journal's directory (None: no journal); ``reask_failed``: a journaled answer
      that failed to parse is asked again (False: re-parsed only).
    - ``transport``: a registered transport name (None: the client's default).
    - ``max_error_rate``: the error budget (None: off); ``context_length``: the model's context in tokens.
    - ``batch``: send requests through the provider's batch API (:mod:`curator_synth.clients.batch`), polled every
      ``batch_poll_seconds``.

    Frozen: a changed copy is ``settings.model_copy(update=...)``; assigning a field raises
    ``dataclasses.FrozenInstanceError`` as the client layer's other config objects do.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str | None = None
    max_concurrency: int = _setting(64, ">= 1 or 'auto'", ge=1)
    autotune: bool = _setting(False, "true or false")
    rpm: float | None = _setting(None, "a positive number or None", gt=0)
    tpm: float | None = _setting(None, "a positive number or None", gt=0)
    max_retries: int = _setting(5, "an int >= 0", ge=0)
    timeout: float | None = _setting(300.0, "positive seconds or None", gt=0)
    cache_dir: str | None = None
    transport: str | None = None
    reask_failed: bool = _setting(True, "true or false")
    max_error_rate: float | None = _setting(0.5, "in (0, 1] or None", gt=0, le=1)
    context_length: int | None = _setting(None, "a positive int or None", ge=1)
    batch: bool = _setting(False, "true or false")
    batch_poll_seconds: float = _setting(30.0, "positive seconds", gt=0)

    def __init__(self, **values: Any) -> None:
        """Settings made in code: a bad value is a :class:`ConfigError` (in a recipe, pydantic reports it)."""
        try:
            super().__init__(**values)
        except ValidationError as error:
            raise config_error(error, type(self)) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}: {type(self).__name__} is frozen")

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self._shown())
        return redact(f"{type(self).__name__}({shown})")  # base_url may hold user:key@

    __str__ = __repr__

    def _shown(self) -> list[tuple[str, Any]]:
        """The fields a repr shows (a subclass hides what may hold credentials)."""
        return [(name, getattr(self, name)) for name in type(self).model_fields]

    @model_validator(mode="before")
    @classmethod
    def _auto(cls, values: Any) -> Any:
        """``max_concurrency: auto``: autotune up to :data:`~curator_synth.clients.autotune.AUTO_CEILING`."""
        if isinstance(values, dict) and values.get("max_concurrency") == "auto":
            from curator_synth.clients.autotune import AUTO_CEILING

            return {**values, "max_concurrency": AUTO_CEILING, "autotune": True}
        return values

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else http_url(value)

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _path(cls, value: Any) -> Any:
        return os.fspath(value) if isinstance(value, os.PathLike) else value

    @field_validator("transport")
    @classmethod
    def _transport(cls, value: str | None) -> str | None:
        if value is not None and value not in TRANSPORTS:
            raise ValueError(f"transport must be one of {TRANSPORTS.names()} or None, got {value!r}")
        return value

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every setting's default, by name."""
        return {name: field.default for name, field in ClientSettings.model_fields.items()}

    def values(self) -> dict[str, Any]:
        """The settings (only those of :class:`ClientSettings`, not a subclass's fields), by name."""
        return {name: getattr(self, name) for name in ClientSettings.model_fields}


def checked_context_length(value: object) -> int | None:
    """A model's context length in tokens (a positive int or None), checked as a client setting: for
    :class:`~curator_synth.testing.FakeLLMServer`, which plays a model with that context."""
    return ClientSettings(context_length=value).context_length


def config_error(error: ValidationError, model: type[BaseModel]) -> ConfigError:
    """One line per mistake, in words: ``max_concurrency must be >= 1 or 'auto', got 0``, ``timeout must be a
    number, got 'x'``; a validator's own message as it is; an unknown name as ``unknown setting 'bogus'``."""
    return ConfigError("; ".join(_message(detail, model) for detail in error.errors(include_url=False)))


def _message(detail: ErrorDetails, model: type[BaseModel]) -> str:
    name = ".".join(str(part) for part in detail["loc"])
    kind, given = detail["type"], detail.get("input")
    if kind == "value_error":
        return str(detail.get("ctx", {}).get("error", detail["msg"]))
    if kind == "extra_forbidden":
        return f"unknown setting {name!r} for {model.__name__}"
    if kind == "literal_error":
        return f"{name} must be {detail.get('ctx', {}).get('expected', 'one of its values')}, got {given!r}"
    field = model.model_fields.get(str(detail["loc"][0])) if detail["loc"] else None
    extra = field.json_schema_extra if field is not None and isinstance(field.json_schema_extra, dict) else {}
    expected = _TYPE_WORDS.get(kind) or extra.get("expected") or detail["msg"]
    return f"{name} must be {expected}, got {given!r}"
