"""Key paths of a recipe: changing one from the command line (``--set stages.sample.n=50``), and the keys a
misspelled one was probably meant to be (``did you mean 'min_score'?``)."""

from __future__ import annotations

import copy
import difflib
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from curator_synth.errors import ConfigError

__all__ = ["apply_overrides", "close_key", "parse_overrides"]


def parse_overrides(items: Iterable[str], flag: str = "--set") -> list[tuple[str, Any]]:
    """``KEY=VALUE`` texts as ``(key, value)`` pairs, each value read as YAML (``n=5`` is an int, ``x=null`` None)."""
    import yaml

    pairs = []
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{flag} expects KEY=VALUE, got {item!r}")
        try:
            pairs.append((key.strip(), yaml.safe_load(text)))
        except yaml.YAMLError as error:
            raise ConfigError(f"{flag} {key.strip()}: not a YAML value: {error}") from None
    return pairs


def apply_overrides(data: Mapping[str, Any], overrides: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """A copy of the recipe ``data`` with each ``(key.path, value)`` set. A part of the path indexes a list by
    position (``stages.3.n``) or, in ``stages``, by stage name (``stages.sample.n``, when one stage has it);
    missing mappings are made (``client.base_url`` on a recipe without ``client:``)."""
    recipe: dict[str, Any] = copy.deepcopy(dict(data))
    for key, value in overrides:
        *parents, last = key.split(".")
        target: Any = recipe
        for part in parents:
            target = _child(target, part, key)
        if isinstance(target, list):
            target[_index(target, last, key)] = value
        elif isinstance(target, dict):
            target[last] = value
        else:
            raise ConfigError(f"--set {key}: {last!r} is inside {type(target).__name__}, not a mapping or a list")
    return recipe


def _child(target: Any, part: str, key: str) -> Any:
    if isinstance(target, list):
        return target[_index(target, part, key)]
    if not isinstance(target, dict):
        raise ConfigError(f"--set {key}: {part!r} is inside {type(target).__name__}, not a mapping or a list")
    child = target.get(part)
    if child is None:
        child = target[part] = {}
    return child


def _index(items: list[Any], part: str, key: str) -> int:
    if part.lstrip("-").isdigit():
        index = int(part)
        if not -len(items) <= index < len(items):
            raise ConfigError(f"--set {key}: there is no item {index} (the list has {len(items)})")
        return index
    named = [i for i, item in enumerate(items) if isinstance(item, dict) and item.get("stage") == part]
    if len(named) != 1:
        names = [item.get("stage") for item in items if isinstance(item, dict)]
        why = "several stages have that name: give its position" if named else f"the stages are {names}"
        raise ConfigError(f"--set {key}: {part!r} names no single stage ({why})")
    return named[0]


def close_key(model: type[BaseModel], loc: Sequence[Any]) -> str | None:
    """The field of ``model`` (followed along ``loc``'s parents into nested models) closest to the unknown key
    ``loc[-1]``, if one is close enough to be a misspelling."""
    current: type[BaseModel] | None = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        field = current.model_fields.get(str(part))
        current = _model_in(field.annotation) if field is not None else None
    if current is None or not loc:
        return None
    found = difflib.get_close_matches(str(loc[-1]), list(current.model_fields), n=1, cutoff=0.6)
    return found[0] if found else None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model an annotation holds: ``Model``, ``Model | None``, ``list[Model]``, ..."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        for argument in typing.get_args(annotation):
            found = _model_in(argument)
            if found is not None:
                return found
    return None
