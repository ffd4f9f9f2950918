"""``curator_synth.nemo.services``: NeMo Curator 0.9's clients, tested on loopback. The OpenAI wrappers call the
SDK instance's own ``chat.completions.create`` (so what the caller patched or configured on it is used), send
nothing the caller did not give, warn about what OpenAI's chat API ignores, and read a reward model's scores; the
NeMo Deploy client renders the conversation with the caller's formatter and cuts answers at stop words. Both kinds
of client drive curator_synth's own generators."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import openai
import pytest

from curator_synth.generators import AsyncNemotronGenerator
from curator_synth.nemo.services import (
    AsyncOpenAIClient,
    ConversationFormatter,
    LLMClient,
    NemoDeployClient,
    OpenAIClient,
)
from curator_synth.testing import Echo, FakeLLMServer, Fixed, Reward

HELLO = [{"role": "user", "content": "Hello there"}]


@pytest.fixture
def server() -> Any:
    with FakeLLMServer(responder=Echo()) as fake:
        yield fake


def test_the_call_goes_through_the_sdk_instance_and_sends_only_what_was_given(server: FakeLLMServer) -> None:
    sdk = openai.OpenAI(base_url=server.base_url, api_key="x")
    seen: list[dict[str, Any]] = []
    create = sdk.chat.completions.create

    def spy(**arguments: Any) -> Any:  # what a caller's patch of the instance sees
        seen.append(arguments)
        return create(**arguments)

    sdk.chat.completions.create = spy  # type: ignore[method-assign]
    client = OpenAIClient(sdk)
    assert client.client is sdk
    assert client.query_model(messages=HELLO, model="m") == ["Hello there"]
    assert seen[0]["max_tokens"] is openai.NOT_GIVEN
    assert server.hits({"model": "m", "messages": HELLO, "stream": False}) == 1  # no other field was sent
    assert client.query_model(messages=HELLO, model="m", n=2, max_tokens=1, seed=3) == ["Hello", "Hello"]


def test_what_openai_ignores_is_warned_about_and_an_unknown_keyword_is_an_error(server: FakeLLMServer) -> None:
    client = OpenAIClient(openai.OpenAI(base_url=server.base_url, api_key="x"))
    with pytest.warns(UserWarning, match="top_k is not used in an OpenAIClient"):
        client.query_model(messages=HELLO, model="m", top_k=5)
    with pytest.warns(UserWarning, match="conversation_formatter is not used"):
        client.query_model(messages=HELLO, model="m", conversation_formatter=object())
    with pytest.raises(TypeError, match="unexpected keyword arguments: temprature"):
        client.query_model(messages=HELLO, model="m", temprature=0.2)
    assert server.stats()["requests"] == 2


def test_a_reward_model_gives_its_scores_and_a_chat_model_is_refused() -> None:
    scores = {"helpfulness": 3.5, "correctness": 2.0}
    with FakeLLMServer(responder=Reward(scores)) as reward, FakeLLMServer(responder=Fixed("hi")) as chat:
        turns = [*HELLO, {"role": "assistant", "content": "Hi!"}]
        assert OpenAIClient(openai.OpenAI(base_url=reward.base_url, api_key="x")).query_reward_model(
            messages=turns, model="reward"
        ) == pytest.approx(scores)
        with pytest.raises(ValueError, match=r"Logprobs not found\. chat is likely not a reward model"):
            OpenAIClient(openai.OpenAI(base_url=chat.base_url, api_key="x")).query_reward_model(
                messages=turns, model="chat"
            )


async def test_the_async_client_drives_curator_synths_own_generators() -> None:
    with FakeLLMServer(responder=Fixed("1. Travel\n2. Cooking\n3. Music")) as topics:
        client = AsyncOpenAIClient(openai.AsyncOpenAI(base_url=topics.base_url, api_key="x"))
        assert await client.query_model(messages=HELLO, model="m") == ["1. Travel\n2. Cooking\n3. Music"]
        generator = AsyncNemotronGenerator(client)
        assert await generator.generate_macro_topics(n_macro_topics=3, model="m") == ["1. Travel\n2. Cooking\n3. Music"]
        assert topics.stats()["requests"] == 2


class _Deploy:
    """A stand-in for ``nemo.deploy.nlp.NemoQueryLLM``: answers every prompt with ``answer``."""

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.model_name = ""
        self.calls: list[dict[str, Any]] = []

    def query_llm(self, **arguments: Any) -> list[list[str]]:
        self.calls.append(arguments)
        return [[self.answer] * len(arguments["prompts"])]


class _Plain(ConversationFormatter):
    """A formatter written for NeMo: it implements ``format_conversation`` only."""

    def format_conversation(self, conv: Sequence[Mapping[str, Any]]) -> str:
        return " | ".join(f"{turn['role']}: {turn['content']}" for turn in conv)


def test_the_nemo_deploy_client_formats_sends_deploys_names_and_cuts_at_stop_words() -> None:
    deploy = _Deploy("An answer. <end> more text")
    client = NemoDeployClient(deploy)
    assert isinstance(client, LLMClient)
    answer = client.query_model(messages=HELLO, model="nemotron", conversation_formatter=_Plain(), max_tokens=9,
                                seed=1, stop="<end>", temperature=0.5, top_k=4, top_p=0.9)  # fmt: skip
    assert answer == ["An answer."]
    assert deploy.model_name == "nemotron"
    assert deploy.calls == [{
        "prompts": ["user: Hello there"], "max_output_len": 9, "random_seed": 1, "stop_words_list": ["<end>"],
        "temperature": 0.5, "top_k": 4, "top_p": 0.9,
    }]  # fmt: skip
    assert client.query_model(messages=HELLO, model="m", conversation_formatter=_Plain()) == [
        "An answer. <end> more text"
    ]
    with pytest.warns(UserWarning, match="n is not supported"):
        client.query_model(messages=HELLO, model="m", conversation_formatter=_Plain(), n=2)
    with pytest.raises(ValueError, match="requires a conversation_formatter"):
        client.query_model(messages=HELLO, model="m")
    with pytest.raises(NotImplementedError, match="not supported in NeMo Deploy Clients"):
        client.query_reward_model(messages=HELLO, model="m")


def test_the_formatter_contract_is_nemos_one_abstract_method() -> None:
    with pytest.raises(TypeError, match="Can't instantiate abstract class"):
        ConversationFormatter()  # type: ignore[abstract]
    assert _Plain().format_conversation(HELLO) == "user: Hello there"
