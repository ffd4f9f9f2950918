"""A tiny causal language model for tests and offline examples: random weights, a tokenizer trained in-process.

:func:`tiny_causal_lm` builds a 2-layer Llama-architecture model (hidden size 32, a vocabulary of a few hundred
BPE tokens) and a ``PreTrainedTokenizerFast`` trained with the ``tokenizers`` library on a small built-in English
corpus; nothing is downloaded. The same ``seed`` gives the same weights and the same tokenizer. Its answers are
gibberish, but deterministic, batchable and fast (hundreds of tokens per second on one CPU core), which is what
tests of the in-process client (:mod:`curator_synth.clients.transformers`) need.

:func:`save_tiny_causal_lm` writes the pair to a directory in the usual Hugging Face layout (``config.json``,
``model.safetensors``, ``tokenizer.json``, ...) for code that loads models from a path.

Needs the ``transformers`` extra (torch, transformers, tokenizers).
"""

from __future__ import annotations

import os
import string
from pathlib import Path
from typing import Any

from curator_synth.errors import MissingDependencyError

__all__ = ["CHAT_TEMPLATE", "CORPUS", "SPECIAL_TOKENS", "save_tiny_causal_lm", "tiny_causal_lm"]

#: Special tokens: padding, begin and end of sequence (the end-of-sequence token also ends a chat turn), unknown.
SPECIAL_TOKENS = {"pad_token": "<pad>", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}
_ROLE_TOKENS = ["<|system|>", "<|user|>", "<|assistant|>"]

#: A minimal chat template: ``<s><|role|>\ncontent</s>\n`` per turn, then ``<|assistant|>\n`` to answer.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "<|{{ message['role'] }}|>\n{{ message['content'] }}{{ eos_token }}\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)

#: The tokenizer's training text: plain English of the kind instruction data holds.
CORPUS: tuple[str, ...] = (
    "Write a short poem about the sea and the wind.",
    "Explain why the sky is blue in simple words.",
    "What is the capital of France? The capital of France is Paris.",
    "Give me three ideas for a healthy breakfast.",
    "Summarize the following paragraph in one sentence.",
    "The quick brown fox jumps over the lazy dog.",
    "Photosynthesis is the process by which green plants turn light into chemical energy.",
    "A good answer is correct, helpful, concise and kind.",
    "Translate the sentence into French, then into German.",
    "List five questions a student might ask about history.",
    "Rewrite this email so that it sounds more polite and professional.",
    "The model answers the user's question step by step and shows its reasoning.",
    "Water boils at one hundred degrees Celsius at sea level.",
    "Python is a programming language that is easy to read and to write.",
    "Write a function that returns the sum of two numbers.",
    "Once upon a time, a small robot learned to paint the morning light.",
    "Math problems: if a train travels sixty miles in one hour, how far does it go in three hours?",
    "Synthetic data helps to train and evaluate language models when real data is scarce.",
    "Please describe your favourite book, its author and why you like it.",
    "The system prompt tells the assistant how to behave; the user asks; the assistant replies.",
    "Numbers: 0 1 2 3 4 5 6 7 8 9 10 100 1000, dates like 2024-05-01, and symbols like + - * / = ? ! , . : ;",
)


def _require() -> tuple[Any, Any, Any]:
    try:
        import tokenizers
        import torch
        import transformers
    except ImportError as error:
        raise MissingDependencyError("transformers", "transformers", "the tiny test language model") from error
    return torch, transformers, tokenizers


def _tokenizer(chat_template: bool, vocab_size: int) -> Any:
    _, transformers, tokenizers = _require()
    from tokenizers import decoders, models, pre_tokenizers, processors, trainers

    specials = [SPECIAL_TOKENS[name] for name in ("pad_token", "bos_token", "eos_token", "unk_token")]
    backend = tokenizers.Tokenizer(models.BPE(unk_token=SPECIAL_TOKENS["unk_token"]))
    # SentencePiece-style word boundaries ("▁"), no byte fallback: every token decodes to readable text.
    backend.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="first")
    backend.decoder = decoders.Metaspace(prepend_scheme="first")
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=1,
        special_tokens=specials + _ROLE_TOKENS,
        initial_alphabet=sorted(set(string.printable) - set(string.whitespace) | {"\n"}),
        show_progress=False,
    )
    backend.train_from_iterator(list(CORPUS), trainer=trainer)
    bos = SPECIAL_TOKENS["bos_token"]
    # "<s> text": a bos token before every encoded text, like Llama tokenizers.
    backend.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, backend.token_to_id(bos))]
    )
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=backend,
        additional_special_tokens=_ROLE_TOKENS,
        padding_side="left",
        **SPECIAL_TOKENS,
    )
    if chat_template:
        tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def tiny_causal_lm(seed: int = 0, chat_template: bool = True) -> tuple[Any, Any]:
    """A fresh ``(LlamaForCausalLM, PreTrainedTokenizerFast)`` pair with random weights, in eval mode on CPU.

    ``seed`` fixes the weights (torch's global random state is left as it was). With ``chat_template=False``
    the tokenizer has no chat template, as a base model's would not.
    """
    torch, transformers, _ = _require()
    tokenizer = _tokenizer(chat_template, vocab_size=400)
    config = transformers.LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        initializer_range=0.2,  # larger than usual: peakier next-token distributions, more varied greedy text
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=False,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = transformers.LlamaForCausalLM(config)
    model.eval()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model, tokenizer


def save_tiny_causal_lm(directory: str | os.PathLike[str], seed: int = 0, chat_template: bool = True) -> Path:
    """Write :func:`tiny_causal_lm`'s model and tokenizer to ``directory`` (created if needed); return its path."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    model, tokenizer = tiny_causal_lm(seed=seed, chat_template=chat_template)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
