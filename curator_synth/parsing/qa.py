"""Question/answer pairs in model answers ("Question: ... Answer: ...", "Q:"/"A:", numbered, in bold)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from curator_synth.errors import ResponseParseError
from curator_synth.parsing._markdown import indent_width, is_rule, scan_lines, unwrap
from curator_synth.redact import redact

__all__ = ["parse_qa_pairs"]

_EM = r"(?:\*\*|__|\*)"
_LABEL = re.compile(
    r"^[ \t]*(?:(?:\d{1,3}[.)]|[-*+\u2022]|#{1,6})[ \t]+)?"
    rf"(?P<em>{_EM})?"
    r"(?P<label>[Qq]uestion|QUESTION|[Aa]nswer|ANSWER|Q|A)(?:[ \t]*#?\d{1,3})?"
    rf"[ \t]*{_EM}?[ \t]*(?:[:\uff1a]|(?<=\d)\.)[ \t]*{_EM}?"  # "Q1." needs the number
    r"(?P<body>.*)$"
)
# "Question: Why? Answer: Because." on one line: only the spelled-out, capitalised label splits a line.
_INLINE_ANSWER = re.compile(rf"\s{_EM}?(?:Answer|ANSWER){_EM}?[ \t]*:{_EM}?\s*")
_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]")
_TITLE = re.compile(r"^\W*\d+\W*$|^\*\*[^*]+\*\*:?$")  # "2." or "**Pair 2**" between pairs


@dataclass(slots=True)
class _Part:
    line: int
    lines: list[str] = field(default_factory=list)

    def text(self) -> str:
        return unwrap("\n".join(self.lines).strip())


class _Collector:
    def __init__(self, text: str, strict: bool) -> None:
        self.raw = text
        self.strict = strict
        self.pairs: list[tuple[str, str]] = []
        self.question: _Part | None = None
        self.answer: _Part | None = None
        self.multi_paragraph = False  # did an earlier answer take a paragraph after a blank line?

    def problem(self, message: str) -> None:
        if self.strict:
            raise ResponseParseError(message + " (pass strict=False to skip incomplete pairs)", raw=self.raw)

    def finish(self) -> None:
        question, answer = self.question, self.answer
        self.question = self.answer = None
        if question is None:
            return
        asked = question.text()
        if answer is None:
            self.problem(f"the question on line {question.line} ({redact(asked)[:60]!r}) has no answer")
            return
        answered = answer.text()
        if not asked:
            self.problem(f"the question on line {question.line} is empty")
        elif not answered:
            self.problem(f"the answer on line {answer.line} is empty")
        else:
            self.pairs.append((asked, answered))

    def start_question(self, number: int, body: str) -> None:
        self.finish()
        self.question = _Part(number)
        inline = _INLINE_ANSWER.search(body)
        if inline:
            self.question.lines.append(body[: inline.start()].strip())
            self.answer = _Part(number, [body[inline.end() :].strip()])
        else:
            self.question.lines.append(body.strip())

    def start_answer(self, number: int, body: str) -> None:
        if self.question is None or self.answer is not None:
            self.finish()
            self.problem(f"the answer on line {number} ({redact(body.strip())[:60]!r}) has no question before it")
            return
        self.answer = _Part(number, [body.strip()])


def parse_qa_pairs(text: str, *, strict: bool = True) -> list[tuple[str, str]]:
    """The ``(question, answer)`` pairs in a model answer.

    Labels start a line: ``Question:``/``Answer:`` (also numbered, ``Question 1:``, ``Q1:``), ``Q:``/``A:``,
    optionally in bold (``**Question:**``), after a list number (``1. Question:``) or as a heading. A question
    and its answer may also share a line ("Question: Why? Answer: Because."). Text before the first label is
    a lead-in and ignored; horizontal rules and headings between pairs are separators. Questions and answers
    may span lines and paragraphs (line breaks are kept; code fences are kept verbatim).

    After the last answer, a paragraph that follows a blank line is taken as a closing remark and dropped
    when there are several pairs and no earlier answer had more than one paragraph; otherwise it is part of
    the answer.

    A question without an answer, an answer without a question, or an empty question or answer raises
    :class:`ResponseParseError` (answer in ``.raw``), unless ``strict=False``: then they are skipped. An
    answer with no pair at all always raises.
    """
    if not text.strip():
        raise ResponseParseError("the answer is empty, expected Question/Answer pairs", raw=text)
    collector = _Collector(text, strict)
    pending: list[str] = []  # paragraphs after an answer, not yet known to be part of it
    after_blank = False
    for number, line in enumerate(scan_lines(text), start=1):
        label = _LABEL.match(line.text) if line.kind == "text" else None
        if label is not None:
            body = label["body"]
            em = label["em"]
            if em and body.rstrip().endswith(em) and em not in body.rstrip()[: -len(em)]:
                body = body.rstrip()[: -len(em)]  # "**Question: What is X?**"
            if pending:
                _flush(collector, pending)
                pending = []
            if label["label"][0] in "Qq":
                collector.start_question(number, body)
            else:
                collector.start_answer(number, body)
            after_blank = False
            continue
        if line.kind == "text" and (not line.text.strip() or is_rule(line.text) or _HEADING.match(line.text)):
            after_blank = True
            continue
        part = collector.answer or collector.question
        if part is None:
            continue  # lead-in, or the text of a skipped incomplete pair
        content = line.text.rstrip() if line.kind != "text" else line.text.strip()
        remark = after_blank and line.kind == "text" and indent_width(line.text) == 0
        if collector.answer is not None and (pending or remark):
            pending.extend(["", content] if after_blank else [content])
        else:
            part.lines.extend(["", content] if after_blank else [content])
        after_blank = False
    if pending and collector.answer is not None and (collector.multi_paragraph or not collector.pairs):
        _flush(collector, pending)
    collector.finish()
    if not collector.pairs:
        raise ResponseParseError("no Question/Answer pairs found in the answer", raw=text)
    return collector.pairs


def _flush(collector: _Collector, pending: list[str]) -> None:
    """Pending paragraphs belong to the current answer (drop a trailing "**Pair 2**"-style title)."""
    lines = list(pending)
    while lines and (not lines[-1] or _TITLE.match(lines[-1])):
        lines.pop()
    if collector.answer is not None and any(lines):
        collector.answer.lines.extend(lines)
        collector.multi_paragraph = True
