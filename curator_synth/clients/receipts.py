"""Which journal namespace a request is recorded under (:class:`journal_namespace`), and the journaled answers an
item of work received (:func:`reject_unparsed`): if the item then fails to parse, they are marked unusable so the
next run asks them again instead of replaying them forever; and :func:`journaled`, which records an answer and
waits until it is on disk."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Iterator

from curator_synth.clients.journal import Journal
from curator_synth.clients.transport import HTTPRequest
from curator_synth.errors import ResponseParseError

__all__ = ["current_namespace", "journal_namespace", "journaled", "receipt", "reject_unparsed"]

#: The journal namespace of requests made in this context (e.g. "open_qa@1"); see :func:`journal_namespace`.
current_namespace: contextvars.ContextVar[str] = contextvars.ContextVar("curator_synth_namespace", default="")


#: The journaled answers received in this context, while :func:`reject_unparsed` records them (else None).
_receipts: contextvars.ContextVar[list[tuple[Journal, bytes]] | None] = contextvars.ContextVar(
    "curator_synth_receipts", default=None
)


@contextlib.contextmanager
def reject_unparsed() -> Iterator[None]:
    """Mark the journaled answers received inside the block as unusable if the block raises a
    :class:`ResponseParseError` (the answer could not be parsed or validated), so the next run asks them again
    (unless the client has ``reask_failed=False``: then the raw answers are re-parsed only). Use one block per
    item of work, inside the item's own task (``BaseGenerator.fan_out`` does)."""
    receipts: list[tuple[Journal, bytes]] = []
    token = _receipts.set(receipts)
    try:
        yield
    except ResponseParseError as error:
        for journal, key in receipts:
            journal.reject(key, type(error).__name__)
        raise
    finally:
        _receipts.reset(token)


def receipt(journal: Journal | None, key: bytes) -> None:
    receipts = _receipts.get()
    if receipts is not None and journal is not None:
        receipts.append((journal, key))


class journal_namespace:
    """Context manager: requests made inside are journaled under ``name`` (part of the journal key)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._token: contextvars.Token[str] | None = None

    def __enter__(self) -> str:
        self._token = current_namespace.set(self.name)
        return self.name

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            current_namespace.reset(self._token)


async def journaled(
    journal: Journal, key: bytes, namespace: str, request: HTTPRequest, body: bytes, endpoint: str
) -> None:
    """Record ``body`` and wait until the writer thread has committed it (raises :class:`JournalError` if not)."""
    loop = asyncio.get_running_loop()
    committed: asyncio.Future[BaseException | None] = loop.create_future()

    def resolve(error: BaseException | None) -> None:
        if not committed.done():
            committed.set_result(error)

    def notify(error: BaseException | None) -> None:  # in the writer thread
        loop.call_soon_threadsafe(resolve, error)

    journal.record(key, namespace, request.path, request.body, body, notify, endpoint=endpoint)
    if await committed is not None:
        journal.raise_failure()
