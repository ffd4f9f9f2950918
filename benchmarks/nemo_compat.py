"""How much of NeMo Curator 0.9's own CPU test suite passes against ``curator_synth.nemo`` (issue 18).

NeMo Curator's tests for the modules curator_synth mirrors — the synthetic module, the LLM clients (services),
filters, datasets, blending and exact dedup — are read from a clone of NeMo Curator at ``--ref`` (nothing of them
is copied into this repository), their ``nemo_curator`` imports and patch targets renamed to
``curator_synth.nemo``, and run with pytest in a temporary directory with ``--cpu`` (GPU tests skipped). Tests that
patch NeMo's private helpers (``_impersonate_user``, ``_gather``, ``_try_convert_yaml_list``) are reported apart:
they test NeMo's internals, not its API. The one data file those tests read from NeMo's source tree (the
StarCoder extension table) is placed from the clone where the renamed tests look for it.

    python benchmarks/nemo_compat.py --repo PATH_TO_NeMo-Curator_CLONE            # ref r0.9.0
    python benchmarks/nemo_compat.py --repo PATH --keep /tmp/nemo_tests -k filters  # keep the files, one subset

Prints the outcome per test file and in all: passed / failed / errors / skipped, the files that do not import, and
the pass rate of the tests collected.
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

SUITES = (
    "tests/__init__.py",
    "tests/services/__init__.py",
    "tests/services/test_model_client.py",
    "tests/services/test_nemo_client.py",
    "tests/services/test_openai_client.py",
    "tests/synthetic/test_async_nemotron.py",
    "tests/synthetic/test_async_nemotron_cc.py",
    "tests/synthetic/test_generator.py",
    "tests/synthetic/test_mixtral.py",
    "tests/synthetic/test_nemotron.py",
    "tests/synthetic/test_nemotron_cc.py",
    "tests/synthetic/test_no_format.py",
    "tests/test_filters.py",
    "tests/test_dataset.py",
    "tests/test_blend_datasets.py",
    "tests/test_exact_dedup.py",
)
#: Data files NeMo's tests read from its source tree, placed where the renamed tests look for them (test data
#: of NeMo's suite, read from the clone like the tests themselves: ``test_filters``' StarCoder extension table).
TEST_DATA = {"nemo_curator/utils/code_meta.csv": "curator_synth.nemo/utils/code_meta.csv"}
PRIVATE = ("_impersonate_user", "_gather", "_try_convert_yaml_list")
CONFTEST = """
import pytest


def pytest_addoption(parser):
    parser.addoption("--cpu", action="store_true", default=False, help="skip the tests marked gpu")


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a GPU")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--cpu"):
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(pytest.mark.skip(reason="GPU test"))
"""


def extract(repo: Path, ref: str, target: Path) -> dict[str, set[str]]:
    """Write the suites, renamed, under ``target``; the names of the tests that patch private helpers, by file."""
    private: dict[str, set[str]] = {}
    for name in SUITES:
        shown = subprocess.run(["git", "-C", str(repo), "show", f"{ref}:{name}"], capture_output=True, text=True)
        if shown.returncode != 0:
            print(f"  (not at {ref}: {name})", file=sys.stderr)
            continue
        text = re.sub(r"\bnemo_curator\b", "curator_synth.nemo", shown.stdout)
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        private[name] = _private_tests(text)
    for source, placed in TEST_DATA.items():
        shown = subprocess.run(["git", "-C", str(repo), "show", f"{ref}:{source}"], capture_output=True, text=True)
        if shown.returncode == 0:
            (target / placed).parent.mkdir(parents=True, exist_ok=True)
            (target / placed).write_text(shown.stdout)
    (target / "conftest.py").write_text(CONFTEST)
    return private


def _private_tests(text: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(text)):
        test = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test")
        if test and any(helper in ast.unparse(node) for helper in PRIVATE):
            names.add(node.name)
    return names


def run(target: Path, select: str | None) -> list[tuple[str, str, str]]:
    """(file, test name, outcome) of every test run."""
    report = target / "junit.xml"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--cpu", "--junitxml", str(report),
               "--continue-on-collection-errors",
               "--rootdir", str(target), "-o", "asyncio_mode=auto", str(target / "tests")]  # fmt: skip
    if select:
        command += ["-k", select]
    subprocess.run(command, cwd=target, capture_output=True, text=True, timeout=3600)
    outcomes = []
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        kinds = {child.tag for child in case}
        outcome = next((kind for kind in ("failure", "error", "skipped") if kind in kinds), "passed")
        if not case.get("classname"):  # a file that did not import: its tests were not collected
            outcome = "unimportable"
        module = (case.get("classname") or case.get("name", "")).split(".")
        file = "/".join(part for part in module if not part[:1].isupper()) + ".py"
        outcomes.append((file, case.get("name", "").split("[")[0], outcome))
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, required=True, help="a git clone of NVIDIA/NeMo-Curator")
    parser.add_argument("--ref", default="r0.9.0")
    parser.add_argument("--keep", type=Path, default=None, help="write the renamed tests here and keep them")
    parser.add_argument("-k", dest="select", default=None, help="pytest -k expression")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nemo-compat-") as temp:
        target = args.keep or Path(temp)
        private = extract(args.repo, args.ref, target)
        outcomes = run(target, args.select)
    excluded = {(file, name) for file, names in private.items() for name in names}
    by_file: dict[str, Counter[str]] = {}
    for file, name, outcome in outcomes:
        kind = "private" if (file, name) in excluded else outcome
        by_file.setdefault(file, Counter())[kind] += 1
    total: Counter[str] = Counter()
    print(f"{'file':<44}{'passed':>8}{'failed':>8}{'errors':>8}{'skipped':>9}{'private':>9}")
    for file, counts in sorted(by_file.items()):
        total.update(counts)
        print(f"{file:<44}{counts['passed']:>8}{counts['failure']:>8}{counts['error']:>8}{counts['skipped']:>9}"
              f"{counts['private']:>9}")  # fmt: skip
    counted = total["passed"] + total["failure"] + total["error"]
    print(f"{'all':<44}{total['passed']:>8}{total['failure']:>8}{total['error']:>8}{total['skipped']:>9}"
          f"{total['private']:>9}")  # fmt: skip
    if total["unimportable"]:
        print(f"{total['unimportable']} files do not import: their tests are not counted")
    if counted:
        print(f"pass rate of the tests collected (GPU-skipped and private-helper tests apart): {total['passed']}/"
              f"{counted} = {total['passed'] / counted:.0%}")  # fmt: skip


if __name__ == "__main__":
    main()
