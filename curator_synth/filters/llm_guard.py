"""The LLM guard: :class:`LlmGuardFilter` asks any LLM client, with a Llama-Guard-style prompt over the S1–S14
taxonomy of :data:`GUARD_CATEGORIES`, whether the last turn of a conversation is safe, and parses ``safe`` /
``unsafe\\nS1,S3``. Requests run concurrently through the client's engine (the client contract's
``query_many``); a failed request or an unparseable answer is reported on its row (``guard_error``), never fatal.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from curator_synth.clients.accept import as_async_client
from curator_synth.clients.base import AsyncLLMClient, LLMClient
from curator_synth.clients.bulk import QueryRequest, QueryResult
from curator_synth.clients.sync import run_sync
from curator_synth.errors import ConfigError, CuratorSynthError, ResponseParseError
from curator_synth.filters.steps import FilterStep
from curator_synth.redact import redact

__all__ = ["GUARD_CATEGORIES", "GuardVerdict", "LlmGuardFilter", "build_guard_messages", "parse_guard_output"]


#: The guard taxonomy (Llama Guard style codes, descriptions in our words).
GUARD_CATEGORIES: dict[str, str] = {
    "S1": "Violent crimes: helping plan, carry out or glorify violence against people or animals.",
    "S2": "Non-violent crimes: fraud, theft, scams, hacking, trafficking of goods, other illegal acts.",
    "S3": "Sex crimes: sexual assault, harassment, trafficking of people for sex.",
    "S4": "Sexual content involving minors, of any kind.",
    "S5": "Defamation: false statements of fact that damage a real person's reputation.",
    "S6": "Dangerous specialised advice: medical, legal or financial advice that could cause serious harm.",
    "S7": "Privacy: revealing or seeking private personal information about real people.",
    "S8": "Intellectual property: reproducing or helping infringe copyrighted or protected work.",
    "S9": "Indiscriminate weapons: chemical, biological, radiological, nuclear weapons or explosives.",
    "S10": "Hate: demeaning or attacking people for protected characteristics.",
    "S11": "Suicide and self-harm: encouraging or enabling self-injury, suicide or eating disorders.",
    "S12": "Sexual content: explicit sexual descriptions or services.",
    "S13": "Elections: false information about how, when or where to vote.",
    "S14": "Code interpreter abuse: code meant to escape sandboxes, exploit systems or deny service.",
}

_GUARD_PROMPT = """You are a safety classifier. Read the conversation and decide whether the last {role} message \
is unsafe under the policy below.

<POLICY>
{policy}
</POLICY>

<CONVERSATION>
{conversation}
</CONVERSATION>

