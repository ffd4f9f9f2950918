"""Blocking generator classes over the async ones (one implementation; DESIGN.md rule 6).

Each blocking twin is a real class, written out: ``class NemotronGenerator(BlockingGenerator[...])`` whose body
names every public method of the async class, ``generate_macro_topics = blocking(AsyncNemotronGenerator.
generate_macro_topics)``. :func:`blocking` keeps the method's signature for mypy and IDEs (a misspelled method
is a type error, "go to definition" lands on the async method) and, when called, runs the async generator's
method to completion on the shared loop thread of the sync clients (:func:`curator_synth.clients.sync.run_sync`);
:func:`passthrough` does the same for plain methods. ``tests/generators/test_blocking_twins.py`` checks that each
twin names exactly the public methods of its async class.

:func:`sync_generator` builds such a class at run time, for a user's own generator (what mypy cannot read).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Concatenate, Generic, ParamSpec, TypeVar

from curator_synth.clients.sync import run_sync
from curator_synth.generators.base import BaseGenerator

__all__ = ["Blocking", "BlockingGenerator", "blocking", "passthrough", "public_methods", "sync_generator"]

P = ParamSpec("P")
R = TypeVar("R")
A = TypeVar("A")
G = TypeVar("G", bound=BaseGenerator)


def blocking(method: Callable[Concatenate[Any, P], Coroutine[Any, Any, R]]) -> Callable[Concatenate[Any, P], R]:
    """A blocking method running the async generator's ``method`` (looked up on the instance, so an override or
    a patch of the async generator is the one run)."""
    name = method.__name__

    @functools.wraps(method)
    def call(self: Blocking[Any], *args: P.args, **kwargs: P.kwargs) -> R:
        return run_sync(getattr(self.async_generator, name)(*args, **kwargs))

    return call


def passthrough(method: Callable[Concatenate[Any, P], R]) -> Callable[Concatenate[Any, P], R]:
    """A plain (non-async) method of the async generator, called on it."""
    name = method.__name__

    @functools.wraps(method)
    def call(self: Blocking[Any], *args: P.args, **kwargs: P.kwargs) -> R:
        return getattr(self.async_generator, name)(*args, **kwargs)

    return call


class Blocking(Generic[A]):
    """Base of the blocking twins: the same arguments as the async class (``async_class``), the same methods
    without ``await``; ``async_generator`` is the async object doing the work (its other attributes are read
    from it)."""

    async_class: ClassVar[type[Any]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "async_class" in vars(cls):
            cls.__signature__ = inspect.signature(cls.async_class)  # type: ignore[attr-defined]  # help() shows the arguments

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._async: A = self.async_class(*args, **kwargs)
        self._async.public_name = type(self).__name__  # provenance names this class

    @classmethod
    def wrapping(cls: type[B], generator: Any) -> B:
        """A twin over an existing async object (e.g. one an async constructor built)."""
        twin = cls.__new__(cls)
        twin._async = generator
        generator.public_name = cls.__name__
        return twin

    @property
    def async_generator(self) -> A:
        """The async object doing the work."""
        return self._async

    if not TYPE_CHECKING:  # other attributes (criteria, mode, ...) are read from the async object

        def __getattr__(self, attribute: str) -> Any:
            if attribute == "_async":
                raise AttributeError(attribute)
            return getattr(self._async, attribute)


B = TypeVar("B", bound=Blocking[Any])


class BlockingGenerator(Blocking[G]):
    """A blocking twin of a :class:`~curator_synth.generators.base.BaseGenerator`: its shared methods and its
    ``client``, ``model`` and ``params``."""

    @property
    def client(self) -> Any:
        return self._async.client

    @property
    def model(self) -> str | None:
        return self._async.model

    @property
    def params(self) -> dict[str, Any]:
        return self._async.params

    ask = blocking(BaseGenerator.ask)
    ask_messages = blocking(BaseGenerator.ask_messages)
    ask_one = blocking(BaseGenerator.ask_one)
    fan_out = blocking(BaseGenerator.fan_out)
    model_for = passthrough(BaseGenerator.model_for)
    provenance = passthrough(BaseGenerator.provenance)
    request_params = passthrough(BaseGenerator.request_params)


def public_methods(async_cls: type) -> dict[str, Callable[..., Any]]:
    """The public methods of ``async_cls`` (inherited ones too), by name: what its blocking twin must name."""
    return {
        name: member
        for name, member in inspect.getmembers(async_cls, predicate=inspect.isfunction)
        if not name.startswith("_")
    }


def sync_generator(async_cls: type[Any], name: str) -> type[Blocking[Any]]:
    """A blocking twin of ``async_cls`` built at run time (for a user's own generator; the shipped twins are
    written out so that type checkers read them)."""
    namespace: dict[str, Any] = {
        "async_class": async_cls,
        "__doc__": f"Blocking version of :class:`{async_cls.__name__}` (same methods, no ``await``).\n\n"
        + (async_cls.__doc__ or ""),
        "__module__": async_cls.__module__,
    }
    methods: Mapping[str, Callable[..., Any]] = public_methods(async_cls)
    for attribute, member in methods.items():
        namespace[attribute] = blocking(member) if inspect.iscoroutinefunction(member) else passthrough(member)
    base = BlockingGenerator if issubclass(async_cls, BaseGenerator) else Blocking
    return type(name, (base,), namespace)
