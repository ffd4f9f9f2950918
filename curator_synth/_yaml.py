"""YAML for files users write (recipes, filter lists, term lists, rubrics): safe, and a key given twice in one
mapping is an error naming both lines (PyYAML keeps the last one silently, so a second ``stages:`` would drop
the whole first list). Merge keys (``<<: *base``) may still be overridden, as YAML intends."""

from __future__ import annotations

from typing import Any

import yaml

from curator_synth.errors import ConfigError

__all__ = ["load_yaml"]


class _UniqueKeyLoader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (also on line {seen[key]})", key_node.start_mark
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str, source: str) -> Any:
    """Parse ``text`` (from ``source``, named in errors) as YAML; errors are :class:`ConfigError` with
    ``source:line``."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise ConfigError(f"{where}: not valid YAML: {getattr(error, 'problem', None) or error}") from error
