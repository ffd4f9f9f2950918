"""Self-Instruct's data: seed tasks, the paper's instruction filters, instance parsing and result records.

Kept apart from the generator (:mod:`curator_synth.generators.self_instruct`) so filters and parsers can be used
and tested alone (e.g. on the real seed tasks).
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from curator_synth.errors import ConfigError, ResponseParseError
from curator_synth.outcome import reason_counts

__all__ = [
    "BLACKLIST",
    "Discard",
    "Instance",
    "InstructionRecord",
    "SeedTask",
    "SelfInstructResult",
    "StageFailure",
    "load_seed_tasks",
    "normalize_instruction",
    "parse_instances",
    "parse_labelled_instances",
    "passes_filters",
]

#: Words the paper filters out (tasks a text-only model cannot do), matched as whole words, case-insensitive.
BLACKLIST: tuple[str, ...] = (
    "image", "images", "graph", "graphs", "picture", "pictures", "file", "files", "map", "maps", "draw", "plot", "go to"
)  # fmt: skip
_BLACKLIST_RE = re.compile(r"\b(" + "|".join(re.escape(word) for word in BLACKLIST) + r")\b", re.IGNORECASE)


@dataclass(frozen=True)
class Instance:
    input: str
    output: str


@dataclass(frozen=True)
class SeedTask:
    """A task of a seed file (``id``, ``name``, ``instruction``, ``instances``, ``is_classification``)."""

    id: str
    instruction: str
    instances: tuple[Instance, ...] = ()
    is_classification: bool | None = None
    name: str = ""


def load_seed_tasks(path: str | Path) -> list[SeedTask]:
    """Read a Self-Instruct seed file (JSON lines, the format of the paper's ``seed_tasks.jsonl``).

    A line that is not JSON or lacks ``instruction`` is a :class:`ConfigError` naming the line.
    """
    tasks: list[SeedTask] = []
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                instances = tuple(Instance(str(i.get("input", "")), str(i["output"])) for i in row.get("instances", []))
                tasks.append(
                    SeedTask(
                        id=str(row.get("id", f"seed_{number}")),
                        instruction=str(row["instruction"]),
                        instances=instances,
                        is_classification=row.get("is_classification"),
                        name=str(row.get("name", "")),
                    )
                )
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                raise ConfigError(f"{path}:{number}: not a seed task ({type(error).__name__}: {error})") from error
    return tasks


# ------------------------------------------------------------------------------------------------- filters
def normalize_instruction(text: str) -> str:
    """Whitespace collapsed, ends stripped, a trailing colon removed and the first letter upper-cased."""
    text = " ".join(text.split()).rstrip(":").strip()
    return text[:1].upper() + text[1:]


def passes_filters(instruction: str, *, min_words: int = 4, max_words: int = 150) -> tuple[bool, str]:
    """The paper's heuristic filters; ``(True, "")`` or ``(False, reason)``.

    Dropped: fewer than ``min_words`` or more than ``max_words`` words (the paper's code drops 3 words or
    fewer), a :data:`BLACKLIST` word, a start with "Write a program", with punctuation or with a non-ASCII
    character.
    """
    text = instruction.strip()
    words = len(text.split())
    if words < min_words:
        return False, "too_short"
    if words > max_words:
        return False, "too_long"
    found = _BLACKLIST_RE.search(text)
    if found:
        return False, f"blacklisted:{found.group(1).lower()}"
    if text.lower().startswith("write a program"):
        return False, "write_a_program"
    if text[0] in string.punctuation:
        return False, "starts_with_punctuation"
    if not text[0].isascii():
        return False, "starts_with_non_ascii"
    return True, ""


# ------------------------------------------------------------------------------------------------ instances
_LABEL = re.compile(
    r"^\s*[*_]*(?:(?P<example>example\s*#?\d+)[*_]*\s*:?|(?P<key>input|output|class label|task)[*_]*\s*:)[*_]*\s*"
    r"(?P<rest>.*)$",
    re.IGNORECASE,
)


def _fields(text: str) -> list[list[tuple[str, str]]]:
    """Groups of ``(key, value)`` fields, a new group at each "Example k" or "Task:" line."""
    groups: list[list[tuple[str, str]]] = [[]]
    key: str | None = None
    lines: list[str] = []

    def close() -> None:
        if key is not None and key != "task":
            groups[-1].append((key, "\n".join(lines).strip()))

    for line in text.splitlines():
        match = _LABEL.match(line)
        if match is None:
            lines.append(line)
            continue
        close()
        if match["example"] or match["key"].lower() == "task":
            groups.append([])
        key = "task" if match["example"] else " ".join(match["key"].lower().split())
        lines = [match["rest"]]
        inline = _LABEL.match(match["rest"]) if match["example"] else None
        if inline is not None and inline["key"]:  # "Example 1: Input: ..." on one line
            key, lines = " ".join(inline["key"].lower().split()), [inline["rest"]]
    close()
    return [group for group in groups if group]


def parse_instances(text: str) -> list[Instance]:
    """Instances of an input-first answer (``Example k`` / ``Input:`` / ``Output:``; input optional)."""
    found: list[Instance] = []
    for group in _fields(text):
        current: dict[str, str] = {}
        for key, value in group:
            if key in current and (key == "output" or "output" in current):
                if current.get("output"):
                    found.append(Instance(current.get("input", ""), current["output"]))
                current = {}
            current[key] = value
        if current.get("output"):
            found.append(Instance(current.get("input", ""), current["output"]))
    return _clean(found, text)


def parse_labelled_instances(text: str) -> list[Instance]:
    """Instances of an output-first answer (``Class label:`` then ``Input:``); the label is the output."""
    found: list[Instance] = []
    for group in _fields(text):
        label: str | None = None
        for key, value in group:
            if key == "class label":
                if label:
                    found.append(Instance("", label))  # a label without input (tasks that take none)
                label = value
            elif key == "input" and label:
                found.append(Instance(value, label))
                label = None
        if label:
            found.append(Instance("", label))
    return _clean(found, text)


def _clean(found: list[Instance], raw: str) -> list[Instance]:
    """Empty outputs, input == output and exact repeats dropped; an empty result is a ResponseParseError."""
    kept = list(dict.fromkeys(i for i in found if i.output and i.input.strip() != i.output.strip()))
    if not kept:
        raise ResponseParseError("no instance (an 'Output:' or 'Class label:' field) in the answer", raw=raw)
    return kept


# -------------------------------------------------------------------------------------------------- results
@dataclass
class InstructionRecord:
    """A kept machine-generated instruction, its novelty evidence, classification and instances."""

    id: str
    instruction: str
    most_similar: list[tuple[str, float]]
    avg_similarity: float
    step: int
    provenance: dict[str, Any] = field(default_factory=dict)
    is_classification: bool | None = None
    instances: list[Instance] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Discard:
    """A candidate (or a whole answer when ``instruction`` is None) that did not join the pool."""

    step: int
    request_index: int
    reason: str
    instruction: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class StageFailure:
    """A kept instruction whose classification or instance request failed (the record stays, unfilled)."""

    stage: str
    record_id: str
    reason: str
    raw: str | None = None


@dataclass
class SelfInstructResult:
    instructions: list[InstructionRecord] = field(default_factory=list)
    discarded: list[Discard] = field(default_factory=list)
    failures: list[StageFailure] = field(default_factory=list)
    steps: int = 0

    def discard_counts(self) -> dict[str, int]:
        return reason_counts(d.reason for d in self.discarded)
