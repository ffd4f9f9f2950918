"""Safety screening: a lexicon/regex first pass (:class:`SafetyFilter`) and an LLM guard (:class:`LlmGuardFilter`).

The lexicons are compact, hand-written and English-only: a cheap *first-pass screen* that flags text for a closer
look (an LLM guard, a human), not a classifier. They favour phrases over single ambiguous words ("kill the
process" and "shoot a photo" are not flagged), so they miss paraphrases; ``sexual_minors`` needs a sexual term
near a term for a minor.

:class:`LlmGuardFilter` asks any LLM client, with a Llama-Guard-style prompt over the S1–S14 taxonomy of
:data:`GUARD_CATEGORIES`, whether the last turn of a conversation is safe, and parses ``safe`` /
``unsafe\\nS1,S3``. Requests run concurrently through the client's engine (``query_many`` when the client has it);
a failed request or an unparseable answer is reported on its row (``guard_error``), never fatal.
"""

from __future__ import annotations

import asyncio
import re
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from curator_synth.clients.accept import as_async_client
from curator_synth.clients.base import AsyncLLMClient, LLMClient
from curator_synth.clients.bulk import QueryRequest, QueryResult
from curator_synth.errors import ConfigError, CuratorSynthError, ResponseParseError
from curator_synth.filters.base import DocumentFilter, Verdict, register_filter
from curator_synth.filters.steps import FilterStep
from curator_synth.redact import redact

__all__ = [
    "GUARD_CATEGORIES",
    "SAFETY_CATEGORIES",
    "GuardVerdict",
    "LlmGuardFilter",
    "SafetyFilter",
    "build_guard_messages",
    "parse_guard_output",
    "safety_flags",
    "safety_frame",
]


_MINOR = r"(?:child(?:ren)?|kids?|minors?|underage|preteens?|(?:1[0-7]|[1-9])[- ]years?[- ]old|school(?:girl|boy)s?)"


def _lexicon(*phrases: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(phrases) + r")\b", re.IGNORECASE)


