"""Pairwise judging: which of two responses to one instruction is better, asked in both orders.

LLM judges favour a position (often the first response shown). :class:`AsyncPairwiseJudge` therefore asks
twice, concurrently: once with ``response_a`` shown as Assistant A, once with the two swapped. The swapped
verdict is mapped back; when both agree the pair has a ``winner`` (``"a"``, ``"b"`` or ``"tie"``), when they
disagree the verdict is ``consistent=False`` with ``winner=None`` and should be discarded (MT-Bench's rule).
A judge that always answers "A" thus produces no usable verdict at all, and :class:`PairwiseReport` shows it
(``agreement_rate`` 0, ``first_position_rate`` 1).

Verdicts are read by :func:`parse_verdict`; an answer without one is shown back to the judge with a request for
the verdict alone (``max_repairs`` times), then :class:`~curator_synth.errors.ResponseParseError` is raised (and
reported by :meth:`AsyncPairwiseJudge.compare_many`), never turned into a tie.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from curator_synth.clients.base import AsyncLLMClient, LLMClient
from curator_synth.clients.formatters import ConversationFormatter
from curator_synth.errors import ConfigError, ResponseParseError
from curator_synth.generators.base import GENERATORS, BaseGenerator, template_of
from curator_synth.generators.blocking import BlockingGenerator, blocking
from curator_synth.outcome import Outcome
from curator_synth.parsing import extract_json
from curator_synth.prompts.base import PromptTemplate
from curator_synth.prompts.pairwise import PAIRWISE_COMPARE, PAIRWISE_REPAIR

__all__ = [
    "AsyncPairwiseJudge",
    "PairwiseItem",
    "PairwiseJudge",
    "PairwiseLabel",
    "PairwiseReport",
    "PairwiseVerdict",
    "Winner",
    "parse_verdict",
]

PairwiseLabel = Literal["A", "B", "tie"]
"""What the judge said, by position: the response shown as A, the one shown as B, or a tie."""
Winner = Literal["a", "b", "tie"]
"""The outcome by response: ``response_a``, ``response_b``, or a tie."""
PairwiseItem = tuple[str, str, str] | Mapping[str, Any]
"""``(instruction, response_a, response_b)``, or a mapping with those keys and optionally ``provenance_a`` and
``provenance_b`` (carried into the verdict, then into preference pairs)."""

_FIELDS = frozenset({"instruction", "response_a", "response_b"})
_ITEM_KEYS = _FIELDS | {"provenance_a", "provenance_b"}
_TOKEN = re.compile(r"\[\[\s*(A|B|C|tie)\s*\]\]", re.IGNORECASE)
_BARE = re.compile(
    r"^\W*(?:(?:final\s+)?verdict\s*[:=]?\s*)?\W*(?:assistant\s+|response\s+)?(A|B|C|tie)\W*$", re.IGNORECASE
)
_NAMES: dict[str, PairwiseLabel] = {
    "a": "A",
    "b": "B",
    "c": "tie",
    "tie": "tie",
    "draw": "tie",
    "assistant a": "A",
    "assistant b": "B",
    "response a": "A",
    "response b": "B",
}
# The swapped request shows response_b as A: its verdicts map back to winners this way.
_FIRST_ORDER: dict[PairwiseLabel, Winner] = {"A": "a", "B": "b", "tie": "tie"}
_SWAPPED_ORDER: dict[PairwiseLabel, Winner] = {"A": "b", "B": "a", "tie": "tie"}


def parse_verdict(text: str) -> PairwiseLabel:
    """The verdict in a judge's answer, looked for in this order:

    1. the last ``[[A]]``, ``[[B]]``, ``[[C]]`` or ``[[tie]]`` token (MT-Bench's format; ``C`` is a tie; the
       last one wins because judges often restate the format before answering);
    2. a JSON object with a ``"verdict"`` (or ``"winner"``) of ``"A"``, ``"B"``, ``"C"``, ``"tie"``, ``"draw"``
       or ``"Assistant A"``/``"Assistant B"`` (any case);
    3. a last line holding only the verdict: ``B``, ``**A**``, ``Verdict: tie``, ``Assistant B.``.

    Raises :class:`ResponseParseError` (answer in ``.raw``) when there is none.
    """
    tokens = _TOKEN.findall(text)
    if tokens:
        return _NAMES[tokens[-1].lower()]
    try:
        data = extract_json(text)
    except ResponseParseError:
        data = None
    if isinstance(data, Mapping):
        value = data.get("verdict", data.get("winner"))
        if isinstance(value, str) and value.strip().lower() in _NAMES:
            return _NAMES[value.strip().lower()]
    lines = [line for line in text.splitlines() if line.strip()]
    match = _BARE.match(lines[-1].strip()) if lines else None
    if match:
        return _NAMES[match.group(1).lower()]
    raise ResponseParseError(
        'no verdict found: expected [[A]], [[B]] or [[C]], or JSON {"verdict": "A" | "B" | "tie"}', raw=text
    )


@dataclass(frozen=True)
class PairwiseVerdict:
    """The outcome of judging ``response_a`` against ``response_b`` in both orders.

    ``first`` is the judge's verdict with ``response_a`` shown as A; ``second`` its verdict with the order
    swapped (``response_b`` shown as A), as the judge gave it, not mapped back. ``raws`` are the two answers
    (the last one of each order, after any repair). ``winner`` is ``None`` exactly when ``consistent`` is False.
    ``provenance`` says how the verdict was obtained (judge, template, model, parameters, repairs per order).
    """

    instruction: str
    response_a: str
    response_b: str
    winner: Winner | None
    consistent: bool
    first: PairwiseLabel
    second: PairwiseLabel
    raws: tuple[str, str]
    provenance_a: dict[str, Any] = field(default_factory=dict, compare=False)
    provenance_b: dict[str, Any] = field(default_factory=dict, compare=False)
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def votes(self) -> tuple[Winner, Winner]:
        """The two verdicts as winners by response (the swapped one mapped back)."""
        return _FIRST_ORDER[self.first], _SWAPPED_ORDER[self.second]


@dataclass(frozen=True)
class PairwiseReport:
    """Counts over a batch of verdicts (see :meth:`from_result`).

    ``judged``: verdicts obtained (both orders read); ``failed``: items that raised (parse or request errors);
    ``consistent``: verdicts whose two orders agree, split into ``wins_a``, ``wins_b`` and ``ties``.
    ``first_position_rate``: of the non-tie answers given in either order, the share that picked the response
    shown first (0.0 when there are none). Position-consistent verdicts contribute one first and one second
    pick each, so any distance from 0.5 comes from the inconsistent ones: 1.0 is a judge that always answers "A".
    """

    judged: int
    consistent: int
    failed: int
    wins_a: int
    wins_b: int
    ties: int
    first_position_rate: float

    @property
    def inconsistent(self) -> int:
        return self.judged - self.consistent

    @property
    def agreement_rate(self) -> float:
        """``consistent / judged``: how often the judge gave the same verdict in both orders (0.0 if none)."""
        return self.consistent / self.judged if self.judged else 0.0

    @classmethod
    def from_result(cls, result: Outcome[PairwiseVerdict] | Iterable[PairwiseVerdict]) -> PairwiseReport:
        """The report of :meth:`AsyncPairwiseJudge.compare_many`'s result (or of any verdicts; failed = 0)."""
        if isinstance(result, Outcome):
            verdicts, failed = list(result.items), len(result.failures)
        else:
            verdicts, failed = list(result), 0
        for verdict in verdicts:
            if not isinstance(verdict, PairwiseVerdict):
                raise ConfigError(f"PairwiseReport counts PairwiseVerdict objects, got {type(verdict).__name__}")
        winners = [verdict.winner for verdict in verdicts if verdict.consistent]
        picks = [answer for verdict in verdicts for answer in (verdict.first, verdict.second) if answer != "tie"]
        return cls(
            judged=len(verdicts),
            consistent=len(winners),
            failed=failed,
            wins_a=winners.count("a"),
            wins_b=winners.count("b"),
            ties=winners.count("tie"),
            first_position_rate=picks.count("A") / len(picks) if picks else 0.0,
        )


