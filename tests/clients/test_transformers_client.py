"""TransformersClient / AsyncTransformersClient over the tiny random-weight model of curator_synth.testing.tiny_lm.

Nothing is downloaded: the model and tokenizer are built in process, the hub is switched off, and the session's
socket guard (conftest) fails any network use.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

pytest.importorskip("torch")
pytest.importorskip("transformers")

from curator_synth import AsyncTransformersClient, ConfigError, MissingDependencyError, TransformersClient
from curator_synth.clients.factory import ClientSpec
from curator_synth.testing.tiny_lm import save_tiny_causal_lm, tiny_causal_lm

QUESTION = [{"role": "user", "content": "Write a short poem about the sea."}]


def ask(i: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"Question {i}: explain why the sky is blue."}]


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="module")
def tiny() -> tuple[Any, Any]:
    return tiny_causal_lm(seed=0)


@pytest.fixture(scope="module")
def base_tiny() -> tuple[Any, Any]:
    """The same weights, with a tokenizer that has no chat template (a base model)."""
    return tiny_causal_lm(seed=0, chat_template=False)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_causal_lm(tmp_path_factory.mktemp("tiny") / "model", seed=0)


class GenerateSpy:
    """Counts ``model.generate`` calls and keeps their ``input_ids``."""

    def __init__(self, model: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[Any] = []
        real: Callable[..., Any] = model.generate

        def generate(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(kwargs["input_ids"])
            return real(*args, **kwargs)

        monkeypatch.setattr(model, "generate", generate)


@pytest.fixture
def spy(tiny: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> GenerateSpy:
    return GenerateSpy(tiny[0], monkeypatch)


async def test_generates_and_counts_tokens(tiny: tuple[Any, Any], spy: GenerateSpy) -> None:
    model, tokenizer = tiny
    async with AsyncTransformersClient(model, tokenizer, model_name="tiny") as client:
        answers = await client.query_model(messages=QUESTION, model="anything", max_tokens=6)
        assert len(answers) == 1
        assert isinstance(answers[0], str)
        assert answers[0]
        stats = client.stats
        assert (stats.requests_sent, stats.responses_ok, stats.from_journal) == (1, 1, 0)
        assert 0 < stats.completion_tokens <= 6
        prompt = tokenizer.apply_chat_template(QUESTION, add_generation_prompt=True, tokenize=False)
        assert stats.prompt_tokens == len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        assert len(spy.calls) == 1


async def test_concurrent_requests_are_batched(tiny: tuple[Any, Any], spy: GenerateSpy) -> None:
    model, tokenizer = tiny
    async with AsyncTransformersClient(model, tokenizer, max_batch_size=8, gather_window=0.05) as client:
        # different sampling parameters and seeds share batches: sampling is per row
        calls = [
            client.query_model(messages=ask(i), model="m", max_tokens=4, temperature=0.5 * (i % 3), seed=i)
            for i in range(16)
        ]
        answers = await asyncio.gather(*calls)
        assert len(answers) == 16
        assert all(len(a) == 1 for a in answers)
        assert len(spy.calls) < 16
        assert len(spy.calls) <= 3, f"16 requests took {len(spy.calls)} generate() calls"
        assert max(ids.shape[0] for ids in spy.calls) == 8
        assert client.generation_stats.batches == len(spy.calls)
        assert client.generation_stats.requests == 16
        assert client.stats.requests_sent == 16


async def test_max_tokens_bounds_the_completion(tiny: tuple[Any, Any]) -> None:
    model, tokenizer = tiny
    async with AsyncTransformersClient(model, tokenizer, default_max_tokens=3) as client:
        await client.query_model(messages=QUESTION, model="m", max_tokens=5, n=2, temperature=1.0)
        assert 0 < client.stats.completion_tokens <= 10
        (short,) = await client.query_model(messages=QUESTION, model="m", max_tokens=5)
        (longer,) = await client.query_model(messages=QUESTION, model="m", max_tokens=12)
        assert longer.startswith(short)
        assert len(longer) > len(short)
        before = client.stats.completion_tokens
        await client.query_model(messages=ask(1), model="m")  # default_max_tokens
        assert 0 < client.stats.completion_tokens - before <= 3


async def test_stop_cuts_the_text_and_ends_generation(tiny: tuple[Any, Any]) -> None:
    model, tokenizer = tiny
    async with AsyncTransformersClient(model, tokenizer) as client:
        (full,) = await client.query_model(messages=QUESTION, model="m", max_tokens=24)
        tokens_full = client.stats.completion_tokens
        cut = next(k for k in range(6, len(full) - 3) if full.find(full[k : k + 3]) == k)
        stop = full[cut : cut + 3]
        (short,) = await client.query_model(messages=QUESTION, model="m", max_tokens=24, stop=["@@never@@", stop])
        assert short == full[:cut]
        assert client.stats.completion_tokens - tokens_full < tokens_full  # stopped early


async def test_n_answers_and_seeds(tiny: tuple[Any, Any]) -> None:
    model, tokenizer = tiny
    async with AsyncTransformersClient(model, tokenizer) as client:
        params: dict[str, Any] = {"messages": QUESTION, "model": "m", "max_tokens": 10, "temperature": 1.0}
        three = await client.query_model(**params, n=3, seed=7)
        assert len(three) == 3
        assert len(set(three)) == 3
        alone = await client.query_model(**params, seed=7)
        # the same seed gives the same text whatever shares the batch
        batched, _other = await asyncio.gather(
            client.query_model(**params, seed=7), client.query_model(**{**params, "messages": ask(3)}, seed=8, n=2)
        )
        assert alone == batched == three[:1]
        assert await client.query_model(**params, seed=8) != alone
        greedy = [await client.query_model(messages=QUESTION, model="m", max_tokens=10) for _ in range(2)]
        assert greedy[0] == greedy[1]


async def test_chat_template_or_conversation_formatter(
    tiny: tuple[Any, Any], base_tiny: tuple[Any, Any], spy: GenerateSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    def prompt_of(call: Any, tokenizer: Any) -> str:
        return str(tokenizer.decode(call[0][call[0] != tokenizer.pad_token_id]))

    model, tokenizer = tiny
    async with AsyncTransformersClient(model, tokenizer) as client:
        await client.query_model(messages=QUESTION, model="m", max_tokens=2)
        assert prompt_of(spy.calls[-1], tokenizer).endswith("</s>\n<|assistant|>\n")  # the chat template
        await client.query_model(messages=QUESTION, model="m", max_tokens=2, conversation_formatter="nemotron")
        assert prompt_of(spy.calls[-1], tokenizer).endswith("<extra_id_1>Assistant\n")

    base_model, base_tokenizer = base_tiny
    base_spy = GenerateSpy(base_model, monkeypatch)
    async with AsyncTransformersClient(base_model, base_tokenizer) as client:  # no chat template: single_turn
        await client.query_model(messages=QUESTION, model="m", max_tokens=2)
        assert prompt_of(base_spy.calls[-1], base_tokenizer) == "<s> " + QUESTION[0]["content"]
    async with AsyncTransformersClient(base_model, base_tokenizer, conversation_formatter="chatml") as client:
        await client.query_model(messages=QUESTION, model="m", max_tokens=2)
        assert prompt_of(base_spy.calls[-1], base_tokenizer).endswith("<|im_start|>assistant\n")


async def test_loads_a_local_directory(tiny: tuple[Any, Any], model_dir: Path) -> None:
    model, tokenizer = tiny
    async with AsyncTransformersClient(model, tokenizer) as client:
        expected = await client.query_model(messages=QUESTION, model="m", max_tokens=8)
    async with AsyncTransformersClient.from_pretrained(model_dir) as loaded:
        assert loaded.model_name == str(model_dir)
        assert await loaded.query_model(messages=QUESTION, model="m", max_tokens=8) == expected


def test_missing_weights_and_directories_are_clear_errors(model_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "no-weights"
    shutil.copytree(model_dir, broken)
    (broken / "model.safetensors").unlink()
    with pytest.raises(ConfigError, match=r"no model weights in .*no-weights: expected one of model\.safetensors"):
        TransformersClient.from_pretrained(broken)
    with pytest.raises(ConfigError, match=r"not a local directory.*never downloads"):
        AsyncTransformersClient("meta-llama/Llama-3-8B")
    (broken / "config.json").unlink()
    with pytest.raises(ConfigError, match=r"no config\.json"):
        AsyncTransformersClient(broken)


def test_missing_torch_is_a_missing_dependency(tiny: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'curator_synth\[transformers\]'"):
        AsyncTransformersClient(*tiny)


async def test_unsupported_requests_are_refused(tiny: tuple[Any, Any]) -> None:
    async with AsyncTransformersClient(*tiny) as client:
        with pytest.raises(ConfigError, match="reward"):
            await client.query_reward_model(messages=QUESTION, model="m")
        with pytest.raises(ConfigError, match="response_format"):
            await client.query_model(messages=QUESTION, model="m", response_format={"type": "json_object"})
        with pytest.raises(ConfigError, match="top_p"):
            await client.query_model(messages=QUESTION, model="m", top_p=0)
        answers = await client.query_model(messages=QUESTION, model="m", max_tokens=3, top_k=5, temperature=0.8)
        assert len(answers) == 1
        assert client.stats.requests_sent == 1


async def test_journal_replays_without_generating(tiny: tuple[Any, Any], spy: GenerateSpy, tmp_path: Path) -> None:
    model, tokenizer = tiny
    requests = [{"messages": ask(i), "model": "m", "max_tokens": 5, "temperature": 1.0, "seed": i} for i in range(3)]
    async with AsyncTransformersClient(model, tokenizer, cache_dir=tmp_path) as client:
        first = await asyncio.gather(*(client.query_model(**r) for r in requests))
    generated = len(spy.calls)
    async with AsyncTransformersClient(model, tokenizer, cache_dir=tmp_path) as again:
        second = await asyncio.gather(*(again.query_model(**r) for r in requests))
        assert second == first
        assert len(spy.calls) == generated
        assert (again.stats.requests_sent, again.stats.from_journal) == (0, 3)


def test_client_spec_builds_it_once_per_process(model_dir: Path) -> None:
    spec = ClientSpec(kind="transformers", options={"model_path": str(model_dir), "max_batch_size": 4})
    spec = pickle.loads(pickle.dumps(spec))
    first, second = spec.build(share=0.5), spec.build()
    assert isinstance(first, AsyncTransformersClient)
    assert first.model is second.model  # loaded once per process
    assert first._engine.max_concurrency == 32

    async def run() -> list[str]:
        async with first:
            return await first.query_model(messages=QUESTION, model="m", max_tokens=3)

    assert len(asyncio.run(run())) == 1
    with pytest.raises(ConfigError, match="does not take"):
        ClientSpec(kind="transformers", rpm=60, options={"model_path": str(model_dir)})


def test_sync_facade(tiny: tuple[Any, Any]) -> None:
    with TransformersClient(*tiny, model_name="tiny-sync") as client:
        assert client.model_name == "tiny-sync"
        answers = client.query_model(messages=QUESTION, model="m", max_tokens=4, n=2, temperature=1.0, seed=1)
        assert len(answers) == 2
        assert client.stats.requests_sent == 1
        assert client.stats.completion_tokens <= 8
