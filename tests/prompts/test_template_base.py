from __future__ import annotations

import pytest

from curator_synth.errors import ConfigError
from curator_synth.prompts import PROMPTS, PromptTemplate, register


def test_fields_namespace_and_messages() -> None:
    template = PromptTemplate("t.demo", 3, "Write {n} items about {topic}.", system="You are {persona}.")
    assert template.fields == {"n", "topic", "persona"}
    assert template.namespace == "t.demo@3"
    assert template.messages(n=2, topic="tea", persona="a poet") == [
        {"role": "system", "content": "You are a poet."},
        {"role": "user", "content": "Write 2 items about tea."},
    ]


def test_literal_braces_are_allowed_when_doubled() -> None:
    template = PromptTemplate("t.json", 1, 'Answer as {{"answer": ...}} about {topic}')
    assert template.format(topic="x") == 'Answer as {"answer": ...} about x'


@pytest.mark.parametrize("text", ["unbalanced { brace", "closing } only", "{0} positional", "{a.b} attribute"])
def test_bad_templates_fail_at_definition(text: str) -> None:
    with pytest.raises(ConfigError):
        PromptTemplate("t.bad", 1, text)


def test_missing_and_unknown_values() -> None:
    template = PromptTemplate("t.demo2", 1, "{a} and {b}")
    with pytest.raises(ConfigError, match=r"missing \['b'\]"):
        template.format(a=1)
    with pytest.raises(ConfigError, match=r"unknown \['c'\]"):
        template.format(a=1, b=2, c=3)


def test_registry() -> None:
    template = register(PromptTemplate("t.registered", 1, "hi {x}"))
    assert PROMPTS.get("t.registered") is template
    with pytest.raises(ConfigError, match="already registered"):
        register(PromptTemplate("t.registered", 2, "other {x}"))
