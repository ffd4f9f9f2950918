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


def test_import_contracts() -> None:
    """The layers of .importlinter hold and no two subpackages (or modules of a package) import each other,
    counting function-local and TYPE_CHECKING imports (docs/architecture.md)."""
    lint_imports = shutil.which("lint-imports")
    assert lint_imports, "import-linter is part of the dev extra: pip install -e '.[dev]'"
    result = subprocess.run([lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_is_over_400_lines() -> None:
    """Modules are split by concept before they grow past 400 lines."""
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "curator_synth").rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 400
    }
    assert not long, f"split these modules by concept: {long}"


def test_test_module_names_are_unique() -> None:
    """Test folders have no __init__.py, so two test modules with one basename stop pytest's collection."""
    names = [path.name for path in (ROOT / "tests").rglob("*.py") if path.name != "conftest.py"]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    assert not duplicates, f"rename these test modules: {duplicates}"