Assess only the last {role} message. Answer with exactly one line "safe", or with "unsafe" on the first line and \
the codes of the violated categories, comma-separated, on the second line (for example "unsafe\\nS1,S9"). \
Write nothing else."""


def build_guard_messages(
    conversation: str | Sequence[Mapping[str, Any]], categories: Mapping[str, str] = GUARD_CATEGORIES
) -> list[dict[str, str]]:
    """The one-user-message chat that asks a model to classify ``conversation`` (a text is one user turn).

    The last turn is assessed: as ``User`` if it is a user message, else as ``Agent``.
    """
    turns = [{"role": "user", "content": conversation}] if isinstance(conversation, str) else list(conversation)
    if not turns:
        raise ConfigError("build_guard_messages: the conversation is empty")
    lines = []
    for turn in turns:
        speaker = "User" if turn.get("role") == "user" else "Agent" if turn.get("role") == "assistant" else None
        if speaker is not None:
            lines.append(f"{speaker}: {turn.get('content') or ''}")
    role = "User" if turns[-1].get("role") == "user" else "Agent"
    policy = "\n".join(f"{code}: {text}" for code, text in categories.items())
    prompt = _GUARD_PROMPT.format(role=role, policy=policy, conversation="\n\n".join(lines))
    return [{"role": "user", "content": prompt}]


@dataclass(frozen=True)
class GuardVerdict:
    """A parsed guard answer: ``safe``, and the violated category codes when unsafe."""

    safe: bool
    categories: tuple[str, ...] = ()


def parse_guard_output(text: str, categories: Mapping[str, str] = GUARD_CATEGORIES) -> GuardVerdict:
    """Parse ``safe`` / ``unsafe\\nS1,S3`` (also ``unsafe S1, S3``, any case, markdown emphasis ignored).

    Raises :class:`~curator_synth.errors.ResponseParseError` (``.raw`` = the answer) for anything else,
    including unknown category codes.
    """
    cleaned = re.sub(r"[*`_#>]", " ", text or "").strip()
    words = re.split(r"[\s,;:.]+", cleaned)
    words = [w for w in words if w]
    if not words:
        raise ResponseParseError("guard answer is empty", raw=text)
    head = words[0].lower()
    if head == "safe" and len(words) == 1:
        return GuardVerdict(True)
    if head != "unsafe":
        raise ResponseParseError(f"guard answer is neither 'safe' nor 'unsafe': {redact(text)[:80]!r}", raw=text)
    codes = [w.upper() for w in words[1:]]
    unknown = [c for c in codes if c not in categories]
    if unknown:
        raise ResponseParseError(f"guard answer names unknown categories {unknown}", raw=text)
    return GuardVerdict(False, tuple(dict.fromkeys(codes)))


class LlmGuardFilter(FilterStep):
    """Classify a text (or conversation) column with an LLM guard; with ``drop_unsafe`` drop unsafe rows.

    Adds ``guard_safe`` (boolean, missing when the request failed), ``guard_categories`` (``"S1,S9"``) and
    ``guard_error`` (the error's type and message, missing when it worked). Rows whose request failed are
    kept, or dropped with reason ``error`` if ``on_error="drop"``. Unsafe rows are dropped with the codes as
    reason (``llm_guard:S1,S9``). ``classify`` / ``aclassify`` do the same on a pandas Series.
    """

    def __init__(
        self,
        client: AsyncLLMClient | LLMClient,
        model: str,
        text_field: str = "text",
        *,
        drop_unsafe: bool = True,
        on_error: str = "keep",
        max_tokens: int = 16,
        categories: Mapping[str, str] = GUARD_CATEGORIES,
    ) -> None:
        if on_error not in ("keep", "drop"):
            raise ConfigError(f"LlmGuardFilter: on_error must be 'keep' or 'drop', got {on_error!r}")
        self.client = client
        self.model = model
        self.text_field = text_field
        self.drop_unsafe = drop_unsafe
        self.on_error = on_error
        self.max_tokens = max_tokens
        self.categories = dict(categories)
        self.label = "llm_guard"
        self._token = uuid.uuid4().hex

    def __dask_tokenize__(self) -> tuple[str, str]:
        # A client holds threads and sockets, so Dask cannot hash it: one token per filter instance.
        return type(self).__name__, self._token

    # ------------------------------------------------------------------------------------------ series
    def _requests(self, texts: Sequence[Any]) -> Iterable[QueryRequest]:
        for text in texts:
            conversation = text if isinstance(text, (list, tuple)) else ("" if text is None else str(text))
            messages = build_guard_messages(conversation, self.categories)
            yield QueryRequest(messages, self.model, max_tokens=self.max_tokens, temperature=0.0)

    def _frame(self, results: Sequence[QueryResult[Any]], index: pd.Index) -> pd.DataFrame:
        safe: list[bool | None] = [None] * len(results)
        codes: list[str | None] = [None] * len(results)
        errors: list[str | None] = [None] * len(results)
        for result in results:
            i = result.index
            try:
                if result.error is not None:
                    raise result.error
                verdict = parse_guard_output((result.value or [""])[0], self.categories)
            except CuratorSynthError as error:
                errors[i] = f"{type(error).__name__}: {error}"
                continue
            safe[i] = verdict.safe
            codes[i] = ",".join(verdict.categories)
        return pd.DataFrame(
            {
                "guard_safe": pd.array(safe, dtype="boolean"),
                "guard_categories": pd.array(codes, dtype="string"),
                "guard_error": pd.array(errors, dtype="string"),
            },
            index=index,
        )

    async def aclassify(self, texts: pd.Series | Sequence[Any]) -> pd.DataFrame:
        """Classify every item concurrently (on the running event loop); one row per item, same index."""
        series = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object)
        client = as_async_client(self.client)
        requests = self._requests(series.tolist())
        results = [result async for result in client.query_many(requests, ordered=True)]
        return self._frame(results, series.index)

    def classify(self, texts: pd.Series | Sequence[Any]) -> pd.DataFrame:
        """Blocking :meth:`aclassify`, run on the sync clients' loop thread (a blocking client's own engine)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return run_sync(self.aclassify(texts))
        raise ConfigError("LlmGuardFilter.classify was called inside a running event loop: await aclassify()")

    # ----------------------------------------------------------------------------------------- dataset
    def _filters(self) -> bool:
        return self.drop_unsafe or self.on_error == "drop"

    def _evaluate_trial(self, rows: pd.DataFrame) -> tuple[np.ndarray | None, pd.Series | None, dict[str, pd.Series]]:
        # Dask's trial run on fake rows, to learn the output's columns: every row "safe", nothing asked.
        return self._decide(rows, self._frame([QueryResult(i, ["safe"]) for i in range(len(rows))], rows.index))

    def _evaluate(self, rows: pd.DataFrame) -> tuple[np.ndarray | None, pd.Series | None, dict[str, pd.Series]]:
        if self.text_field not in rows.columns:
            raise ConfigError(f"LlmGuardFilter: {self.text_field!r} not in the columns {list(rows.columns)}")
        return self._decide(rows, self.classify(rows[self.text_field]))

    def _decide(
        self, rows: pd.DataFrame, frame: pd.DataFrame
    ) -> tuple[np.ndarray | None, pd.Series | None, dict[str, pd.Series]]:
        columns = {name: frame[name] for name in frame.columns}
        if not self._filters():
            return None, None, columns
        failed = frame["guard_error"].notna().to_numpy(dtype=bool)
        unsafe = (frame["guard_safe"] == False).fillna(False).to_numpy(dtype=bool)  # noqa: E712
        drop = (unsafe if self.drop_unsafe else np.zeros(len(rows), dtype=bool)) | (failed & (self.on_error == "drop"))
        reasons = np.where(failed, "error", frame["guard_categories"].fillna("").to_numpy(dtype=object))
        return ~drop, pd.Series(reasons[drop], dtype=object), columns
