"""``curator_synth.nemo.modules.config.BaseConfig``: a dataclass read from YAML, each mistake named by file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from curator_synth.errors import ConfigError
from curator_synth.nemo.modules.config import BaseConfig


@dataclass
class DedupConfig(BaseConfig):
    cache_dir: str
    seed: int = 42
    text_field: str = "text"
    columns: list[str] = field(default_factory=list)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_fields_come_from_the_yaml_mapping(tmp_path: Path) -> None:
    config = DedupConfig.from_yaml(write(tmp_path, "cache_dir: /tmp/cache\nseed: 7\ncolumns: [a, b]\n"))
    assert config == DedupConfig(cache_dir="/tmp/cache", seed=7, columns=["a", "b"])
    assert isinstance(config, DedupConfig)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cache_dir: x\nsed: 7\n", r"config.yaml: DedupConfig has no field\(s\) sed"),
        ("seed: 7\n", r"config.yaml: DedupConfig needs the field\(s\) cache_dir"),
        ("- cache_dir\n", "config.yaml: expected a mapping of DedupConfig's fields, got list"),
        ("cache_dir: x\ncache_dir: y\n", r"config.yaml:2: not valid YAML: duplicate key 'cache_dir'"),
    ],
)
def test_a_mistake_names_the_file(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        DedupConfig.from_yaml(write(tmp_path, text))


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the configuration"):
        DedupConfig.from_yaml(tmp_path / "absent.yaml")
