"""What an endpoint can do, found before paying for a stage: ``curator-synth check`` and the run's pre-flight.

- :func:`preflight` (automatic before a recipe's first LLM stage; costs no generation): lists the models
  (``GET /models``); warns when the recipe's model is not among them (llama.cpp answers any name, so a typo
  would go unnoticed); reads the context length where the listing gives it (vLLM's ``max_model_len``). A wrong
  URL or key fails here in seconds: a refused connection is transient (re-run when the endpoint is up), a 401 is
  not.
- :func:`probe` (``curator-synth check``): the pre-flight, then one tiny request (latency), and whether the
  endpoint honours ``n > 1``, ``response_format`` of type ``json_schema`` and ``json_object`` with a schema, and
  ``logprobs``. A few requests of one token each.

The result, :class:`Capabilities`, is printed as a table and kept in the run directory (``capabilities.json``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curator_synth._files import atomic_write
from curator_synth.clients.openai import AsyncOpenAIClient
from curator_synth.clients.sync import run_sync
from curator_synth.errors import APIStatusError, BadRequestError, CuratorSynthError, NotFoundError

if TYPE_CHECKING:
    from curator_synth.clients.factory import ClientSpec

__all__ = ["FILE", "Capabilities", "examine", "preflight", "probe"]

FILE = "capabilities.json"
#: Keys of a model listing entry that give its context length (vLLM, OpenRouter, others).
_CONTEXT_KEYS = ("max_model_len", "context_length", "context_window", "max_context_length")
_ATTEMPTS = 3  # of the listing, when it fails transiently (1 s, then 2 s apart)
_TINY = [{"role": "user", "content": "Say OK."}]
_SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}


@dataclass
class Capabilities:
    """What was found (None: not tried, or the endpoint did not say)."""

    endpoint: str
    model: str
    models: list[str] | None = None  # the listing's model ids (None: the endpoint has no listing)
    context_length: int | None = None
    latency: float | None = None  # seconds of the tiny request
    n: bool | None = None
    json_schema: bool | None = None
    json_object: bool | None = None
    logprobs: bool | None = None
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    def save(self, directory: Path) -> Path:
        text = self.to_json()
        return atomic_write(directory / FILE, lambda temp: temp.write_text(text))

    @classmethod
    def load(cls, directory: Path) -> Capabilities | None:
        try:
            data = json.loads((directory / FILE).read_text())
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None

    def table(self) -> str:
        """A two-column table for the terminal."""

        def shown(value: Any) -> str:
            return {None: "?", True: "yes", False: "no"}.get(value, str(value)) if not isinstance(value, list) else (
                ", ".join(value[:8]) + (f" (+{len(value) - 8})" if len(value) > 8 else "")
            )  # fmt: skip

        rows = [
            ("endpoint", self.endpoint), ("model", self.model), ("models listed", shown(self.models)),
            ("context length", shown(self.context_length)),
            ("latency", f"{self.latency:.2f} s" if self.latency is not None else "?"),
            ("n > 1", shown(self.n)), ("response_format json_schema", shown(self.json_schema)),
            ("response_format json_object + schema", shown(self.json_object)), ("logprobs", shown(self.logprobs)),
        ]  # fmt: skip
        width = max(len(name) for name, _ in rows)
        lines = [f"{name:<{width}}  {value}" for name, value in rows]
        return "\n".join(lines + [f"warning: {warning}" for warning in self.warnings])


async def preflight(client: AsyncOpenAIClient, model: str) -> Capabilities:
    """The model listing: known models, the model's context length, a warning for a name it does not list."""
    found = Capabilities(endpoint=client.endpoint, model=model)
    try:
        listing = await _listing(client)
    except (NotFoundError, BadRequestError):  # no listing here (some gateways): nothing to check against
        found.warnings.append("the endpoint has no model listing (GET /models): the model name is not checked")
        return found
    except APIStatusError as error:
        if error.status_code == 405:
            return found
        raise
    entries = [entry for entry in listing.get("data", []) if isinstance(entry, dict) and "id" in entry]
    found.models = [str(entry["id"]) for entry in entries]
    mine = next((entry for entry in entries if entry["id"] == model), None)
    if mine is None and found.models:
        found.warnings.append(
            f"the endpoint lists {', '.join(found.models[:5])}{' ...' if len(found.models) > 5 else ''}, not {model!r}:"
            " check the model name (some servers answer any name)"
        )
    if mine is None and len(entries) == 1:  # a server of one model answering any name serves that one
        mine = entries[0]
    for key in _CONTEXT_KEYS:
        value = (mine or {}).get(key)
        if isinstance(value, int) and value > 0:
            found.context_length = value
            break
    if found.context_length is None:
        found.context_length = await _served_context(client)
    return found


