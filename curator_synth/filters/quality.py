"""Offline quality heuristic for instruction–response pairs: no LLM, no network, a few µs–ms per pair.

:func:`quality_score` maps a pair to ``0..1`` (higher is better) from general signals of bad answers, each
documented in :class:`QualitySignals` and in ``docs/quality_score.md``: empty or refusing answers, answers
cut off mid-sentence, loops (repeated lines / n-grams, text that compresses far too well), prompt-template
leakage (``Input:`` / ``Output:`` / ``Question:`` lines a base model writes when it continues a few-shot
pattern), echoing the instruction, degenerate characters, runaway lists, a length far off what the
instruction asks, missing a requested list or number, and little topical overlap with the instruction.

The signals are combined by a logistic model whose weights (:data:`DEFAULT_WEIGHTS`) were fitted on half of
the Self-Instruct user-oriented instructions and checked on the other half (``benchmarks/quality_score.py``).
"""

from __future__ import annotations

import math
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from curator_synth.errors import ConfigError
from curator_synth.filters.base import PairFilter, register_filter

__all__ = [
    "DEFAULT_BIAS",
    "DEFAULT_WEIGHTS",
    "QualityFilter",
    "QualitySignals",
    "combine_signals",
    "quality_score",
    "quality_scores",
    "quality_signals",
]

