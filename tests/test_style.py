"""ruff is part of the test suite, so CI (which runs only the README's commands) keeps main lint-clean."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ["curator_synth", "tests", "benchmarks"]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]])
def test_ruff(command: list[str]) -> None:
    ruff = shutil.which("ruff")
    assert ruff, "ruff is part of the dev extra: pip install -e '.[dev]'"
    targets = [t for t in TARGETS if (ROOT / t).exists()]
    result = subprocess.run([ruff, *command, *targets], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy() -> None:
    """The package is typed: mypy must stay clean (configuration in pyproject.toml)."""
    mypy = shutil.which("mypy")
    assert mypy, "mypy is part of the dev extra: pip install -e '.[dev]'"
    result = subprocess.run([mypy, "curator_synth"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_test_module_names_are_unique() -> None:
    """Test folders have no __init__.py, so two test modules with one basename stop pytest's collection."""
    names = [path.name for path in (ROOT / "tests").rglob("*.py") if path.name != "conftest.py"]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    assert not duplicates, f"rename these test modules: {duplicates}"
