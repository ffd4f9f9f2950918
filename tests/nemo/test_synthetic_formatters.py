"""NeMo's conversation formatters in ``curator_synth.nemo.synthetic`` render exactly as NeMo Curator's do, work on
the class as NeMo calls them, refuse turns out of order in NeMo's words; and any formatter of that kind (an object
or class with ``format_conversation``) is accepted by curator_synth's own clients."""

from __future__ import annotations

import pytest

from curator_synth.clients import AsyncOpenAIClient
from curator_synth.clients.formatters import MixtralFormatter
from curator_synth.errors import ConversationFormatError
from curator_synth.nemo.synthetic import Mixtral8x7BFormatter, NemotronFormatter, NoFormat
from curator_synth.testing import Echo, FakeLLMServer

TALK = [
    {"role": "user", "content": "Name a river."},
    {"role": "assistant", "content": "The Danube."},
    {"role": "user", "content": "Where does it end?"},
]


def test_mixtral_renders_as_nemo_does_on_the_class_and_differs_from_the_model_cards_template() -> None:
    rendered = "<s> [INST] \nName a river. [/INST]The Danube.</s>[INST] Where does it end? [/INST]"
    assert Mixtral8x7BFormatter.format_conversation(TALK) == rendered
    assert Mixtral8x7BFormatter().format_conversation(TALK) == rendered
    assert MixtralFormatter().format_conversation(TALK) != rendered  # the native one follows the model card


def test_nemotron_renders_as_the_native_formatter_does() -> None:
    rendered = NemotronFormatter.format_conversation(TALK)
    assert rendered.startswith("<extra_id_0>System\n\n<extra_id_1>User\nName a river.\n<extra_id_1>Assistant\n")
    assert rendered.endswith("Where does it end?\n<extra_id_1>Assistant\n")


@pytest.mark.parametrize("formatter", [Mixtral8x7BFormatter, NemotronFormatter])
def test_turns_out_of_order_are_named(formatter: type) -> None:
    with pytest.raises(ValueError, match=r"Conversation turn 1 is not 'assistant'\. All odd number turns"):
        formatter.format_conversation([TALK[0], TALK[0]])
    with pytest.raises(ValueError, match=r"Conversation turn 0 is not 'user'\. All even number turns"):
        formatter.format_conversation(TALK[1:])


def test_no_format_sends_one_user_turn_as_it_is() -> None:
    assert NoFormat().format_conversation([{"role": "user", "content": "# Title\n```x```"}]) == "# Title\n```x```"
    for conversation in ([], TALK[:2]):
        with pytest.raises(ValueError, match="There must be exactly one turn"):
            NoFormat().format_conversation(conversation)
    with pytest.raises(ValueError, match="Conversation turn 0 is not 'user'"):
        NoFormat().format_conversation(TALK[1:2])


async def test_a_nemo_formatter_class_or_object_drives_the_native_client() -> None:
    with FakeLLMServer(responder=Echo()) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, api_key="x", max_retries=0) as client:
            for formatter in (Mixtral8x7BFormatter, NoFormat()):
                talk = TALK if formatter is Mixtral8x7BFormatter else TALK[:1]
                (answer,) = await client.query_model(messages=talk, model="m", conversation_formatter=formatter)
                assert answer == formatter.format_conversation(talk)  # the completions prompt, echoed
            assert server.stats()["by_endpoint"]["completions"] == 2
            with pytest.raises(ConversationFormatError, match="any object with format_conversation"):
                await client.query_model(messages=TALK, model="m", conversation_formatter=42)  # type: ignore[arg-type]


def test_nemos_abstract_generator_base_and_the_native_generator_do_not_clash() -> None:
    from curator_synth.nemo.synthetic.generator import SyntheticDataGenerator
    from curator_synth.pipeline.generator import SyntheticDataGenerator as Native

    class Upper(SyntheticDataGenerator):
        def generate(self, llm_prompt: str | list[str]) -> str | list[str]:
            return llm_prompt.upper() if isinstance(llm_prompt, str) else [p.upper() for p in llm_prompt]

        def parse_response(self, llm_response: str | list[str]) -> list[str]:
            return [llm_response] if isinstance(llm_response, str) else list(llm_response)

    assert Upper()._name == "Upper"
    assert Upper().parse_response(Upper().generate(["a", "b"])) == ["A", "B"]
    with pytest.raises(TypeError, match="Can't instantiate abstract class"):
        SyntheticDataGenerator()  # type: ignore[abstract]
    assert Native is not SyntheticDataGenerator