async def _listing(client: AsyncOpenAIClient) -> dict[str, Any]:
    for attempt in range(_ATTEMPTS):
        try:
            return await client.get_json("models")
        except CuratorSynthError as error:
            if not error.retryable or attempt == _ATTEMPTS - 1:
                raise
            await asyncio.sleep(2.0**attempt)
    raise AssertionError("unreachable")


async def _served_context(client: AsyncOpenAIClient) -> int | None:
    """llama.cpp's own server says its context in ``GET /props`` (beside ``/v1``); other servers have no such
    document (None)."""
    try:
        props = await client.get_json("../props")
    except CuratorSynthError:
        return None
    settings = props.get("default_generation_settings")
    value = settings.get("n_ctx") if isinstance(settings, dict) else props.get("n_ctx")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


async def probe(client: AsyncOpenAIClient, model: str) -> Capabilities:
    """:func:`preflight`, then one tiny request and the feature probes (see the module)."""
    found = await preflight(client, model)
    started = time.perf_counter()
    await client.query_model(messages=_TINY, model=model, max_tokens=1)  # a wrong model or key fails here
    found.latency = round(time.perf_counter() - started, 3)
    found.n = await _supported(client, model, n=2)
    found.json_schema = await _supported(
        client, model, response_format={"type": "json_schema", "json_schema": {"name": "ok", "schema": _SCHEMA}}
    )
    found.json_object = await _supported(client, model, response_format={"type": "json_object", "schema": _SCHEMA})
    found.logprobs = await _supported(client, model, logprobs=True, top_logprobs=1)
    if found.context_length is None:
        found.context_length = client.capabilities.get("context_length")
    return found


async def _supported(client: AsyncOpenAIClient, model: str, **options: Any) -> bool | None:
    """Whether a one-token request with ``options`` is answered as asked (None: it failed for another reason)."""
    n = options.pop("n", 1)
    try:
        if n > 1:
            await client.query_model(messages=_TINY, model=model, max_tokens=1, n=n)
            return client.capabilities.get("n", True) is not False
        payload = await client.raw_completion(messages=_TINY, model=model, max_tokens=1, **options)
    except BadRequestError:
        return False
    except CuratorSynthError:
        return None
    if "logprobs" in options:
        choices = payload.get("choices") or [{}]
        return bool(isinstance(choices[0], dict) and choices[0].get("logprobs"))
    return True


def examine(
    spec: ClientSpec, model: str, how: Callable[[AsyncOpenAIClient, str], Awaitable[Capabilities]] | None = None
) -> Capabilities | None:
    """Build ``spec``'s client and run ``how`` (default :func:`preflight`; :func:`probe` for the whole check) on
    it, blocking; None when the spec's kind is not an OpenAI-compatible endpoint (nothing to examine, nothing
    built). Failures are raised typed, as the client raises them."""
    from curator_synth.clients.factory import CLIENTS

    factory = CLIENTS.get(spec.kind)
    if not (isinstance(factory, type) and issubclass(factory, AsyncOpenAIClient)):
        return None
    client = spec.build()
    assert isinstance(client, AsyncOpenAIClient)
    run = how or preflight

    async def examined() -> Capabilities:
        async with client:
            return await run(client, model)

    return run_sync(examined())
