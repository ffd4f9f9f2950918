"""Documented examples run and print what the docs say.

Convention in docs/**/*.md: a ```python block followed by a line "prints" and a plain ``` block holding the exact
output. Every such pair in every page is executed here (against FakeLLMServer, never the network).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
EXAMPLE = re.compile(r"```python\n((?:(?!```).)*)```\n\nprints\n\n```\n(.*?)```", re.S)


def examples() -> list[pytest.param]:  # type: ignore[valid-type]
    found = []
    for page in sorted(DOCS.rglob("*.md")):
        name = str(page.relative_to(DOCS))
        for number, match in enumerate(EXAMPLE.finditer(page.read_text())):
            found.append(pytest.param(name, number, match.group(1), match.group(2), id=f"{name}#{number}"))
    return found


def test_the_generator_pages_have_examples() -> None:
    pages = {param.values[0] for param in examples()}
    assert {"generators.md", "generators/evol_instruct.md", "generators/magpie.md"} <= pages


@pytest.mark.parametrize(("page", "number", "code", "printed"), examples())
def test_documented_example_prints_what_the_docs_say(
    page: str, number: int, code: str, printed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    exec(compile(code, f"{page}, example {number}", "exec"), {"__name__": f"docs_{number}"})
    assert capsys.readouterr().out == printed


def test_plugins_page_lists_every_registry() -> None:
    """docs/pipeline.md says docs/plugins.md lists every registry: each ``Registry("<name>")`` in the package has
    its entry point group ``curator_synth.<name>`` in that page's table."""
    package = DOCS.parent / "curator_synth"
    names = {
        match.group(1)
        for path in package.rglob("*.py")
        for match in re.finditer(r'\bRegistry\("(\w+)"\)', path.read_text(encoding="utf-8"))
    }
    assert len(names) >= 14
    table = (DOCS / "plugins.md").read_text(encoding="utf-8")
    assert sorted(name for name in names if f"| `curator_synth.{name}` |" not in table) == []
