"""Per-row sampling and stopping for batched ``generate``: each row of a batch keeps its own parameters.

``generate`` runs greedy; :class:`RowSampler`, a logits processor, turns each sampled row's scores into a one-hot
choice drawn from that row's own ``torch.Generator`` (after its repetition penalty, temperature, top-k and top-p),
so a row's tokens do not depend on the other rows: requests with different sampling parameters and seeds share
one batch. :class:`RowStopper` ends each row at its own ``max_tokens``, end-of-sequence token or stop string.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from transformers import LogitsProcessor, StoppingCriteria

__all__ = ["RowSampler", "RowStopper", "row_seed", "stop_strings"]


def row_seed(seed: int | None, index: int) -> int:
    """The generator seed of answer ``index`` of a request with ``seed`` (a fresh random seed if None)."""
    if seed is None:
        return secrets.randbits(63)
    digest = hashlib.sha256(f"{seed}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & (2**63 - 1)


def stop_strings(value: Any) -> tuple[str, ...]:
    """A request's ``stop`` (None, a string or a list of strings) as a tuple."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


class RowSampler(LogitsProcessor):
    """Per-row sampling under greedy ``generate``: a sampled row's scores become 0 at the drawn token, -inf elsewhere.

    Rows with temperature 0 (or None) stay greedy. Each sampled row draws from its own ``torch.Generator``, so its
    tokens do not depend on the other rows of the batch.
    """

    def __init__(self, rows: Sequence[Mapping[str, Any]], seeds: Sequence[int], prompt_length: int) -> None:
        self.prompt_length = prompt_length
        self.temperature = [float(row.get("temperature") or 0.0) for row in rows]
        self.top_p = [float(row.get("top_p") or 1.0) for row in rows]
        self.top_k = [int(row.get("top_k") or 0) for row in rows]
        self.penalty = [float(row.get("repetition_penalty") or 1.0) for row in rows]
        self.generators = [
            torch.Generator().manual_seed(seed) if temperature > 0 else None
            for seed, temperature in zip(seeds, self.temperature, strict=True)
        ]

    def __call__(self, input_ids: torch.LongTensor, original: torch.FloatTensor) -> torch.FloatTensor:
        scores = original.clone()
        for row, penalty in enumerate(self.penalty):
            if penalty != 1.0:  # as transformers' RepetitionPenaltyLogitsProcessor, over prompt and answer
                seen = input_ids[row]
                values = scores[row].gather(0, seen)
                scores[row].scatter_(0, seen, torch.where(values < 0, values * penalty, values / penalty))
        for row, generator in enumerate(self.generators):
            if generator is None:
                continue
            logits = scores[row] / self.temperature[row]
            if 0 < self.top_k[row] < logits.shape[-1]:
                kth = torch.topk(logits, self.top_k[row]).values[-1]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            if self.top_p[row] < 1.0:
                ordered, order = torch.sort(logits, descending=True)
                probabilities = ordered.softmax(-1)
                drop = probabilities.cumsum(-1) - probabilities >= self.top_p[row]  # smallest set reaching top_p
                logits = logits.masked_fill(torch.zeros_like(drop).scatter_(0, order, drop), float("-inf"))
            probabilities = logits.float().softmax(-1)
            token = int(torch.multinomial(probabilities.cpu(), 1, generator=generator).item())
            chosen = torch.full_like(scores[row], float("-inf"))
            chosen[token] = 0.0
            scores[row] = chosen
        return scores  # type: ignore[return-value]


class RowStopper(StoppingCriteria):
    """Ends each row at its own ``max_tokens``, at an end-of-sequence token, or once its text holds a stop string.

    ``lengths[row]`` is the number of tokens the row generated when it ended (end-of-sequence token included).
    """

    def __init__(
        self,
        prompt_length: int,
        max_tokens: Sequence[int],
        stops: Sequence[Sequence[str]],
        eos_ids: frozenset[int],
        decode: Callable[[list[int]], str],
    ) -> None:
        self.prompt_length = prompt_length
        self.max_tokens = list(max_tokens)
        self.stops = [tuple(stop) for stop in stops]
        self.eos_ids = eos_ids
        self.decode = decode
        self.lengths: list[int | None] = [None] * len(max_tokens)
        self.hit_length = [False] * len(max_tokens)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any) -> torch.BoolTensor:
        generated = input_ids.shape[1] - self.prompt_length
        for row in range(len(self.lengths)):
            if self.lengths[row] is not None:
                continue
            tokens = input_ids[row, self.prompt_length :].tolist()
            ended = bool(tokens) and tokens[-1] in self.eos_ids
            if ended or (self.stops[row] and any(stop in self.decode(tokens) for stop in self.stops[row])):
                self.lengths[row] = generated
            elif generated >= self.max_tokens[row]:
                self.lengths[row] = generated
                self.hit_length[row] = True
        done = [length is not None for length in self.lengths]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)  # type: ignore[return-value]
