"""PII detection and redaction with validated regular expressions (no model, no network).

Kinds: ``email``, ``phone`` (international ``+CC ...`` and formatted US/NANP numbers), ``credit_card`` (13–19
digits passing the Luhn check, with a card-network first digit), ``ssn`` (US, ``AAA-GG-SSSS`` with the SSA's
invalid ranges excluded, or 9 digits right after "SSN"), ``ip_address`` (IPv4 and IPv6, validated by
:mod:`ipaddress`) and ``api_key`` (OpenAI ``sk-``, AWS ``AKIA``/``ASIA``, GitHub ``ghp_``..., Slack ``xox?-``,
Google ``AIza``, Hugging Face ``hf_``, NVIDIA ``nvapi-``, PEM private keys, and long hex/base64 values after
``key=`` / ``token=`` / ``secret:``...).

Precision over recall where they conflict: an unformatted 10-digit number, a price, a date or a version string is
not a phone number; a Luhn-invalid digit run is not a card. Overlapping matches keep the longer one (ties: the
kind listed first in :data:`PII_KINDS`).

- :func:`detect_pii` / :func:`redact_pii`: one text.
- :class:`PiiFilter`: score = number of PII matches; drops texts with more than ``max_matches`` (use it with
  ``Score`` to only count).
- :class:`RedactPii`: a dataset step writing a redacted copy of a text column, partition by partition.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from curator_synth.errors import ConfigError
from curator_synth.filters.base import DocumentFilter, register_filter
from curator_synth.filters.steps import FilterStep

__all__ = [
    "PII_KINDS",
    "PiiFilter",
    "PiiMatch",
    "RedactPii",
    "detect_pii",
    "luhn_valid",
    "redact_matches",
    "redact_pii",
    "redact_series",
]

#: Every kind :func:`detect_pii` reports, in priority order for overlapping matches.
PII_KINDS = ("api_key", "email", "credit_card", "ssn", "ip_address", "phone")


@dataclass(frozen=True)
class PiiMatch:
    """One PII span: ``text[start:end] == match.text``."""

    kind: str
    start: int
    end: int
    text: str


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) checksum of a string of digits, as card numbers carry it."""
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        d = int(char)
        if position % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# -------------------------------------------------------------------------------------------- patterns
_EMAIL = re.compile(r"(?<![\w.+%-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}\b")
# Digit groups joined by single spaces or hyphens (the same separator is checked later).
_CARD = re.compile(r"(?<![\w.,$€£-])\d(?:[ -]?\d){12,18}(?![\w-]|[.,]\d)")
_SSN = re.compile(r"(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])")
_SSN_LABELLED = re.compile(
    r"\b(?:ssn|social security(?: number| no\.?)?)\s*(?:#|:|is)?\s*"
    r"((?!000|666|9\d\d)\d{3}\s?(?!00)\d{2}\s?(?!0000)\d{4})\b",
    re.IGNORECASE,
)
_IPV4 = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)"
)
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])")
# NANP: (NXX) NXX-XXXX with separators or parentheses, optional +1 / 1 prefix; not after a currency sign.
_PHONE_US = re.compile(
    r"(?<![\w$€£+.-])(?:\+?1[ .-]?)?(?:\([2-9]\d{2}\)\s?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}(?![\w-]|[.,]\d)"
)
# International: +CC then 2-6 groups of digits (E.164: 8 to 15 digits in all).
_PHONE_INTL = re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){2,6}(?![\w-]|[.,]\d)")
_KEY_PATTERNS = [
    re.compile(r"\bsk-(?:proj-|ant-(?:api\d\d-)?|live_|test_)?[A-Za-z0-9_-]{20,}"),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}\b|\bgithub_pat_[A-Za-z0-9_]{22,}"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"),
    re.compile(r"\bnvapi-[A-Za-z0-9_-]{20,}"),
    re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----[\s\S]*?-----END (?:[A-Z]+ )?PRIVATE KEY-----"),
]
# key=VALUE / "token": "VALUE" / secret: VALUE — the value alone is the match.
_KEY_ASSIGNED = re.compile(
    r"(?i)\b[\w-]*(?:api[_-]?key|secret|token|access[_-]?key|auth|password|passwd|credential)s?[\"']?\s*[:=]\s*"
    r"[\"']?([A-Za-z0-9_\-+/.=]{16,})"
)
# Rows that cannot hold any PII (no @, digit or colon) are skipped in batches.
_MAYBE_PII = r"[@\d:]|sk-|xox|-----BEGIN"


