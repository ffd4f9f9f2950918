"""Post-processing of Nemotron-CC answers, and the splitting of long documents into chunks a model can rewrite.

Each function takes a raw answer and returns clean text, or raises
:class:`~curator_synth.errors.ResponseParseError` whose message is the reason for rejecting the answer and whose
``.raw`` is the answer. :meth:`~curator_synth.generators.nemotron_cc.AsyncNemotronCCGenerator.process_documents`
reports such a rejection as a failure of that document and goes on with the others.

- lead-ins: :func:`require_prefix` (the answer must open with the lead-in its template asked for);
- clean-up: :func:`remove_markdown`, :func:`remove_quotes`;
- per method: :func:`postprocess_wikipedia`, :func:`postprocess_distill`, :func:`postprocess_extract_knowledge`,
  :func:`postprocess_diverse_qa` (with :func:`sample_qa_pairs`, :func:`format_qa_pairs`) and
  :func:`clean_knowledge_list`;
- long documents: :func:`split_document` into chunks under a token budget (:func:`approx_tokens` by default),
  :func:`join_chunks` to put the rewritten chunks back together in order.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Iterator, Sequence

from curator_synth.errors import ConfigError, ResponseParseError
from curator_synth.parsing import clean_item, parse_list, parse_qa_pairs, remove_prefix
from curator_synth.prompts.nemotron_cc import DISTILL_PREFIX, WIKIPEDIA_PREFIX
from curator_synth.redact import redact

__all__ = [
    "TokenCounter",
    "approx_tokens",
    "clean_knowledge_list",
    "format_qa_pairs",
    "join_chunks",
    "postprocess_distill",
    "postprocess_diverse_qa",
    "postprocess_extract_knowledge",
    "postprocess_wikipedia",
    "remove_markdown",
    "remove_quotes",
    "require_prefix",
    "sample_qa_pairs",
    "split_document",
]

TokenCounter = Callable[[str], int]
"""Counts the tokens of a text: :func:`approx_tokens`, or e.g. ``lambda t: len(tokenizer.encode(t))``."""


# ------------------------------------------------------------------------------------------------ lead-ins
def require_prefix(answer: str, prefixes: str | Sequence[str]) -> str:
    """``answer`` without its lead-in (e.g. ``"Here is a paraphrased text:"``), stripped.

    The answer must start with one of ``prefixes`` (compared as :func:`~curator_synth.parsing.remove_prefix`
    does: any case, any whitespace, bold markers allowed) and must go on after it. Otherwise
    :class:`ResponseParseError` says which lead-in was missing and how the answer starts. A model that skips
    the lead-in has usually not followed the other rules either, which is why the paper drops such answers.
    """
    wanted = [prefixes] if isinstance(prefixes, str) else list(prefixes)
    stripped = answer.strip()
    rest = remove_prefix(stripped, wanted)
    if rest == stripped:
        shown = " or ".join(repr(prefix) for prefix in wanted)
        raise ResponseParseError(
            f"the answer does not start with {shown} (it starts {redact(stripped)[:60]!r})", raw=answer
        )
    if not rest:
        raise ResponseParseError(f"nothing follows the lead-in {wanted[0]!r}", raw=answer)
    return rest


# ---------------------------------------------------------------------------------------------- clean-up
_FENCE_LINE = re.compile(r"^[ \t]*(?:`{3,}|~{3,}).*(?:\n|$)", re.MULTILINE)
_RULE_LINE = re.compile(r"^[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*(?:\n|$)", re.MULTILINE)
_HEADING = re.compile(r"^[ \t]*#{1,6}(?:[ \t]+|$)", re.MULTILINE)
_BLOCKQUOTE = re.compile(r"^[ \t]*>[ \t]?", re.MULTILINE)
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_LINK = re.compile(r"\[([^\]\n]+)\]\([^)\n]*\)")
# ``*x*``, ``**x**``, ``***x***`` hugging their text; "2 * 3 * 4" and "* bullet" are left alone.
_STARS = re.compile(r"(?<![\w*])(\*{1,3})(?=[^\s*])(.+?)(?<=[^\s*])\1(?![\w*])")
_UNDERSCORES = re.compile(r"(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)")  # only double: ``_x_`` is often a name
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_BLANK_RUNS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def remove_markdown(text: str) -> str:
    """``text`` as plain prose: headings, blockquote marks, horizontal rules, code-fence lines, bold/italic
    markers, inline-code backticks and link syntax (the link text stays) are removed; list bullets stay."""
    text = _FENCE_LINE.sub("", text)
    text = _RULE_LINE.sub("", text)
    text = _HEADING.sub("", text)
    text = _BLOCKQUOTE.sub("", text)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _STARS.sub(r"\2", text)
    text = _UNDERSCORES.sub(r"\1", text)
    text = _INLINE_CODE.sub(r"\1", text)
    return _BLANK_RUNS.sub("\n\n", text).strip()


def remove_quotes(text: str) -> str:
    """``text`` without quotes wrapping the whole of it (``"..."``, ``“...”``), as models sometimes add to a
    rewrite; quotes inside the text stay (:func:`~curator_synth.parsing.clean_item`)."""
    return clean_item(text)


def _nonempty(text: str, answer: str, what: str) -> str:
    if not text.strip():
        raise ResponseParseError(f"the {what} is empty after clean-up", raw=answer)
    return text


# ------------------------------------------------------------------------------------------------ methods
def postprocess_wikipedia(answer: str) -> str:
    """A Wikipedia-style rephrasing: the lead-in is required and removed, then markdown and quotes."""
    return _nonempty(remove_quotes(remove_markdown(require_prefix(answer, WIKIPEDIA_PREFIX))), answer, "rephrasing")


def postprocess_distill(answer: str) -> str:
    """A distilled text: the ``"Paraphrased Text:"`` lead-in is required and removed, then markdown and quotes."""
    return _nonempty(remove_quotes(remove_markdown(require_prefix(answer, DISTILL_PREFIX))), answer, "distillation")


_PASSAGE_LABEL = re.compile(r"^[ \t]*\**[ \t]*passage(?:[ \t]+\d+)?[ \t]*:?[ \t]*\**[ \t]*$", re.IGNORECASE)


def postprocess_extract_knowledge(answer: str) -> str:
    """Extracted knowledge: lines that only label a passage ("Passage 2:") are dropped, then markdown and
    quotes (the template asks for no titles; models still number their passages)."""
    lines = [line for line in answer.splitlines() if not _PASSAGE_LABEL.match(line)]
    return _nonempty(remove_quotes(remove_markdown("\n".join(lines))), answer, "extracted knowledge")


_BULLET = re.compile(r"^[ \t]*(?:[-*+\u2022]|\d{1,3}[.)])[ \t]+")


def clean_knowledge_list(answer: str, *, min_words: int = 3) -> str:
    """A knowledge list as one fact per line: items (and their sub-items) without bullets or numbers and
    markdown, items of fewer than ``min_words`` words dropped ("Key facts:", "ok").

    The list is read by :func:`~curator_synth.parsing.parse_list`, so a lead-in and a closing remark are not
    facts; an answer without list markers, or with no item long enough, is rejected.
    """
    if min_words < 0:
        raise ConfigError(f"min_words must be >= 0, got {min_words}")
    lines: list[str] = []
    for item in parse_list(answer):
        for line in item.splitlines():
            fact = clean_item(remove_markdown(_BULLET.sub("", line)))
            if fact and len(fact.split()) >= min_words:
                lines.append(fact)
    if not lines:
        raise ResponseParseError(f"no item of the knowledge list has {min_words} words or more", raw=answer)
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ QA pairs
def sample_qa_pairs(
    answer: str,
    document: str,
    *,
    rng: random.Random | int = 0,
    tokens_per_pair: int = 150,
    max_pairs: int | None = None,
    count_tokens: TokenCounter | None = None,
) -> list[tuple[str, str]]:
    """A random subset of the question/answer pairs in ``answer``, sized by the length of ``document``.

    As in the paper, longer documents keep more pairs: the number kept is drawn uniformly from 1 to
    ``tokens(document) // tokens_per_pair`` (at least 1; at most the pairs found and ``max_pairs``). The pairs
    keep their order in the answer. ``rng`` is a :class:`random.Random` or a seed, so a run is repeatable.
    Pairs are read by :func:`~curator_synth.parsing.parse_qa_pairs` (incomplete pairs are skipped); an answer
    with none is rejected. Markdown is removed from questions and answers.
    """
    if tokens_per_pair < 1:
        raise ConfigError(f"tokens_per_pair must be >= 1, got {tokens_per_pair}")
    if max_pairs is not None and max_pairs < 1:
        raise ConfigError(f"max_pairs must be >= 1 or None, got {max_pairs}")
    pairs = [(remove_markdown(q), remove_markdown(a)) for q, a in parse_qa_pairs(answer, strict=False)]
    tokens = (count_tokens or approx_tokens)(document)
    upper = max(1, min(len(pairs), tokens // tokens_per_pair, max_pairs or len(pairs)))
    generator = rng if isinstance(rng, random.Random) else random.Random(rng)
    keep = generator.randint(1, upper)
    return [pairs[index] for index in sorted(generator.sample(range(len(pairs)), keep))]


def format_qa_pairs(pairs: Sequence[tuple[str, str]]) -> str:
    """``Question: ...`` / ``Answer: ...`` blocks separated by blank lines."""
    return "\n\n".join(f"Question: {question}\nAnswer: {answer}" for question, answer in pairs)


def postprocess_diverse_qa(
    answer: str,
    document: str,
    *,
    rng: random.Random | int = 0,
    tokens_per_pair: int = 150,
    max_pairs: int | None = None,
    include_document: bool = True,
    count_tokens: TokenCounter | None = None,
) -> str:
    """The document followed by a sample of its QA pairs (:func:`sample_qa_pairs`), as the paper trains on
    them; ``include_document=False`` gives the pairs alone."""
    pairs = sample_qa_pairs(
        answer, document, rng=rng, tokens_per_pair=tokens_per_pair, max_pairs=max_pairs, count_tokens=count_tokens
    )
    text = format_qa_pairs(pairs)
    return f"{document.strip()}\n\n{text}" if include_document else text


# ---------------------------------------------------------------------------------------- long documents
def approx_tokens(text: str) -> int:
    """A tokenizer-free token estimate: the larger of the whitespace word count and characters / 4."""
    return max(len(text.split()), math.ceil(len(text) / 4))


_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?][\"')\]\u201d\u2019])\s+|(?<=[.!?])\s+")


def split_document(text: str, max_tokens: int, *, count_tokens: TokenCounter | None = None) -> list[str]:
    """``text`` cut into chunks of at most ``max_tokens`` tokens, at paragraph boundaries where possible.

    Paragraphs (separated by blank lines) are packed, in order, into as few chunks as fit. A paragraph over
    the budget is cut between sentences, and a sentence over the budget between words; a single word over the
    budget becomes a chunk of its own. ``count_tokens`` defaults to :func:`approx_tokens`. An empty text
    gives no chunks. ``join_chunks(split_document(t, n))`` equals ``t`` up to whitespace.
    """
    if max_tokens < 1:
        raise ConfigError(f"max_tokens must be >= 1, got {max_tokens}")
    count = count_tokens or approx_tokens
    chunks: list[str] = []
    current = ""
    for piece, starts_paragraph in _pieces(text, max_tokens, count):
        if current:
            candidate = current + ("\n\n" if starts_paragraph else " ") + piece
            if count(candidate) <= max_tokens:
                current = candidate
                continue
            chunks.append(current)
        current = piece
    if current:
        chunks.append(current)
    return chunks


def _pieces(text: str, max_tokens: int, count: TokenCounter) -> Iterator[tuple[str, bool]]:
    """Paragraphs, or the sentences/words of those over the budget; True marks a paragraph's first piece."""
    for paragraph in _PARAGRAPH_BREAK.split(text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if count(paragraph) <= max_tokens:
            yield paragraph, True
            continue
        first = True
        for sentence in _SENTENCE_END.split(paragraph):
            parts = [sentence] if count(sentence) <= max_tokens else sentence.split()
            for part in parts:
                yield part, first
                first = False


def join_chunks(chunks: Sequence[str], separator: str = "\n\n") -> str:
    """The rewritten chunks of one document, in order, each stripped, joined by ``separator``."""
    return separator.join(chunk.strip() for chunk in chunks)
