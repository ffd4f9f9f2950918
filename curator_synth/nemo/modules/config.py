"""NeMo Curator 0.9's ``BaseConfig``: a dataclass configuration read from a YAML file with ``from_yaml``.

As in NeMo, the file's top-level mapping gives the dataclass's fields. Unlike NeMo's, a mistake names the file
(and line, for invalid YAML): a file that is not a mapping, a key given twice, a key that is not a field, or a
required field left out is a :class:`~curator_synth.errors.ConfigError`, never a bare ``TypeError``.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from curator_synth._yaml import load_yaml
from curator_synth.errors import ConfigError

__all__ = ["BaseConfig"]

C = TypeVar("C", bound="BaseConfig")


@dataclass
class BaseConfig:
    """Base of a dataclass configuration; subclasses declare the fields."""

    @classmethod
    def from_yaml(cls: type[C], file_path: str | os.PathLike[str]) -> C:
        """An instance with the fields of the YAML mapping in ``file_path``."""
        path = Path(file_path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise ConfigError(f"{path}: cannot read the configuration: {error.strerror or error}") from error
        values: Any = load_yaml(text, str(path))
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: expected a mapping of {cls.__name__}'s fields, got {type(values).__name__}")
        fields = {field.name: field for field in dataclasses.fields(cls) if field.init}
        unknown = sorted(map(str, set(values) - set(fields)))
        if unknown:
            raise ConfigError(f"{path}: {cls.__name__} has no field(s) {', '.join(unknown)}; it has {sorted(fields)}")
        missing = [
            name
            for name, field in fields.items()
            if name not in values
            and field.default is dataclasses.MISSING
            and field.default_factory is dataclasses.MISSING
        ]
        if missing:
            raise ConfigError(f"{path}: {cls.__name__} needs the field(s) {', '.join(missing)}")
        return cls(**values)
