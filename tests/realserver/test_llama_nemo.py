"""``curator_synth.nemo`` against a real llama.cpp server (random weights: protocol and behaviour, not content):
NeMo 1.x's client with a ``GenerationConfig`` (seed honoured, ``max_concurrent_requests``), and NeMo 0.9's
``NemotronGenerator`` over the 0.9 OpenAI wrapper, whose gibberish list answers end in a typed
``YamlConversionError`` (or, with ``ignore_conversion_failure``, no list and a warning), never in a hang; NeMo's
``AnswerabilityFilter`` over the native judge."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import openai
import pandas as pd
import pytest

from curator_synth.dataset import DocumentDataset
from curator_synth.filters import ScoreFilter
from curator_synth.nemo.filters import AnswerabilityFilter
from curator_synth.nemo.models.client import AsyncOpenAIClient, GenerationConfig
from curator_synth.nemo.services import OpenAIClient
from curator_synth.nemo.synthetic import NemotronGenerator
from curator_synth.nemo.synthetic.error import YamlConversionError

MODEL = "tiny-random"
HI = [{"role": "user", "content": "Write one sentence about rivers."}]


def test_nemo_1x_client_with_a_generation_config(llama: Any) -> None:
    client = AsyncOpenAIClient(max_concurrent_requests=2, base_url=llama.base_url, api_key="none")
    client.setup()
    config = GenerationConfig(max_tokens=8, temperature=1.0, seed=5)
    before = llama.answered()

    async def ask(seed: int, times: int) -> list[list[str]]:
        asked = GenerationConfig(**{**config.__dict__, "seed": seed})
        return await asyncio.gather(
            *(client.query_model(messages=HI, model=MODEL, generation_config=asked) for _ in range(times))
        )

    same = asyncio.run(ask(5, 3))
    (other,) = asyncio.run(ask(6, 1))
    assert llama.answered() - before == 4
    assert same[0] == same[1] == same[2]  # the config's seed reached the server
    assert same[0] != other
    response = asyncio.run(client.query_model_response(messages=HI, model=MODEL, generation_config=config))
    assert response.usage.completion_tokens <= 8  # max_tokens reached it too


def test_nemo_0_9_generator_on_gibberish_lists_raises_or_warns(llama: Any, caplog: pytest.LogCaptureFixture) -> None:
    generator = NemotronGenerator(OpenAIClient(openai.OpenAI(base_url=llama.base_url, api_key="none")))
    small = {"max_tokens": 24, "temperature": 1.0, "seed": 1}
    with pytest.raises(YamlConversionError):
        generator.run_open_qa_pipeline(
            n_macro_topics=2, n_subtopics=1, n_openlines=1, n_revisions=1, model=MODEL,
            base_model_kwargs=small, conversion_model_kwargs=small,
        )  # fmt: skip
    with caplog.at_level(logging.WARNING):
        prompts = generator.run_open_qa_pipeline(
            n_macro_topics=2, n_subtopics=1, n_openlines=1, n_revisions=1, model=MODEL,
            base_model_kwargs=small, conversion_model_kwargs=small, ignore_conversion_failure=True,
        )  # fmt: skip
    assert prompts == []  # the macro topics did not convert: nothing follows from them
    assert caplog.records  # and each list left out was said, not dropped silently


def test_answerability_judge_on_a_real_server_rejects_what_it_cannot_read(llama: Any) -> None:
    """NeMo's AnswerabilityFilter signature over the native judge: each pair is one request; a random model's
    answer has no verdict, so every pair is dropped with the reason ``unparseable``, and nothing fails."""
    rows = pd.DataFrame({"text": ["Rivers flow to the sea."] * 3, "question": ["Where do they flow?", "Why?", "How?"]})
    before = llama.answered()
    judge = AnswerabilityFilter(llama.base_url, "none", MODEL, "Judge.", "C: {context}\nQ: {question}", 2)
    judge.max_tokens = 16
    result = ScoreFilter(judge, text_field=judge.text_fields)(DocumentDataset.from_pandas(rows, npartitions=1))
    rejected = result.persist().rejected().df.compute()
    assert llama.answered() - before == 3
    assert rejected["filter_reason"].tolist() == ["answerability_filter:unparseable"] * 3