#: Category -> pattern of the lexicon. Every match is a reason; see the module docstring for the limits.
SAFETY_CATEGORIES: dict[str, re.Pattern[str]] = {
    "violence": _lexicon(
        r"(?:kill|murder|stab|strangle|behead|torture|massacre|slaughter)(?:ed|ing|s)? (?:him|her|them|you|people|"
        r"my|his|their|the (?:man|woman|family|children|kids))",
        r"how (?:to|do i|can i) (?:kill|murder|hurt|poison|kidnap|assault) (?:a |an |my |the )?(?:person|people|"
        r"someone|somebody|him|her|them|man|woman|child|kid|wife|husband|neighbou?r|boss|teacher)",
        r"mass (?:shooting|murder|killing)s?",
        r"beat (?:him|her|them|you) (?:up|to death)",
        r"(?:terrorist|terror) attacks?",
        r"(?:school|church|mall) shooting",
    ),
    "self_harm": _lexicon(
        r"(?:kill|hurt|harm|cut) (?:myself|yourself|themselves|himself|herself)",
        r"(?:commit|committing|attempt(?:ed)?) suicide",
        r"suicid(?:e|al) (?:method|note|plan|thought)s?",
        r"end (?:my|your) (?:own )?life",
        r"self[- ]harm(?:ing)?",
        r"want to die",
        r"overdose on",
    ),
    "sexual_minors": _lexicon(
        r"child (?:porn(?:ography)?|sexual abuse material|sex)",
        r"csam",
        r"lolicon|shotacon",
        r"(?:sex(?! ?ed)|sexual|nude|naked|porn(?:ographic)?|erotic|explicit)\W+(?:\w+\W+){0,6}?" + _MINOR,
        _MINOR + r"\W+(?:\w+\W+){0,6}?(?:sex(?! ?ed)|sexual(?:ly)?|nude|naked|porn(?:ographic)?|erotic)",
    ),
    "sexual": _lexicon(
        r"porn(?:ography|ographic)?",
        r"explicit sex(?:ual)? (?:scene|content|act)s?",
        r"(?:erotic|sexual) (?:story|roleplay|fantasy)",
        r"(?:having|have) sex with",
        r"nudes?|naked (?:photos?|pictures?|pics)",
    ),
    "hate": _lexicon(
        r"(?:all|those|these) (?:jews|muslims|blacks|gays|immigrants|women|christians|arabs|mexicans|asians) "
        r"(?:are|should) (?:be )?(?:animals|vermin|parasites|subhuman|inferior|evil|criminals|die|killed|"
        r"exterminated|deported|wiped out)",
        r"(?:inferior|subhuman|vermin) (?:race|people)",
        r"(?:ethnic|racial) cleansing",
        r"white (?:power|supremacy|genocide)",
        r"gas the \w+",
        r"go back to your (?:own )?country",
    ),
    "weapons": _lexicon(
        r"(?:build|make|assemble|3d[- ]print) (?:a |an )?"
        r"(?:bomb|pipe bomb|explosive|ied|gun|firearm|ghost gun|silencer)",
        r"(?:pipe|nail|car|dirty) bombs?",
        r"(?:nerve|chemical|biological) (?:agent|weapon)s?",
        r"sarin|ricin|vx gas|anthrax spores",
        r"convert (?:a |an )?(?:rifle|gun|ar-15) to (?:full[- ])?auto(?:matic)?",
        r"untraceable (?:gun|firearm|weapon)s?",
    ),
    "illegal_drugs": _lexicon(
        r"(?:cook|make|synthesi[sz]e|manufacture|produce) (?:meth|methamphetamine|crack|heroin|fentanyl|lsd|mdma)",
        r"(?:buy|sell|selling|buying|score) (?:cocaine|heroin|meth|fentanyl|crack|mdma|ecstasy|lsd)",
        r"drug (?:dealer|trafficking|smuggling)",
        r"(?:grow|growing) (?:weed|marijuana|cannabis) (?:illegally|indoors to sell)",
    ),
    "cybercrime": _lexicon(
        r"(?:write|create|build|deploy) (?:a |an )?(?:ransomware|keylogger|botnet|malware|computer virus|trojan)",
        r"(?:hack|break) into (?:someone'?s?|my (?:ex|boss|neighbou?r)'?s?|an?|the) \w+",
        r"steal (?:passwords|credit card (?:numbers|details)|credentials|identities)",
        r"phishing (?:email|page|site|kit)s?",
        r"ddos (?:attack|a website)",
    ),
}


