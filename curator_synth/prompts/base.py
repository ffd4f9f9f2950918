"""Prompt templates: module-level constants with named ``{placeholders}``, a stable id and a version.

``template.namespace`` (``"<id>@<version>"``) is the journal namespace of every request made from the template:
bump ``version`` whenever the wording changes, so re-runs do not reuse answers to the old wording. Templates are
registered by id in ``PROMPTS`` so recipes can name them and tests can check every one.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from curator_synth.errors import ConfigError
from curator_synth.registry import Registry

__all__ = ["PROMPTS", "PromptTemplate", "register", "transcript"]


@dataclass(frozen=True)
class PromptTemplate:
    """A user prompt (``text``) with an optional ``system`` prompt; both may hold ``{placeholders}``."""

    id: str
    version: int
    text: str
    system: str | None = None
    description: str = ""
    fields: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        names: set[str] = set()
        for part in (self.text, self.system or ""):
            try:
                parsed = list(string.Formatter().parse(part))
            except ValueError as error:  # a stray single brace
                raise ConfigError(f"template {self.id!r}: {error}") from error
            for _, name, _, _ in parsed:
                if name is None:
                    continue
                if not name.isidentifier():
                    raise ConfigError(f"template {self.id!r}: placeholder {{{name}}} must be a plain name")
                names.add(name)
        object.__setattr__(self, "fields", frozenset(names))

    @property
    def namespace(self) -> str:
        return f"{self.id}@{self.version}"

    def format(self, **values: Any) -> str:
        """The user prompt with every placeholder filled (missing or unknown names are a ConfigError)."""
        self._check(values)
        return self.text.format(**values)

    def messages(self, **values: Any) -> list[dict[str, str]]:
        """Chat messages: the system prompt (if any) and the user prompt, both filled."""
        self._check(values)
        user = {"role": "user", "content": self.text.format(**values)}
        if self.system is None:
            return [user]
        return [{"role": "system", "content": self.system.format(**values)}, user]

    def _check(self, values: Mapping[str, Any]) -> None:
        missing = self.fields - values.keys()
        unknown = values.keys() - self.fields
        if missing or unknown:
            detail = []
            if missing:
                detail.append(f"missing {sorted(missing)}")
            if unknown:
                detail.append(f"unknown {sorted(unknown)}")
            raise ConfigError(f"template {self.id!r} needs {sorted(self.fields)}: {', '.join(detail)}")


#: Every template of the library, by id.
PROMPTS: Registry[PromptTemplate] = Registry("prompts")


def register(template: PromptTemplate) -> PromptTemplate:
    """Register ``template`` under its id (module-level: ``FOO = register(PromptTemplate(...))``)."""
    PROMPTS.add(template.id, template)
    return template


def transcript(messages: Iterable[Mapping[str, str]]) -> str:
    """A conversation as ``User: ...`` / ``Assistant: ...`` blocks, for templates that show a model the history
    (user simulation). System messages are left out: the simulated user would not see them."""
    blocks = [
        f"{message['role'].capitalize()}: {message['content']}" for message in messages if message["role"] != "system"
    ]
    return "\n\n".join(blocks)
