"""What the NeMo-style generators share: the client objects they take, and prompts filled as NeMo fills them.

NeMo Curator's generators keep the client they are given (``generator.client``) and call its ``query_model``:
any object with that method works, a NeMo client, a curator_synth client or a test double. The async generators
(:class:`NemoGenerator`) send through the object itself; the blocking ones through :class:`BlockingClientView`, the
async view their async core needs (:func:`blocking_core`), and show the object as ``client`` (:class:`GivenClient`).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from curator_synth.clients.accept import as_async_client, call_in_thread, is_client
from curator_synth.clients.base import AsyncLLMClient, LLMClient
from curator_synth.errors import ConfigError
from curator_synth.generators.base import BaseGenerator
from curator_synth.prompts.base import PromptTemplate

__all__ = ["BlockingClientView", "GivenClient", "Logger", "NemoGenerator", "blocking_core", "nemo_logger"]

G = TypeVar("G", bound=BaseGenerator)
Logger = logging.Logger | logging.LoggerAdapter[Any]


def nemo_logger(logger: Logger | str) -> Logger:
    """NeMo's ``logger`` argument: a logger is used as it is; a string (NeMo's log directory) means this package's
    logger (curator_synth logs through :mod:`logging` and writes no log file of its own)."""
    return logging.getLogger("curator_synth.nemo.synthetic") if isinstance(logger, str) else logger


def _check(client: Any, kind: str) -> None:
    if not callable(getattr(client, "query_model", None)):
        raise ConfigError(f"{kind} needs a client with a query_model method, got {type(client).__name__}")


class NemoGenerator(BaseGenerator):
    """Base of the async NeMo-style generators: the client is the object given, and a template is filled with the
    values it uses (NeMo's ``str.format`` ignores the others, e.g. a ``prompt_kwargs`` entry the template lacks)."""

    @classmethod
    def accept_client(cls, client: Any) -> AsyncLLMClient:
        """``client`` itself, checked: it has a ``query_model`` method and is not a blocking curator_synth client
        (whose answers cannot be awaited: pass its ``async_client``, or use the blocking generator)."""
        _check(client, cls.__name__)
        if isinstance(client, LLMClient) and not isinstance(client, AsyncLLMClient):
            raise ConfigError(
                f"{cls.__name__} needs an async client, got the blocking {type(client).__name__}: pass an async "
                "client (a curator_synth client's .async_client) or use the blocking generator"
            )
        accepted: AsyncLLMClient = client
        return accepted

    async def ask(
        self,
        template: PromptTemplate,
        fill: Mapping[str, Any],
        *,
        model: str | None = None,
        model_kwargs: Mapping[str, Any] | None = None,
        n: int | None = None,
    ) -> list[str]:
        """:meth:`BaseGenerator.ask` with the values of ``fill`` that ``template`` uses."""
        used = {name: value for name, value in fill.items() if name in template.fields}
        return await super().ask(template, used, model=model, model_kwargs=model_kwargs, n=n)


class BlockingClientView(AsyncLLMClient):
    """The async view of the client a blocking NeMo-style generator was given (``client``): a curator_synth
    client's async core (so limits and the journal are shared), else the object's own ``query_model`` run in a
    worker thread (an awaitable it returns is awaited)."""

    def __init__(self, client: Any, generator: str) -> None:
        _check(client, generator)
        self.client = client
        self._core: AsyncLLMClient | None = as_async_client(client) if is_client(client) else None

    async def query_model(self, **kwargs: Any) -> list[str]:
        if self._core is not None:
            return await self._core.query_model(**kwargs)
        return await self._call("query_model", kwargs)

    async def query_reward_model(self, **kwargs: Any) -> dict[str, float]:
        if self._core is not None:
            return await self._core.query_reward_model(**kwargs)
        return await self._call("query_reward_model", kwargs)

    async def _call(self, method: str, kwargs: Mapping[str, Any]) -> Any:
        answer = await call_in_thread(self.client, method, kwargs)
        return await answer if inspect.isawaitable(answer) else answer


def blocking_core(async_class: type[G], name: str) -> type[G]:
    """The async class doing the work of the blocking generator ``name``: ``async_class`` sending through a
    :class:`BlockingClientView` of the client it is given."""

    def accept_client(cls: type[G], client: Any) -> AsyncLLMClient:
        return BlockingClientView(client, name)

    namespace = {"accept_client": classmethod(accept_client), "__doc__": f"The async core of {name}."}
    return cast("type[G]", type(f"_{name}Core", (async_class,), namespace))


class GivenClient:
    """Mixin of the blocking NeMo-style generators: ``client`` is the object given, not its async view."""

    _async: Any

    @property
    def client(self) -> Any:
        """The client object this generator was given."""
        return cast(BlockingClientView, self._async.client).client
