"""Multi-turn dialogues with a simulated user, against the loopback server."""

from __future__ import annotations

from pathlib import Path

import pytest

from curator_synth.clients import AsyncOpenAIClient, Journal, OpenAIClient
from curator_synth.errors import BadRequestError, ConfigError, ResponseParseError
from curator_synth.generators.dialogue import (
    AsyncDialogueGenerator,
    DialogueGenerator,
    DialogueRecord,
    clean_user_turn,
)
from curator_synth.testing import FakeLLMServer, FakeRequest

USER_SIM = "You are playing the human user"


class Conversation:
    """Assistant: numbered answers. Simulated user: a labelled follow-up (the label must be cleaned off)."""

    def __init__(self) -> None:
        self.requests: list[FakeRequest] = []

    def __call__(self, request: FakeRequest) -> str:
        self.requests.append(request)
        if USER_SIM in request.prompt:
            turns = request.prompt.count("Assistant: ")
            return f'User: "Follow-up after {turns} answers?"'
        assert request.messages is not None
        if "boom" in request.messages[-1]["content"]:
            raise RuntimeError("boom")
        return f"  Answer {len(request.messages)} to {request.messages[-1]['content']}  "


async def test_roles_alternate_and_turns_are_counted(tmp_path: Path) -> None:
    responder = Conversation()
    with FakeLLMServer(responder) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, cache_dir=tmp_path) as client:
            generator = AsyncDialogueGenerator(client, "m")
            record = await generator.generate_dialogue("How do tides work?", n_user_turns=3)
    assert isinstance(record, DialogueRecord)
    assert [m["role"] for m in record.messages] == ["user", "assistant"] * 3
    assert record.n_user_turns == 3
    assert [m["content"] for m in record.messages] == [
        "How do tides work?",
        "Answer 1 to How do tides work?",
        "Follow-up after 1 answers?",
        "Answer 3 to Follow-up after 1 answers?",
        "Follow-up after 2 answers?",
        "Answer 5 to Follow-up after 2 answers?",
    ]
    # the assistant saw the whole conversation each time; the simulated user saw it as a transcript
    assistant = [r for r in responder.requests if USER_SIM not in r.prompt]
    assert [len(r.messages or []) for r in assistant] == [1, 3, 5]
    user_sim = [r for r in responder.requests if USER_SIM in r.prompt]
    assert "User: How do tides work?\n\nAssistant: Answer 1 to How do tides work?" in user_sim[0].prompt
    namespaces = {r.namespace for r in Journal.read(tmp_path)}
    assert namespaces == {"responses.assistant_turn@1", "responses.user_turn@1"}
    assert record.provenance["template"] == "responses.user_turn"
    assert record.provenance["n_user_turns"] == 3
    assert record.as_dict()["messages"][0] == {"role": "user", "content": "How do tides work?"}


async def test_system_prompt_user_model_and_one_turn() -> None:
    responder = Conversation()
    with FakeLLMServer(responder) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            generator = AsyncDialogueGenerator(client, "assistant-m")
            record = await generator.generate_dialogue(
                "Plan a trip.", 2, system_prompt="Be brief.", user_model="user-m", user_model_kwargs={"seed": 4}
            )
            short = await generator.generate_dialogue("Hi.", 1)
    assert [m["role"] for m in record.messages] == ["system", "user", "assistant", "user", "assistant"]
    assert record.messages[0]["content"] == "Be brief."
    by_model = {(r.model, USER_SIM in r.prompt) for r in responder.requests}
    assert by_model == {("assistant-m", False), ("user-m", True)}
    user_sim = next(r for r in responder.requests if USER_SIM in r.prompt)
    assert "Be brief." not in user_sim.prompt  # the simulated user does not see the system prompt
    assert user_sim.body["seed"] == 4
    assert record.provenance["user_model"] == "user-m"
    assert record.provenance["model"] == "assistant-m"
    assert [m["role"] for m in short.messages] == ["user", "assistant"]


async def test_fan_out_reports_the_failing_dialogue() -> None:
    def answers(request: FakeRequest) -> str:
        if USER_SIM in request.prompt:
            return "   " if "empty" in request.prompt else "And then?"
        if "boom" in request.prompt:
            raise RuntimeError("boom")
        return "Sure."

    with FakeLLMServer(answers) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, max_retries=0) as client:
            generator = AsyncDialogueGenerator(client, "m")
            result = await generator.generate_dialogues(["First.", "boom", "empty please", "Last."], n_user_turns=2)
    assert [r.messages[0]["content"] for r in result.items] == ["First.", "Last."]
    assert all(len(r.messages) == 4 for r in result.items)
    assert [(f.index, f.input) for f in result.failures] == [(1, "boom"), (2, "empty please")]
    assert isinstance(result.failures[0].error, BadRequestError)
    assert isinstance(result.failures[1].error, ResponseParseError)
    assert result.failures[1].raw == "   "


async def test_a_rerun_costs_nothing(tmp_path: Path) -> None:
    with FakeLLMServer(Conversation()) as server:
        costs, outputs = [], []
        for _ in range(2):
            server.reset_stats()
            async with AsyncOpenAIClient(base_url=server.base_url, cache_dir=tmp_path) as client:
                result = await AsyncDialogueGenerator(client, "m").generate_dialogues(["A?", "B?"], 3)
            costs.append(server.stats()["requests"])
            outputs.append([r.messages for r in result.items])
    assert costs == [10, 0]  # 2 dialogues x (3 answers + 2 simulated user turns)
    assert outputs[0] == outputs[1]


def test_sync_twin_and_custom_user_template() -> None:
    def answers(request: FakeRequest) -> str:
        return "Why?" if request.prompt.startswith("Continue as the user") else "Because."

    with FakeLLMServer(answers) as server, OpenAIClient(base_url=server.base_url) as client:
        generator = DialogueGenerator(client, "m")
        record = generator.generate_dialogue(
            "Is the sky blue?", 2, user_template="Continue as the user:\n{conversation}"
        )
        assert [m["content"] for m in record.messages] == ["Is the sky blue?", "Because.", "Why?", "Because."]
        assert record.provenance["template"].startswith("dialogue.custom.")
        with pytest.raises(ConfigError, match="conversation"):
            generator.generate_dialogue("x", 2, user_template="no placeholder")
        with pytest.raises(ConfigError, match="n_user_turns"):
            generator.generate_dialogues(["x"], 0)
        with pytest.raises(ConfigError, match="opening"):
            generator.generate_dialogue("  ")
        assert server.stats()["requests"] == 3


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("User: Can you show an example?", "Can you show an example?"),
        ('"Can you show an example?"', "Can you show an example?"),
        ("**User:** What about Mars?", "What about Mars?"),
        ("What about Mars?\n\nAssistant: Mars has tides too.", "What about Mars?"),
        ("Next message: ok, and the moon?", "ok, and the moon?"),
    ],
)
def test_clean_user_turn(answer: str, expected: str) -> None:
    assert clean_user_turn(answer) == expected


def test_clean_user_turn_rejects_empty() -> None:
    with pytest.raises(ResponseParseError) as caught:
        clean_user_turn("User:   ")
    assert caught.value.raw == "User:   "
