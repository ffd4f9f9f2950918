"""``generation_prompts.yaml``: every default prompt template of the generators, as YAML to read and copy.

The file is package data (``curator_synth/prompt_templates/generation_prompts.yaml``, also reachable as
``prompt_templates/generation_prompts.yaml`` from the repository root). It is written from the Python constants
by :func:`render_generation_prompts`, and a test checks that every entry still equals the constant its
``source`` names, so the two never drift. After changing a template, regenerate it::

    python -m curator_synth.prompts.library > curator_synth/prompt_templates/generation_prompts.yaml

Recipes name an entry as ``"generation_prompts:<id>"`` (the ``templates:`` of the ``topic_prompts`` stage);
:func:`resolve_template` turns such a reference into the template itself: same id and version as the Python
constant, so the same journal namespace (answers already paid for are reused).
"""

from __future__ import annotations

import difflib
import functools
import importlib
import os
import pkgutil
from collections.abc import Iterator
from importlib.resources import files
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from curator_synth._yaml import load_yaml
from curator_synth.errors import ConfigError
from curator_synth.prompts.base import PromptTemplate

__all__ = [
    "REFERENCE_PREFIX",
    "GenerationPrompt",
    "GenerationPrompts",
    "generation_prompt",
    "generation_prompts_path",
    "load_generation_prompts",
    "python_templates",
    "render_generation_prompts",
    "resolve_template",
]

#: How a recipe refers to an entry of the shipped file: ``"generation_prompts:nemotron.macro_topics"``.
REFERENCE_PREFIX = "generation_prompts:"
_NOT_FAMILIES = frozenset({"base", "library"})


class GenerationPrompt(BaseModel):
    """One entry: the Python constant it mirrors (``source``, a dotted path) and the template's fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(pattern=r"^curator_synth\.prompts\.\w+\.\w+$")
    version: int = Field(ge=1)
    description: str = ""
    system: str | None = None
    text: str = Field(min_length=1)

    def template(self, key: str) -> PromptTemplate:
        """The :class:`PromptTemplate` of this entry (its id is the entry's key)."""
        return PromptTemplate(
            id=key, version=self.version, text=self.text, system=self.system, description=self.description
        )


class GenerationPrompts(BaseModel):
    """The whole file: a format ``version`` and the entries by template id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    templates: dict[str, GenerationPrompt]


# ------------------------------------------------------------------------------------------------ reading
def generation_prompts_path() -> str:
    """Where the shipped file is (package data)."""
    return str(files("curator_synth") / "prompt_templates" / "generation_prompts.yaml")


def load_generation_prompts(path: str | os.PathLike[str] | None = None) -> GenerationPrompts:
    """Read and validate a generation-prompts file (default: the shipped one); errors name the file and key."""
    source = os.fspath(path) if path is not None else generation_prompts_path()
    try:
        with open(source, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise ConfigError(f"{source}: cannot read the generation prompts: {error.strerror or error}") from error
    data = load_yaml(text, source)
    try:
        return GenerationPrompts.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ConfigError(f"{source}: key {key!r}: {first['msg']}") from None


@functools.lru_cache(maxsize=1)
def _shipped() -> GenerationPrompts:
    return load_generation_prompts()


def generation_prompt(key: str) -> PromptTemplate:
    """The shipped template with id ``key`` (e.g. ``"nemotron.macro_topics"``); unknown keys name close ones."""
    entries = _shipped().templates
    if key not in entries:
        close = difflib.get_close_matches(key, list(entries), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; ids look like {next(iter(entries))!r}"
        raise ConfigError(f"{key!r} is not a template of generation_prompts.yaml{hint}")
    return entries[key].template(key)


def resolve_template(value: str) -> PromptTemplate | str:
    """``"generation_prompts:<id>"``: that shipped template; any other text: the template text itself (checked
    for stray braces; the generators give it an id from its hash)."""
    if value.startswith(REFERENCE_PREFIX):
        return generation_prompt(value.removeprefix(REFERENCE_PREFIX).strip())
    try:
        PromptTemplate(id="custom", version=1, text=value)  # a stray brace fails now, not at send time
    except ConfigError as error:
        raise ConfigError(f"not a usable template text ({error}); literal braces are written {{{{ and }}}}") from None
    return value


# ------------------------------------------------------------------------------------------------ writing
def python_templates() -> dict[str, tuple[str, PromptTemplate]]:
    """Every template constant of the prompt families: id -> (dotted path of the constant, template)."""
    import curator_synth.prompts as package

    found: dict[str, tuple[str, PromptTemplate]] = {}
    for module_info in pkgutil.iter_modules(package.__path__):
        if module_info.name in _NOT_FAMILIES:
            continue
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        public = set(getattr(module, "__all__", ()))
        for name, value in vars(module).items():  # definition order
            if name in public and isinstance(value, PromptTemplate):
                found.setdefault(value.id, (f"{module.__name__}.{name}", value))
    return found


_HEADER = """\
# The default prompt templates of the generators, one entry per template id, generated from the Python
# constants named by `source` (a test checks that they are equal). Read them, copy them, edit the copy.
#
# Use one in a recipe (the topic_prompts stage) as "generation_prompts:<id>", or paste edited text instead:
#
#   - stage: topic_prompts
#     pipeline: math
#     templates:
#       math_problem_prompt_template: "generation_prompts:nemotron.math_problem_beginner"
#       subtopic_prompt_template: |-
#         List {n_subtopics} topics a teacher covers under "{macro_topic}". Answer with a numbered list only.
#
# {placeholders} are filled by the generator; `system` (when present) is sent as the system message.
# Regenerate after changing a template in curator_synth/prompts/:
#   python -m curator_synth.prompts.library > curator_synth/prompt_templates/generation_prompts.yaml
"""


class _Block(str):
    """A string written as a YAML literal block (``|-``) when it can be."""


class _Dumper(yaml.SafeDumper):
    pass


def _block(dumper: yaml.SafeDumper, value: _Block) -> Any:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="|")


_Dumper.add_representer(_Block, _block)


def _entry(source: str, template: PromptTemplate) -> dict[str, Any]:
    entry: dict[str, Any] = {"source": source, "version": template.version, "description": template.description}
    if template.system is not None:
        entry["system"] = _Block(template.system)
    entry["text"] = _Block(template.text)
    return entry


def _family_blocks() -> Iterator[str]:
    family = None
    for key, (source, template) in python_templates().items():
        module = source.rsplit(".", 1)[0]
        if module != family:
            family = module
            yield f"\n  # {'-' * 40} {module}\n"
        dumped = yaml.dump({key: _entry(source, template)}, Dumper=_Dumper, sort_keys=False, width=110)
        yield "".join(f"  {line}" if line.strip() else line for line in dumped.splitlines(keepends=True))


def render_generation_prompts() -> str:
    """The text of ``generation_prompts.yaml`` from the Python constants (what the shipped file must equal)."""
    return _HEADER + "\nversion: 1\ntemplates:" + "".join(_family_blocks())


if __name__ == "__main__":
    print(render_generation_prompts(), end="")
