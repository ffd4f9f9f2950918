"""Fixtures of the dataset tests: the real data kept in the repository (see ``tests/data_paths.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_paths import SELF_INSTRUCT, T0_SAMPLE


@pytest.fixture(scope="session")
def self_instruct_dir() -> Path:
    """The Self-Instruct files shipped in the package (seed tasks, user-oriented instructions, predictions)."""
    return SELF_INSTRUCT


@pytest.fixture(scope="session")
def t0_dir() -> Path:
    """The 25 files of the T0 subset in ``tests/data/t0_sample``."""
    return T0_SAMPLE
