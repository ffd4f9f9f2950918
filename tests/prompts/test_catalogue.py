"""Every registered prompt template fills completely: no placeholder is left, and no brace is stray."""

from __future__ import annotations

import re

import pytest

from curator_synth.prompts import PROMPTS

PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def test_the_catalogue_covers_every_family() -> None:
    families = {name.split(".")[0] for name in PROMPTS.names()}
    assert {
        "nemotron",
        "nemotron_cc",
        "transforms",
        "evol",
        "self_instruct",
        "persona",
        "responses",
        "judge",
        "pairwise",
    } <= families


@pytest.mark.parametrize("template_id", PROMPTS.names())
def test_template_fills_completely(template_id: str) -> None:
    template = PROMPTS.get(template_id)
    values = {name: f"<{name.upper()}>" for name in template.fields}
    for message in template.messages(**values):
        text = message["content"]
        assert not PLACEHOLDER.search(text), f"{template_id}: unfilled placeholder in {text!r:.200}"
    assert template.version >= 1
    filled = template.format(**values)
    for name in template.fields:
        if "{" + name + "}" in template.text:
            assert f"<{name.upper()}>" in filled, f"{template_id}: {{{name}}} was not filled"