def safety_flags(text: str, categories: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Category -> the matched phrases (lower-cased, first 5), for each category that matched."""
    if not isinstance(text, str) or not text:
        return {}
    flags: dict[str, list[str]] = {}
    for name in _check_categories(categories):
        found = [m.group(0).lower() for m in SAFETY_CATEGORIES[name].finditer(text)]
        if found:
            flags[name] = list(dict.fromkeys(found))[:5]
    return flags


def safety_frame(texts: pd.Series, categories: Iterable[str] | None = None) -> pd.DataFrame:
    """Per-category flags of a Series: a bool column ``safety_<category>`` per category and ``safety_reasons``
    (``"violence: kill him; weapons: pipe bomb"``, empty when nothing matched). Same index as ``texts``."""
    chosen = _check_categories(categories)
    strings = texts.astype("string").fillna("")
    out = pd.DataFrame(index=texts.index)
    reasons = [""] * len(texts)
    for name in chosen:
        pattern = SAFETY_CATEGORIES[name]
        hit = strings.str.contains(pattern, regex=True).fillna(False).to_numpy(dtype=bool)
        out[f"safety_{name}"] = hit
        for i in np.flatnonzero(hit):
            terms = list(dict.fromkeys(m.group(0).lower() for m in pattern.finditer(strings.iloc[i])))[:5]
            reasons[i] = f"{reasons[i]}; " * bool(reasons[i]) + f"{name}: {', '.join(terms)}"
    out["safety_reasons"] = reasons
    return out


def _check_categories(categories: Iterable[str] | None) -> tuple[str, ...]:
    if categories is None:
        return tuple(SAFETY_CATEGORIES)
    chosen = tuple(categories)
    unknown = sorted(set(chosen) - set(SAFETY_CATEGORIES))
    if unknown:
        raise ConfigError(f"unknown safety categories {unknown}; known: {', '.join(SAFETY_CATEGORIES)}")
    return chosen


@register_filter
class SafetyFilter(DocumentFilter):
    """Drops texts matching any of ``categories`` (default all of :data:`SAFETY_CATEGORIES`).

    The score is a bit mask of the flagged categories (bit i = ``categories[i]``, 0 = clean), so the drop
    reason names them: ``safety:violence+weapons``. :func:`safety_frame` gives one bool column per category.
    """

    name = "safety"

    def __init__(self, categories: Iterable[str] | None = None) -> None:
        super().__init__()
        self.categories = _check_categories(categories)

    def score_document(self, text: Any) -> int:
        flags = safety_flags(text if isinstance(text, str) else "", self.categories)
        return sum(1 << i for i, name in enumerate(self.categories) if name in flags)

    def score_batch(self, texts: pd.Series) -> pd.Series:
        frame = safety_frame(texts, self.categories)
        mask = np.zeros(len(texts), dtype="int64")
        for i, name in enumerate(self.categories):
            mask |= frame[f"safety_{name}"].to_numpy(dtype="int64") << i
        return pd.Series(mask, index=texts.index)

    def flagged(self, score: int) -> list[str]:
        """The category names of a score's bit mask."""
        return [name for i, name in enumerate(self.categories) if int(score) >> i & 1]

    def keep_document(self, score: Any) -> Verdict:
        return True if int(score) == 0 else (False, "+".join(self.flagged(score)))


# ------------------------------------------------------------------------------------------------ LLM guard
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


_DRY = threading.local()


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
        """Blocking :meth:`aclassify` (a blocking client's own ``query_many``, else ``asyncio.run``)."""
        series = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object)
        if isinstance(self.client, LLMClient):
            return self._frame(list(self.client.query_many(self._requests(series.tolist()))), series.index)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.aclassify(series))
        raise ConfigError("LlmGuardFilter.classify was called inside a running event loop: await aclassify()")

    # ----------------------------------------------------------------------------------------- dataset
    def _filters(self) -> bool:
        return self.drop_unsafe or self.on_error == "drop"

    def _run(
        self,
        part: pd.DataFrame,
        label: str,
        filters: bool,
        partition_info: dict[str, Any] | None = None,
        write: bool = True,
    ) -> pd.DataFrame:
        # write=False is the step working out the output's columns on Dask's fake rows: ask nothing then.
        _DRY.active = not write
        try:
            return super()._run(part, label, filters, partition_info, write)
        finally:
            _DRY.active = False

    def _evaluate(self, rows: pd.DataFrame) -> tuple[np.ndarray | None, pd.Series | None, dict[str, pd.Series]]:
        if self.text_field not in rows.columns:
            raise ConfigError(f"LlmGuardFilter: {self.text_field!r} not in the columns {list(rows.columns)}")
        if getattr(_DRY, "active", False):
            frame = self._frame([QueryResult(i, ["safe"]) for i in range(len(rows))], rows.index)
        else:
            frame = self.classify(rows[self.text_field])
        columns = {name: frame[name] for name in frame.columns}
        if not self._filters():
            return None, None, columns
        failed = frame["guard_error"].notna().to_numpy(dtype=bool)
        unsafe = (frame["guard_safe"] == False).fillna(False).to_numpy(dtype=bool)  # noqa: E712
        drop = (unsafe if self.drop_unsafe else np.zeros(len(rows), dtype=bool)) | (failed & (self.on_error == "drop"))
        reasons = np.where(failed, "error", frame["guard_categories"].fillna("").to_numpy(dtype=object))
        return ~drop, pd.Series(reasons[drop], dtype=object), columns
