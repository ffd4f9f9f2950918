"""Clients by name, and :class:`ClientSpec`: a picklable description of a client that any process can build.

A client holds sockets, an event-loop-bound engine and an API key, so it cannot travel to a Dask worker. A
``ClientSpec`` can: it names the client kind (registered in :data:`CLIENTS`), the endpoint and the budget,
and the *name* of the environment variable that holds the key, so the key is read where the client is built
and is never pickled, logged or shown in a ``repr``. ``spec.build(share)`` makes a client with ``share`` of
the concurrency and rate budget, which is how a cluster-wide budget is split between partitions
(:mod:`curator_synth.distributed`).

Client kinds are registered in ``CLIENTS`` (``"openai"``, ``"nemotron"``, ``"transformers"``: a local model
directory given as ``options={"model_path": ...}``, loaded once per process; third-party kinds by entry point
group ``curator_synth.clients``). A registered object is any callable taking keyword arguments and returning
an :class:`AsyncLLMClient`; options it does not take may be left at their defaults, never set.
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import Field, PlainSerializer, field_validator, model_validator
from typing_extensions import Self

from curator_synth.clients.base import AsyncLLMClient
from curator_synth.clients.config import resolve_api_key
from curator_synth.clients.nemotron import AsyncNemotronClient
from curator_synth.clients.openai import AsyncOpenAIClient
from curator_synth.clients.settings import ClientSettings
from curator_synth.clients.transformers import transformers_client
from curator_synth.errors import ConfigError
from curator_synth.registry import Registry

__all__ = ["CLIENTS", "ClientFactory", "ClientSpec"]

#: Anything that builds an async client from keyword options (a client class, usually).
ClientFactory = Callable[..., AsyncLLMClient]

#: Async client constructors by kind, for recipes, the CLI and :class:`ClientSpec`.
CLIENTS: Registry[ClientFactory] = Registry("clients")
CLIENTS.add("openai", AsyncOpenAIClient)
CLIENTS.add("nemotron", AsyncNemotronClient)
CLIENTS.add("transformers", transformers_client)  # a local model run in process; torch is imported on build

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# Options that must not be in a spec: the key travels by environment variable, a live client cannot travel.
_FORBIDDEN_OPTIONS = {
    "api_key": "give the name of the environment variable holding the key as api_key_env",
    "client": "a live client object cannot be sent to workers; describe the endpoint with base_url",
}
_SENSITIVE = ("header", "key", "token", "secret", "auth", "password")


class ClientSpec(ClientSettings):
    """A frozen, validated, picklable description of an async LLM client: its :class:`ClientSettings` and

    - ``kind``: a name in :data:`CLIENTS` (``"openai"``, ``"nemotron"``, ...);
    - ``api_key_env``: the *name* of the environment variable holding the key, read by :meth:`build` in the
      process that builds the client (on a cluster: set it on every worker). None: the client's own fallback
      (``OPENAI_API_KEY`` for ``"openai"``, ``NVIDIA_API_KEY`` for ``"nemotron"``), no key if unset;
    - ``options``: further constructor keywords (e.g. ``on_truncated``, ``default_headers``); must pickle.

    ``max_concurrency`` / ``rpm`` / ``tpm`` are the whole budget; :meth:`build` takes a share of it.
    """

    kind: str = "openai"
    api_key_env: str | None = None
    options: Annotated[Mapping[str, Any], PlainSerializer(dict)] = Field(default_factory=dict)

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> Any:
        _factory(value)
        return value

    @field_validator("api_key_env")
    @classmethod
    def _key_variable(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            # never echo the value: people paste the key itself here
            raise ValueError("api_key_env must be the name of an environment variable (letters, digits, _)")
        return value

    @field_validator("options", mode="before")
    @classmethod
    def _options(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValueError(f"options must be a mapping, got {type(value).__name__}")
        for name in value:
            if name in _FORBIDDEN_OPTIONS:
                raise ValueError(f"ClientSpec options may not hold {name!r}: {_FORBIDDEN_OPTIONS[name]}")
            if name in ClientSpec.model_fields:
                raise ValueError(f"{name!r} is a ClientSpec field, not an option")
        return dict(value)

    @model_validator(mode="after")
    def _accepted_by_kind(self) -> ClientSpec:
        """Options and non-default settings the client kind cannot take are errors now, not on a worker later."""
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))
        defaults = ClientSettings.defaults()
        kwargs = self._kwargs()
        taken = _accepted(_factory(self.kind), kwargs)
        refused = [
            name
            for name in kwargs
            if name not in taken and (name in self.options or kwargs[name] != defaults.get(name))
        ]
        if refused:
            raise ValueError(f"client kind {self.kind!r} does not take {sorted(refused)}")
        return self

    # ---------------------------------------------------------------------------------------- derived specs
    def scaled(self, share: float) -> Self:
        """This spec with ``share`` of the budget: ``max_concurrency`` rounded down (at least 1), rpm and tpm."""
        if not isinstance(share, (int, float)) or not 0 < share <= 1:
            raise ConfigError(f"share must be in (0, 1], got {share!r}")
        if share == 1:
            return self
        taken = _accepted(_factory(self.kind), self._kwargs())  # a kind without e.g. rpm keeps the default
        changes: dict[str, Any] = {}
        if "max_concurrency" in taken:
            changes["max_concurrency"] = max(1, int(self.max_concurrency * share + 1e-9))
        for name in ("rpm", "tpm"):
            value = getattr(self, name)
            if value is not None and name in taken:
                changes[name] = value * share
        return self.model_copy(update=changes)

    def with_cache_dir(self, path: str | os.PathLike[str] | None) -> Self:
        """This spec journaling into ``path`` (None: no journal)."""
        return self.model_copy(update={"cache_dir": None if path is None else os.fspath(path)})

    @property
    def endpoint(self) -> str:
        """The endpoint its clients send to, as journals and resume fingerprints name it (no credentials):
        ``base_url``, else the kind's own default (e.g. ``$OPENAI_BASE_URL`` or OpenAI's URL)."""
        from curator_synth.clients.engine import endpoint_id

        factory = _factory(self.kind)
        env = getattr(factory, "base_url_env_var", None)
        url = self.base_url or (os.environ.get(env) if env else None) or getattr(factory, "default_base_url", None)
        return endpoint_id(url) if url else f"{self.kind}:{dict(self.options).get('model_path', '')}"

    @property
    def key_env_vars(self) -> tuple[str, ...]:
        """The environment variables the key is read from, in order."""
        if self.api_key_env is not None:
            return (self.api_key_env,)
        return tuple(getattr(_factory(self.kind), "key_env_vars", ()))

    # ---------------------------------------------------------------------------------------------- build
    def build(self, share: float = 1.0) -> AsyncLLMClient:
        """A new client with ``share`` of the budget (see :meth:`scaled`), its key read from the environment.

        Raises :class:`ConfigError` if ``api_key_env`` was given and that variable is not set here.
        """
        spec = self.scaled(share)
        factory = _factory(spec.kind)
        kwargs = spec._kwargs()
        key = resolve_api_key(None, spec.key_env_vars)
        if key is None and spec.api_key_env is not None:
            raise ConfigError(
                f"ClientSpec: the environment variable {spec.api_key_env} (api_key_env) is not set in this "
                f"process (pid {os.getpid()}); on a cluster, set it in every worker's environment"
            )
        if key is not None:
            kwargs["api_key"] = key
        client = factory(**_accepted(factory, kwargs))
        if not isinstance(client, AsyncLLMClient):
            raise ConfigError(f"client kind {spec.kind!r} built a {type(client).__name__}, not an AsyncLLMClient")
        return client

    def _kwargs(self) -> dict[str, Any]:
        return {**self.values(), **self.options}

    # ---------------------------------------------------------------------------------- pickling, display
    def __reduce__(self) -> tuple[Callable[[type[ClientSpec], dict[str, Any]], ClientSpec], tuple[Any, ...]]:
        state = {name: getattr(self, name) for name in type(self).model_fields}
        state["options"] = dict(self.options)
        return (_restore, (type(self), state))

    def __hash__(self) -> int:
        values = tuple(getattr(self, name) for name in type(self).model_fields if name != "options")
        return hash((values, tuple(sorted(self.options))))

    def _shown(self) -> list[tuple[str, Any]]:
        options = {
            name: "***" if any(word in name.lower() for word in _SENSITIVE) else value
            for name, value in self.options.items()
        }
        return [*((name, value) for name, value in super()._shown() if name != "options"), ("options", options)]


def _factory(kind: object) -> ClientFactory:
    if not isinstance(kind, str):
        raise ConfigError(f"kind must be a client name such as 'openai', got {kind!r}")
    if kind not in CLIENTS:
        raise ConfigError(f"unknown client kind {kind!r}; known: {', '.join(CLIENTS.names())}")
    return CLIENTS.get(kind)


def _accepted(factory: ClientFactory, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``kwargs`` that ``factory`` takes (all of them if it takes ``**kwargs``)."""
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):  # no introspectable signature: pass everything
        return dict(kwargs)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return dict(kwargs)
    names = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return {name: value for name, value in kwargs.items() if name in names}


def _restore(cls: type[ClientSpec], state: dict[str, Any]) -> ClientSpec:
    """Unpickle without re-validating: the spec was checked where it was made, and a kind registered by a
    plugin may not be imported yet in the unpickling process (``build`` resolves it, with a clear error)."""
    spec = cls.model_construct(**state)
    object.__setattr__(spec, "options", MappingProxyType(state["options"]))
    return spec