_WORD = re.compile(r"\w+", re.UNICODE)
_STOPWORDS = frozenset(
    """a an the and or but if then else of to in on at by for with from as is are was were be been being it its
    this that these those there here what which who whom whose when where why how do does did done can could
    should would will shall may might must have has had having i you he she we they me him her us them my your
    our their his not no yes so than too very just also any some all each every more most other such into
    about over under up down out only own same few both give given write following make use using please""".split()  # noqa: SIM905
)
# A line a base model writes when it continues a few-shot prompt instead of answering it.
_TEMPLATE_LINE = re.compile(
    r"^\s*(?:#+\s*)?(?:input|output|instruction|question|answer|q|a|user|assistant|human|ai|response|example|"
    r"task|context|query)\s*(?:\d+\s*)?:",
    re.IGNORECASE | re.MULTILINE,
)
_REFUSAL = re.compile(
    r"\b(?:i(?:'m| am) (?:sorry|afraid|unable|not able)|i (?:cannot|can't|can not|won't|will not) "
    r"(?:help|assist|provide|do|answer|comply|complete|create|write|generate)|as an ai(?: language model)?|"
    r"i do not have (?:access|the ability)|i don't have (?:access|the ability)|unfortunately,? i (?:cannot|can't)|"
    r"it is not (?:possible|appropriate) for me)\b",
    re.IGNORECASE,
)
_TERMINAL = set(".!?。！？)]}\"'`»”’*>|;")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•+]|\d{1,3}[.)]|[a-zA-Z][.)])\s+\S", re.MULTILINE)
_ASKS_LIST = re.compile(
    r"\b(?:list|lists|enumerate|bullet|bullets|bullet points|steps|ideas|examples|suggestions|tips|options|"
    r"names|items|ways|reasons|several|some|\d+|two|three|four|five|six|seven|eight|nine|ten)\b",
    re.IGNORECASE,
)
_ASKS_NUMBER = re.compile(
    r"\b(?:how many|how much|calculate|compute|what is the (?:sum|total|average|product|result)|solve|"
    r"estimate|count)\b",
    re.IGNORECASE,
)
_ASKS_SHORT = re.compile(
    r"\b(?:one word|a word|single word|one sentence|a sentence|briefly|short answer|in short|yes or no|true or false|"
    r"classify|categorize|which (?:one|of)|choose|select|pick|label|identify the)\b",
    re.IGNORECASE,
)
_ASKS_LONG = re.compile(
    r"\b(?:essay|article|story|blog|post|letter|email|poem|guide|tutorial|plan|report|detailed|explain|describe|"
    r"outline|code|program|script|function|summary|summarize|introduction|proposal|script|lyrics|speech)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class QualitySignals:
    """Per-signal badness of a response, each in ``0..1`` (0 = no sign of the problem).

    - ``empty``: no letters, digits or emoji at all.
    - ``refusal``: an apology/refusal pattern ("I'm sorry, but I cannot", "As an AI language model").
    - ``truncation``: the last line ends mid-sentence (no terminal punctuation after a long line, or a
      trailing ``,`` ``:`` ``-`` / open bracket) — the answer was cut by a token limit.
    - ``repetition``: share of the text in repeated lines or repeated word 4-grams (loops).
    - ``compression``: how much better than normal prose the text compresses (zlib), another loop detector
      that also catches character-level loops.
    - ``template``: lines starting with prompt-template roles (``Input:``, ``Output:``, ``Question:``,
      ``User:``...), a base model continuing the few-shot pattern.
    - ``echo``: share of the response's word 5-grams copied from the instruction.
    - ``degenerate``: share of characters that are neither letters, digits nor whitespace beyond what
      ordinary text or code has, plus very long runs of one character.
    - ``runaway_list``: more list items / lines than any reasonable answer (dozens).
    - ``length``: the length is far off what the instruction asks (a long answer to a short-answer task,
      more than ~600 words, or a few words for a writing task).
    - ``brevity``: a writing/explaining task ("write an email", "explain", "describe"...) answered in a few
      words (under ~40); for other tasks not asking for a short answer, half of that for answers of under
      ~25 words (log scale), a mild preference for answers with some substance.
    - ``format``: a requested list or number is missing.
    - ``off_topic``: 1 − share of the instruction's content words that the response mentions (only
      counted when the response is long enough to be expected to mention some).
    """

    empty: float = 0.0
    refusal: float = 0.0
    truncation: float = 0.0
    repetition: float = 0.0
    compression: float = 0.0
    template: float = 0.0
    echo: float = 0.0
    degenerate: float = 0.0
    runaway_list: float = 0.0
    length: float = 0.0
    brevity: float = 0.0
    format: float = 0.0
    off_topic: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


#: Logistic weights of each signal (negative: the signal lowers the score): twice the weights fitted by
#: ``python benchmarks/quality_score.py --fit`` on the even half of the Self-Instruct user-oriented instructions
#: (text-davinci-003's answers against five other models'; weights constrained to <= 0). Scaling the weights and
#: moving the bias does not change any ranking (AUC); it only calibrates the score so that a pair with no sign of
#: a problem scores ~0.92 and one strong problem (empty, looping, format missed) puts it under ~0.25.
#: ``degenerate`` and ``off_topic`` got weight 0 on that data: they stay in :class:`QualitySignals` for custom
#: weightings.
DEFAULT_WEIGHTS: Mapping[str, float] = {
    "empty": -5.78,
    "refusal": -2.62,
    "truncation": -2.1,
    "repetition": -0.48,
    "compression": -4.0,
    "template": -0.84,
    "echo": -1.5,
    "degenerate": 0.0,
    "runaway_list": -4.98,
    "length": -0.12,
    "brevity": -1.96,
    "format": -3.9,
    "off_topic": 0.0,
}
#: The logit of a pair with no sign of any problem (not fitted: chosen for calibration, see above).
DEFAULT_BIAS = 2.5


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _clip(value: float) -> float:
    return 0.0 if value < 0 else 1.0 if value > 1 else float(value)


def _truncation(response: str) -> float:
    text = response.rstrip()
    if not text:
        return 0.0
    last_line = text.rsplit("\n", 1)[-1].strip()
    if text[-1] in ",:-–(/[{\\&+=" or text.endswith((" and", " or", " the", " a", " of", " to")):
        return 1.0
    if text[-1] in _TERMINAL or text[-1].isdigit() or unicodedata.category(text[-1]) == "So":
        return 0.0
    n_words = len(last_line.split())
    # A short last line is a list item or a one-word answer; a long one without punctuation was cut off.
    if _LIST_ITEM.match(last_line) and n_words <= 12:
        return 0.0
    return _clip((n_words - 6) / 14)


def _repetition(response: str, words: list[str]) -> float:
    lines = [line.strip().lower() for line in response.splitlines() if len(line.strip()) > 1]
    line_share = 0.0
    if len(lines) >= 3:
        counts = Counter(lines)
        # A list restated once (a summary) is normal; a line coming back a third time is a loop.
        repeated = sum(len(line) * (n - 1) for line, n in counts.items() if n > 2)
        line_share = repeated / max(1, sum(len(line) for line in lines))
    gram_share = 0.0
    if len(words) >= 12:
        grams = [tuple(words[i : i + 4]) for i in range(len(words) - 3)]
        counts4 = Counter(grams)
        gram_share = sum(n - 1 for n in counts4.values() if n > 2) / len(grams)
    return _clip(max(line_share, gram_share) * 1.5)


def _compression(response: str) -> float:
    data = response.encode("utf-8", "replace")
    if len(data) < 200:
        return 0.0
    ratio = len(zlib.compress(data, 6)) / len(data)
    # Ordinary prose compresses to ~0.45-0.6 of its size at these lengths; loops go far below 0.3.
    return _clip((0.38 - ratio) / 0.2)


def _template(response: str) -> float:
    return _clip(len(_TEMPLATE_LINE.findall(response)) / 3)


def _echo(instruction_words: list[str], words: list[str]) -> float:
    if len(words) < 5 or len(instruction_words) < 5:
        return 0.0
    source = {tuple(instruction_words[i : i + 5]) for i in range(len(instruction_words) - 4)}
    grams = [tuple(words[i : i + 5]) for i in range(len(words) - 4)]
    copied = sum(1 for g in grams if g in source) / len(grams)
    return _clip((copied - 0.5) / 0.4)


def _degenerate(response: str) -> float:
    chars = [c for c in response if not c.isspace()]
    if len(chars) < 20:
        return 0.0
    symbols = sum(1 for c in chars if not c.isalnum()) / len(chars)
    longest_run = max((len(m.group(0)) for m in re.finditer(r"(.)\1*", response)), default=0)
    return _clip(max((symbols - 0.3) / 0.3, (longest_run - 20) / 40))


def _runaway_list(response: str) -> float:
    items = max(len(_LIST_ITEM.findall(response)), response.count(",") // 3, response.count("\n") // 2)
    return _clip((items - 30) / 30)


def _length(instruction: str, words: list[str]) -> float:
    n = len(words)
    asks_long = bool(_ASKS_LONG.search(instruction))
    asks_short = bool(_ASKS_SHORT.search(instruction)) and not asks_long
    too_long = _clip((n - 600) / 400) if not asks_short else _clip((n - 80) / 200)
    too_short = 0.0
    if asks_long and n < 8:
        too_short = 1.0 - n / 8
    return max(too_long, too_short)


def _brevity(instruction: str, words: list[str]) -> float:
    head = instruction.split("\n\n", 1)[0]
    n = len(words)
    if _ASKS_LONG.search(head):
        return _clip((40 - n) / 35)
    if _ASKS_SHORT.search(head):
        return 0.0
    # Otherwise a mild preference for answers with some substance: 1 for one word, 0 from ~25 words on.
    return 0.5 * _clip(1.0 - math.log1p(n) / math.log1p(25))


def _format(instruction: str, response: str, words: list[str]) -> float:
    head = instruction.split("\n\n", 1)[0]
    if _ASKS_NUMBER.search(head) and not re.search(r"\d", response) and not _ASKS_LONG.search(head):
        return 1.0
    if re.search(r"\b(?:list|enumerate|bullet)", head, re.IGNORECASE):
        multiple = len(_LIST_ITEM.findall(response)) >= 2 or response.count("\n") >= 1 or response.count(",") >= 1
        return 0.0 if multiple or len(words) > 40 else 1.0
    return 0.0


def _off_topic(instruction_words: list[str], words: list[str]) -> float:
    content = {w for w in instruction_words if w not in _STOPWORDS and len(w) > 2 and not w.isdigit()}
    if len(content) < 3 or len(words) < 15:
        return 0.0
    mentioned = len(content & set(words)) / len(content)
    return _clip(1.0 - mentioned / 0.3)


def quality_signals(instruction: str, response: str) -> QualitySignals:
    """Each problem signal of ``response`` as an answer to ``instruction`` (see :class:`QualitySignals`).

    ``instruction`` is the whole user turn (task text plus any input it refers to).
    """
    instruction = instruction or ""
    response = response or ""
    words = _words(response)
    if not any(c.isalnum() or unicodedata.category(c) == "So" for c in response):
        return QualitySignals(empty=1.0)
    instruction_words = _words(instruction)
    return QualitySignals(
        refusal=1.0 if _REFUSAL.search(response[:500]) else 0.0,
        truncation=_truncation(response),
        repetition=_repetition(response, words),
        compression=_compression(response),
        template=_template(response),
        echo=_echo(instruction_words, words),
        degenerate=_degenerate(response),
        runaway_list=_runaway_list(response),
        length=_length(instruction, words),
        brevity=_brevity(instruction, words),
        format=_format(instruction, response, words),
        off_topic=_off_topic(instruction_words, words),
    )


def combine_signals(
    signals: QualitySignals, weights: Mapping[str, float] = DEFAULT_WEIGHTS, bias: float = DEFAULT_BIAS
) -> float:
    """The logistic combination ``sigmoid(bias + Σ weight · signal)`` of the signals, in ``0..1``."""
    values = signals.as_dict()
    logit = bias + sum(weight * values[name] for name, weight in weights.items())
    return 1.0 / (1.0 + math.exp(-logit))


def quality_score(instruction: str, response: str) -> float:
    """How good ``response`` looks as an answer to ``instruction``, from 0 (bad) to 1 (no problem found).

    An offline heuristic: it ranks answers (AUC 0.97+ separating text-davinci-003 from base davinci on the
    Self-Instruct user-oriented set) but does not check facts.
    """
    return combine_signals(quality_signals(instruction, response))


def quality_scores(df: pd.DataFrame, instruction_field: str, response_field: str) -> pd.Series:
    """:func:`quality_score` of every row of a pandas frame (one partition), as a float Series on its index."""
    values = [
        quality_score("" if pd.isna(i) else str(i), "" if pd.isna(r) else str(r))
        for i, r in zip(df[instruction_field].tolist(), df[response_field].tolist(), strict=True)
    ]
    return pd.Series(values, index=df.index, dtype="float64", name="quality_score")


@register_filter
class QualityFilter(PairFilter):
    """Keep instruction–response pairs whose :func:`quality_score` is at least ``min_score``.

    ``ScoreFilter(QualityFilter(0.5), text_field=("instruction", "response"), score_field="quality")``.
    ``weights``/``bias`` replace :data:`DEFAULT_WEIGHTS`/:data:`DEFAULT_BIAS` (missing names weigh 0).
    """

    name = "quality"

    def __init__(
        self, min_score: float = 0.5, weights: Mapping[str, float] | None = None, bias: float | None = None
    ) -> None:
        super().__init__()
        if not 0.0 <= min_score <= 1.0:
            raise ConfigError(f"QualityFilter: min_score must be in [0, 1], got {min_score}")
        unknown = set(weights or {}) - set(QualitySignals().as_dict())
        if unknown:
            raise ConfigError(f"QualityFilter: unknown signal(s) {sorted(unknown)}")
        self.min_score = min_score
        self.weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
        self.bias = DEFAULT_BIAS if bias is None else bias

    def score_pair(self, instruction: str, response: str) -> float:
        return combine_signals(quality_signals(instruction, response), self.weights, self.bias)

    def keep_document(self, score: Any) -> bool:
        return float(score) >= self.min_score

    def reject_reason(self, score: Any) -> str | None:
        return None if self.keep_document(score) else "low_quality"

    def keep_batch(self, scores: pd.Series) -> pd.Series:
        return pd.Series(scores.astype("float64").to_numpy() >= self.min_score, index=scores.index, dtype=bool)

    def reason_batch(self, scores: pd.Series) -> pd.Series:
        return pd.Series(["low_quality"] * len(scores), index=scores.index, dtype=object)
