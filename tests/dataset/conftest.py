"""Fixtures of the dataset tests: the real data in ../shared/data and small-file helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``shared/data`` next to the repository (real T0 and Self-Instruct files); its absence fails loudly."""
    if not (DATA / "t0_sample").is_dir() or not (DATA / "self_instruct").is_dir():
        pytest.fail(f"the real test data is missing: expected {DATA}/t0_sample and {DATA}/self_instruct")
    return DATA


@pytest.fixture(scope="session")
def t0_dir(data_dir: Path) -> Path:
    return data_dir / "t0_sample"