def _assigned_value_is_secret(value: str) -> bool:
    if re.fullmatch(r"[0-9a-fA-F]{16,}", value):
        return True
    core = value.rstrip("=")
    return len(core) >= 20 and bool(re.search(r"\d", core)) and bool(re.search(r"[A-Za-z]", core))


def _find_cards(text: str) -> Iterable[tuple[int, int]]:
    for m in _CARD.finditer(text):
        raw = m.group(0)
        separators = set(re.findall(r"[ -]", raw))
        digits = re.sub(r"[ -]", "", raw)
        if len(separators) > 1 or not 13 <= len(digits) <= 19 or digits[0] not in "23456":
            continue
        if luhn_valid(digits):
            yield m.start(), m.end()


def _find_ips(text: str) -> Iterable[tuple[int, int]]:
    for m in _IPV4.finditer(text):
        yield m.start(), m.end()
    for m in _IPV6.finditer(text):
        candidate = m.group(0)
        if sum(c.isalnum() for c in candidate) < 3:
            continue
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        yield m.start(), m.end()


def _find_phones(text: str) -> Iterable[tuple[int, int]]:
    for m in _PHONE_US.finditer(text):
        yield m.start(), m.end()
    for m in _PHONE_INTL.finditer(text):
        if 8 <= sum(c.isdigit() for c in m.group(0)) <= 15:
            yield m.start(), m.end()


def _find_keys(text: str) -> Iterable[tuple[int, int]]:
    for pattern in _KEY_PATTERNS:
        for m in pattern.finditer(text):
            yield m.start(), m.end()
    for m in _KEY_ASSIGNED.finditer(text):
        if _assigned_value_is_secret(m.group(1)):
            yield m.start(1), m.end(1)


def _spans(pattern: re.Pattern[str], group: int = 0) -> Callable[[str], Iterable[tuple[int, int]]]:
    return lambda text: ((m.start(group), m.end(group)) for m in pattern.finditer(text))


def _find_ssns(text: str) -> Iterable[tuple[int, int]]:
    yield from _spans(_SSN)(text)
    yield from _spans(_SSN_LABELLED, 1)(text)


_FINDERS: dict[str, Callable[[str], Iterable[tuple[int, int]]]] = {
    "api_key": _find_keys,
    "email": _spans(_EMAIL),
    "credit_card": _find_cards,
    "ssn": _find_ssns,
    "ip_address": _find_ips,
    "phone": _find_phones,
}


def _check_kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    if kinds is None:
        return PII_KINDS
    chosen = tuple(kinds)
    unknown = sorted(set(chosen) - set(PII_KINDS))
    if unknown:
        raise ConfigError(f"unknown PII kind(s) {unknown}; known: {', '.join(PII_KINDS)}")
    return tuple(k for k in PII_KINDS if k in chosen)


def detect_pii(text: str, kinds: Iterable[str] | None = None) -> list[PiiMatch]:
    """The PII spans of ``text`` in order, without overlaps (``kinds``: a subset of :data:`PII_KINDS`)."""
    if not isinstance(text, str) or not text:
        return []
    candidates: list[tuple[int, int, int, str]] = []  # (start, -length, priority, kind)
    for priority, kind in enumerate(_check_kinds(kinds)):
        for start, end in _FINDERS[kind](text):
            candidates.append((start, start - end, priority, kind))
    # Longest first, then priority; a candidate overlapping an accepted span is dropped.
    accepted: list[tuple[int, int, str]] = []
    for start, neg_len, _, kind in sorted(candidates, key=lambda c: (c[1], c[2], c[0])):
        end = start - neg_len
        if all(end <= s or start >= e for s, e, _ in accepted):
            accepted.append((start, end, kind))
    return [PiiMatch(kind, s, e, text[s:e]) for s, e, kind in sorted(accepted)]


def redact_pii(text: str, replacement: str = "[{kind}]", kinds: Iterable[str] | None = None) -> str:
    """``text`` with every PII span replaced by ``replacement.format(kind=...)`` (e.g. ``[email]``)."""
    return redact_matches(text, detect_pii(text, kinds), replacement)


