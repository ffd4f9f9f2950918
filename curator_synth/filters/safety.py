"""Safety screening, first pass: lexicons and regexes (:class:`SafetyFilter`); the LLM guard that looks closer is
:class:`~curator_synth.filters.llm_guard.LlmGuardFilter`.

The lexicons are compact, hand-written and English-only: a cheap *first-pass screen* that flags text for a closer
look (an LLM guard, a human), not a classifier. They favour phrases over single ambiguous words ("kill the
process" and "shoot a photo" are not flagged), so they miss paraphrases; ``sexual_minors`` needs a sexual term
near a term for a minor.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from curator_synth.errors import ConfigError
from curator_synth.filters.base import DocumentFilter, register_filter

__all__ = [
    "SAFETY_CATEGORIES",
    "SafetyFilter",
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

    def keep_document(self, score: Any) -> bool:
        return int(score) == 0

    def reject_reason(self, score: Any) -> str | None:
        return None if int(score) == 0 else "+".join(self.flagged(score))
