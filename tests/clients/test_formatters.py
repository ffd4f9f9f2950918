from __future__ import annotations

import pytest

from curator_synth.clients.formatters import FORMATTERS, resolve_formatter
from curator_synth.errors import ConversationFormatError

CONV = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "2+2?"},
]

EXPECTED = {
    "nemotron": (
        "<extra_id_0>System\nBe brief.\n<extra_id_1>User\nHi\n<extra_id_1>Assistant\nHello!\n"
        "<extra_id_1>User\n2+2?\n<extra_id_1>Assistant\n"
    ),
    "mixtral": "<s> [INST] Be brief.\n\nHi [/INST] Hello!</s> [INST] 2+2? [/INST]",
    "llama3": (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    ),
    "chatml": (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_multi_turn_templates(name: str) -> None:
    assert FORMATTERS.get(name)().format_conversation(CONV) == EXPECTED[name]


def test_nemotron_without_system() -> None:
    prompt = FORMATTERS.get("nemotron")().format_conversation([{"role": "user", "content": "Q"}])
    assert prompt == "<extra_id_0>System\n\n<extra_id_1>User\nQ\n<extra_id_1>Assistant\n"


def test_single_turn() -> None:
    formatter = FORMATTERS.get("single_turn")()
    assert formatter.format_conversation([{"role": "user", "content": "Q"}]) == "Q"
    assert formatter.format_conversation(CONV[:2]) == "Be brief.\n\nHi"
    with pytest.raises(ConversationFormatError, match="exactly one user turn"):
        formatter.format_conversation(CONV)


BAD = [
    ([], "no user turn"),
    ([{"role": "assistant", "content": "x"}], "turn 0: expected role 'user'"),
    ([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], "turn 1: expected role 'assistant'"),
    ([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "must end with a user turn"),
    ([{"role": "user", "content": "a"}, {"role": "system", "content": "b"}], "system message may only come first"),
    ([{"role": "user"}], "turn 0: expected a dict with 'role' and 'content'"),
    ([{"role": "user", "content": 3}], "content must be a string"),
    ("hello", "must be a list"),
]


@pytest.mark.parametrize("name", FORMATTERS.names())
@pytest.mark.parametrize(("conversation", "message"), BAD)
def test_every_formatter_rejects_bad_shapes(name: str, conversation: object, message: str) -> None:
    with pytest.raises(ConversationFormatError, match=message):
        FORMATTERS.get(name)().format_conversation(conversation)  # type: ignore[arg-type]


def test_registry_and_resolution() -> None:
    assert set(FORMATTERS.names()) >= {"nemotron", "mixtral", "llama3", "chatml", "single_turn"}
    assert resolve_formatter("ChatML").__class__.__name__ == "ChatMLFormatter"
    assert resolve_formatter(None) is None
    with pytest.raises(ConversationFormatError):
        resolve_formatter(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown formatters 'nope'"):
        resolve_formatter("nope")