class AsyncPairwiseJudge(BaseGenerator):
    """Compares two responses to one instruction with a chat model as judge, in both orders.

    ``prompt_template`` (a :class:`PromptTemplate` or a format string) must have exactly the placeholders
    ``{instruction}``, ``{response_a}`` and ``{response_b}``, and ask for a verdict :func:`parse_verdict` reads.
    ``max_repairs``: how many times an answer without a verdict is shown back to the judge with
    ``pairwise.repair`` before the item fails. ``params`` such as ``temperature=0`` apply to every request.
    """

    family = "pairwise"

    def __init__(
        self,
        client: AsyncLLMClient | LLMClient,
        model: str | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        conversation_formatter: ConversationFormatter | str | None = None,
        max_pending: int = 256,
        prompt_template: PromptTemplate | str = PAIRWISE_COMPARE,
        max_repairs: int = 1,
    ) -> None:
        super().__init__(
            client, model, params=params, conversation_formatter=conversation_formatter, max_pending=max_pending
        )
        template = template_of(prompt_template, self.family)
        if template.fields != _FIELDS:
            raise ConfigError(
                f"a pairwise template needs exactly the placeholders {sorted(_FIELDS)}; "
                f"{template.id!r} has {sorted(template.fields)}"
            )
        if isinstance(max_repairs, bool) or not isinstance(max_repairs, int) or max_repairs < 0:
            raise ConfigError(f"max_repairs must be a non-negative integer, got {max_repairs!r}")
        self.template = template
        self.max_repairs = max_repairs

    async def compare(
        self,
        instruction: str,
        response_a: str,
        response_b: str,
        *,
        model: str | None = None,
        model_kwargs: Mapping[str, Any] | None = None,
        provenance_a: Mapping[str, Any] | None = None,
        provenance_b: Mapping[str, Any] | None = None,
    ) -> PairwiseVerdict:
        """Judge one pair in both orders (two concurrent requests) and combine the verdicts.

        ``provenance_a`` / ``provenance_b`` (where each response came from) are kept in the verdict. Errors are
        raised; both requests run to their end first, so an answer that did arrive is journaled.
        """
        _check_text("instruction", instruction, allow_empty=False)
        _check_text("response_a", response_a)
        _check_text("response_b", response_b)
        for name, value in (("provenance_a", provenance_a), ("provenance_b", provenance_b)):
            if value is not None and not isinstance(value, Mapping):
                raise ConfigError(f"{name} must be a mapping or None, got {type(value).__name__}")
        orders = (
            {"instruction": instruction, "response_a": response_a, "response_b": response_b},
            {"instruction": instruction, "response_a": response_b, "response_b": response_a},
        )
        shown, swapped = await asyncio.gather(
            self._judge(orders[0], "(A, B)", model, model_kwargs),
            self._judge(orders[1], "swapped", model, model_kwargs),
            return_exceptions=True,
        )
        if isinstance(shown, BaseException):
            raise shown
        if isinstance(swapped, BaseException):
            raise swapped
        (first, first_raw, first_repairs), (second, second_raw, second_repairs) = shown, swapped
        mapped = (_FIRST_ORDER[first], _SWAPPED_ORDER[second])
        consistent = mapped[0] == mapped[1]
        return PairwiseVerdict(
            instruction=instruction,
            response_a=response_a,
            response_b=response_b,
            winner=mapped[0] if consistent else None,
            consistent=consistent,
            first=first,
            second=second,
            raws=(first_raw, second_raw),
            provenance_a=dict(provenance_a or {}),
            provenance_b=dict(provenance_b or {}),
            provenance=self.provenance(
                self.template,
                method="compare",
                model=model,
                model_kwargs=model_kwargs,
                repairs=[first_repairs, second_repairs],
            ),
        )

    async def compare_many(
        self,
        items: Iterable[PairwiseItem],
        *,
        model: str | None = None,
        model_kwargs: Mapping[str, Any] | None = None,
    ) -> Outcome[PairwiseVerdict]:
        """:meth:`compare` for every item, concurrently: verdicts in input order (inconsistent ones included,
        with ``winner=None``), failed items with their typed error in ``.failures``. Summarise the result with
        :meth:`PairwiseReport.from_result`."""
        self.model_for(model)  # a missing model is the caller's error, raised once rather than once per item

        async def one(item: PairwiseItem) -> PairwiseVerdict:
            fields = _item_fields(item)
            return await self.compare(**fields, model=model, model_kwargs=model_kwargs)

        return await self.fan_out(one, items)

    async def _judge(
        self, fill: Mapping[str, str], label: str, model: str | None, model_kwargs: Mapping[str, Any] | None
    ) -> tuple[PairwiseLabel, str, int]:
        """One order: the verdict, the answer it was read from, and the number of repairs it took."""
        messages = self.template.messages(**fill)
        answer = await self.ask_one(self.template, fill, model=model, model_kwargs=model_kwargs, n=1)
        for repairs in range(self.max_repairs + 1):
            try:
                return parse_verdict(answer), answer, repairs
            except ResponseParseError as error:
                if repairs == self.max_repairs:
                    raise ResponseParseError(
                        f"pairwise judge, {label} order, after {repairs} repair(s): {error}", raw=answer
                    ) from error
            messages = [
                *messages,
                {"role": "assistant", "content": answer},
                {"role": "user", "content": PAIRWISE_REPAIR.text},
            ]
            (answer,) = await self.ask_messages(
                messages, namespace=PAIRWISE_REPAIR.namespace, model=model, model_kwargs=model_kwargs, n=1
            )
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def _check_text(name: str, value: object, *, allow_empty: bool = True) -> None:
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a string, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise ConfigError(f"{name} must be a non-empty string")


