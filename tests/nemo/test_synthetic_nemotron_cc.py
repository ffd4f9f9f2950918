"""``curator_synth.nemo.synthetic``'s Nemotron-CC generators and post-processors: NeMo Curator 0.9's API over the
native Nemotron-CC generator, driven by real clients over loopback, and the post-processors on a dataset."""

from __future__ import annotations

import logging
import random
from typing import Any

import openai
import pandas as pd
import pytest

from curator_synth.clients import OpenAIClient as NativeOpenAIClient
from curator_synth.errors import ConfigError
from curator_synth.nemo.datasets import DocumentDataset
from curator_synth.nemo.services import AsyncOpenAIClient
from curator_synth.nemo.synthetic import (
    AsyncNemotronCCGenerator,
    NemotronCCDiverseQAPostprocessor,
    NemotronCCGenerator,
    NemotronCCKnowledgeListPostprocessor,
)
from curator_synth.nemo.synthetic.prompts import DISTILL_PROMPT_TEMPLATE, NEMOTRON_CC_DISTILL_SYSTEM_PROMPT
from curator_synth.testing import FakeLLMServer
from curator_synth.testing.responders import FakeRequest

QA = "Here are the questions and answers based on the provided text:\n" + "\n".join(
    f"- Question: Q{n}?\nAnswer: A{n}." for n in range(1, 5)
)


def system_and_prompt(request: FakeRequest) -> str:
    """The system prompt and the user prompt received, on two lines."""
    messages = request.messages or []
    return f"{messages[0]['content']}\n{messages[-1]['content']}"


async def test_an_async_nemo_client_sends_the_system_prompt_and_the_document_over_loopback() -> None:
    with FakeLLMServer(responder=system_and_prompt) as server:
        client = AsyncOpenAIClient(openai.AsyncOpenAI(base_url=server.base_url, api_key="x"))
        generator = AsyncNemotronCCGenerator(client)
        assert generator.client is client
        [answer] = await generator.distill("The Nile is long.", "m", model_kwargs={"temperature": 0.1})
        system, prompt = answer.split("\n", 1)
        assert system == NEMOTRON_CC_DISTILL_SYSTEM_PROMPT
        assert prompt == DISTILL_PROMPT_TEMPLATE.format(document="The Nile is long.")
        custom = await generator._prompt("m", "doc", "Say {document}", "Be brief.", {"other": 1}, {"n": 2})
        assert custom == ["Be brief.\nSay doc"] * 2  # a keyword the template lacks is ignored, as NeMo's
        with pytest.raises(ConfigError, match=r"missing \['unfilled'\]"):  # NeMo's str.format: a KeyError
            await generator._prompt("m", "doc", "Say {document} {unfilled}", "Be brief.", {}, {})


def test_the_blocking_generator_takes_a_native_client_over_loopback() -> None:
    with FakeLLMServer(responder=system_and_prompt) as server, NativeOpenAIClient(base_url=server.base_url) as client:
        generator = NemotronCCGenerator(client)
        assert generator.client is client
        [answer] = generator.generate_knowledge_list("Rivers flow.", model="m", system_prompt="Facts only.")
        assert answer.startswith("Facts only.\n")
        assert "Rivers flow." in answer


def dataset(**columns: list[str]) -> DocumentDataset:
    return DocumentDataset.from_pandas(pd.DataFrame(columns), npartitions=1)


def test_diverse_qa_samples_pairs_with_the_global_random_module(caplog: pytest.LogCaptureFixture) -> None:
    texts = ["A short document.", "Another one.", "No pairs here."]
    responses = [QA, QA, "Just some text, no questions."]
    processor = NemotronCCDiverseQAPostprocessor(max_num_pairs=3)
    random.seed(7)
    with caplog.at_level(logging.WARNING):
        first = processor(dataset(text=texts, response=responses)).df.compute()
    random.seed(7)
    again = processor(dataset(text=texts, response=responses)).df.compute()
    assert first["response"].tolist() == again["response"].tolist()  # seeded: repeatable
    assert first["text"].tolist() == texts[:2]  # the row without a pair is left out, with a warning
    assert "no question/answer pair" in caplog.text
    for text, response in zip(first["text"], first["response"], strict=True):
        head, *pairs = response.split("\n\n")
        assert head == text
        assert 1 <= len(pairs) <= 3
        assert all(pair in QA.replace("- Question", "Question") for pair in pairs)


def test_diverse_qa_with_a_tokenizer_keeps_fewer_pairs_for_a_short_document() -> None:
    class Words:
        def tokenize(self, text: str) -> list[str]:
            return text.split()

    processor = NemotronCCDiverseQAPostprocessor(tokenizer=Words(), max_num_pairs=10)
    done = processor(dataset(text=["Two words."], response=[QA])).df.compute()
    assert done["response"].iloc[0].count("Question:") == 1  # max(1, int(10 * 2 / 150)) == 1


def test_knowledge_list_markup_is_removed_line_by_line() -> None:
    lists = ["Facts:\n- The Nile is long.\n  It flows north.\n- Cairo is on it.", "", "- one\nplain line"]
    done = NemotronCCKnowledgeListPostprocessor()(dataset(text=lists)).df.compute()
    assert done["text"].tolist() == [
        "The Nile is long.\nIt flows north.\nCairo is on it.",
        "",
        "one\nplain line",
    ]


def test_the_postprocessors_keep_other_columns() -> None:
    frame: dict[str, Any] = {"text": ["Doc."], "response": [QA], "id": ["a"]}
    done = NemotronCCDiverseQAPostprocessor(text_field="text")(dataset(**frame)).df.compute()
    assert done["id"].tolist() == ["a"]