def redact_matches(text: str, matches: Sequence[PiiMatch], replacement: str = "[{kind}]") -> str:
    """``text`` with the given spans (from :func:`detect_pii`, in order) replaced by ``replacement``."""
    if not matches:
        return text
    pieces: list[str] = []
    position = 0
    for m in matches:
        pieces.append(text[position : m.start])
        pieces.append(replacement.format(kind=m.kind))
        position = m.end
    pieces.append(text[position:])
    return "".join(pieces)


def _maybe_pii(texts: pd.Series) -> np.ndarray:
    """Rows that may hold PII; the others are skipped by the batch functions (a vectorised pre-check)."""
    strings = texts.astype("string")
    return strings.str.contains(_MAYBE_PII, regex=True).fillna(False).to_numpy(dtype=bool)


@register_filter
class PiiFilter(DocumentFilter):
    """Score = number of PII matches (of ``kinds``); keeps texts with at most ``max_matches`` of them.

    ``ScoreFilter(PiiFilter(), text_field="response", score_field="pii_count")`` drops texts with PII;
    ``Score(PiiFilter(), score_field="pii_count", text_field="response")`` only counts.
    """

    name = "pii"

    def __init__(self, kinds: Iterable[str] | None = None, max_matches: int = 0) -> None:
        super().__init__()
        self.kinds = _check_kinds(kinds)
        if max_matches < 0:
            raise ConfigError(f"PiiFilter: max_matches must be >= 0, got {max_matches}")
        self.max_matches = max_matches

    def score_document(self, text: Any) -> int:
        return len(detect_pii(text if isinstance(text, str) else "", self.kinds))

    def score_batch(self, texts: pd.Series) -> pd.Series:
        counts = np.zeros(len(texts), dtype="int64")
        maybe = _maybe_pii(texts)
        values = texts.to_numpy(dtype=object)
        for i in np.flatnonzero(maybe):
            counts[i] = self.score_document(values[i])
        return pd.Series(counts, index=texts.index)

    def keep_document(self, score: Any) -> bool:
        return int(score) <= self.max_matches

    def reject_reason(self, score: Any) -> str | None:
        return None if self.keep_document(score) else "has_pii"

    def keep_batch(self, scores: pd.Series) -> pd.Series:
        return pd.Series(scores.to_numpy() <= self.max_matches, index=scores.index, dtype=bool)

    def reason_batch(self, scores: pd.Series) -> pd.Series:
        return pd.Series(["has_pii"] * len(scores), index=scores.index, dtype=object)


def redact_series(
    texts: pd.Series,
    replacement: str = "[{kind}]",
    kinds: Iterable[str] | None = None,
    counts: Counter[str] | None = None,
) -> pd.Series:
    """:func:`redact_pii` over a pandas Series (rows that cannot hold PII are copied as they are); the spans
    replaced are counted by kind into ``counts`` when given."""
    chosen = _check_kinds(kinds)
    values = texts.to_numpy(dtype=object).copy()
    for i in np.flatnonzero(_maybe_pii(texts)):
        matches = detect_pii(values[i], chosen)
        if counts is not None:
            counts.update(match.kind for match in matches)
        values[i] = redact_matches(values[i], matches, replacement)
    return pd.Series(values, index=texts.index, name=texts.name, dtype=object)


class RedactPii(FilterStep):
    """A dataset step: ``output_field`` = ``text_field`` with PII redacted (default ``<text_field>_redacted``).

    ``RedactPii("response")(dataset)`` runs partition by partition (and only on rows still kept when applied
    to a filtered dataset); nothing is dropped.
    """

    def __init__(
        self,
        text_field: str = "text",
        output_field: str | None = None,
        replacement: str = "[{kind}]",
        kinds: Iterable[str] | None = None,
    ) -> None:
        self.text_field = text_field
        self.output_field = output_field or f"{text_field}_redacted"
        self.replacement = replacement
        self.kinds = _check_kinds(kinds)
        self.label = "redact_pii"

    def _filters(self) -> bool:
        return False

    def _evaluate(self, rows: pd.DataFrame) -> tuple[np.ndarray | None, pd.Series | None, dict[str, pd.Series]]:
        if self.text_field not in rows.columns:
            raise ConfigError(f"RedactPii: text field {self.text_field!r} not in the columns {list(rows.columns)}")
        texts = rows[self.text_field]
        redacted = redact_series(texts.where(texts.notna(), ""), self.replacement, self.kinds)
        return None, None, {self.output_field: redacted.where(texts.notna(), None)}