def _item_fields(item: PairwiseItem) -> dict[str, Any]:
    """The keyword arguments of :meth:`AsyncPairwiseJudge.compare` for one item of ``compare_many``."""
    if isinstance(item, Mapping):
        unknown = set(item) - _ITEM_KEYS
        missing = _FIELDS - set(item)
        if unknown or missing:
            raise ConfigError(
                f"a pairwise item needs the keys {sorted(_FIELDS)} (optional: provenance_a, provenance_b); "
                f"missing {sorted(missing)}, unknown {sorted(unknown)}"
            )
        return dict(item)
    if isinstance(item, tuple) and len(item) == 3:
        return dict(zip(("instruction", "response_a", "response_b"), item, strict=True))
    raise ConfigError(
        f"a pairwise item is (instruction, response_a, response_b) or a mapping, got {type(item).__name__}"
    )


GENERATORS.add("pairwise_judge", AsyncPairwiseJudge)  # judges are generators too: recipes and plugins name them


class PairwiseJudge(BlockingGenerator[AsyncPairwiseJudge]):
    """Blocking version of :class:`AsyncPairwiseJudge` (same arguments and methods, no ``await``)."""

    async_class = AsyncPairwiseJudge

    compare = blocking(AsyncPairwiseJudge.compare)
    compare_many = blocking(AsyncPairwiseJudge.compare_many)
