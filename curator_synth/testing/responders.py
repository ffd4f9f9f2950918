"""What :class:`~curator_synth.testing.FakeLLMServer` answers: the request/reply types and built-in responders.

A responder is any callable ``(FakeRequest) -> str | FakeReply``. The server calls it once per choice (``n``
choices → ``n`` calls with ``choice_index`` 0..n-1), on its event-loop thread only, so a responder may keep
plain mutable state without locks. An exception raised by a responder becomes an HTTP 400 whose message
starts with ``FakeLLMServer responder failed:`` (a broken test setup surfaces at once and is not retried).

The built-ins are plain classes (picklable, no lambdas); stateful ones (:class:`Scripted`, :class:`Cycle`)
keep their state in the server: in process mode that is the child's copy, not the object the test holds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from curator_synth.clients.reasoning import with_trace
from curator_synth.errors import ConfigError

__all__ = [
    "HELPSTEER2_ATTRIBUTES",
    "Cycle",
    "Echo",
    "FakeReply",
    "FakeRequest",
    "Fixed",
    "Reasoning",
    "Responder",
    "Reward",
    "Scripted",
    "count_tokens",
]

#: The five attributes NVIDIA's Nemotron-4-340B reward model scores (HelpSteer2), in its answer order.
HELPSTEER2_ATTRIBUTES: tuple[str, ...] = (
    "helpfulness",
    "correctness",
    "coherence",
    "complexity",
    "verbosity",
)


def count_tokens(text: str) -> int:
    """The fake tokenizer used for ``usage``, ``max_tokens`` and truncation: whitespace-separated words."""
    return len(text.split())


@dataclass(frozen=True, slots=True)
class FakeRequest:
    """One choice the server asks a responder for.

    ``prompt`` is the content of the last ``user`` message for chat ("" if there is none), or the prompt of
    a completion. ``body`` is the whole parsed JSON request (options such as ``temperature`` are there).
    ``request_number`` counts, from 0 in arrival order, the generation requests that passed auth, the
    rpm limiter and validation (the ones faults apply to); it does not restart with ``reset_stats()``.
    """

    endpoint: Literal["chat", "completions"]
    model: str
    messages: list[dict[str, Any]] | None
    prompt: str
    body: dict[str, Any]
    choice_index: int = 0
    request_number: int = 0


@dataclass(frozen=True, slots=True)
class FakeReply:
    """A reply with more than text.

    The server still applies ``stop`` and ``max_tokens`` to ``text`` (which may change ``finish_reason``).
    ``logprobs`` turns the choice into a reward-model answer: a chat choice gets
    ``{"content": [{"token": name, "logprob": value, "bytes": None, "top_logprobs": []}, ...]}`` in dict
    order, the way Nemotron-4-340B-Reward answers on NVIDIA NIM.
    ``reasoning`` makes it a reasoning model's answer: a chat message gets ``reasoning_content`` beside
    ``content``, as vLLM's reasoning parsers, NIM and DeepSeek send it (``max_tokens`` counts the reasoning first:
    a reasoning cut short leaves ``content`` null with ``finish_reason: length``). Completions ignore it.
    """

    text: str
    finish_reason: str = "stop"
    logprobs: dict[str, float] | None = None
    reasoning: str | None = None


Responder = Callable[[FakeRequest], "str | FakeReply"]
"""Any callable that turns a :class:`FakeRequest` into the text (or :class:`FakeReply`) of one choice."""

Reply = str | FakeReply


def _check_reply(value: object, what: str) -> Reply:
    if not isinstance(value, (str, FakeReply)):
        raise ConfigError(f"{what} must be a str or FakeReply, got {type(value).__name__}")
    return value


class Fixed:
    """Always the same reply."""

    def __init__(self, text: str | FakeReply) -> None:
        self.text = _check_reply(text, "Fixed text")

    def __call__(self, request: FakeRequest) -> Reply:
        return self.text

    def __repr__(self) -> str:
        return f"Fixed({self.text!r})"


class Echo:
    """``prefix`` followed by the request's prompt (last user message, or the completion prompt)."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix

    def __call__(self, request: FakeRequest) -> str:
        return self.prefix + request.prompt

    def __repr__(self) -> str:
        return f"Echo(prefix={self.prefix!r})"


class Recording:
    """The replies of another responder (default :class:`Echo`), keeping each request's body in ``bodies`` (once
    per request, however many choices it asks for): what the client really sent, for tests of request fields."""

    def __init__(self, inner: Responder | None = None) -> None:
        self.inner: Responder = inner if inner is not None else Echo()
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: FakeRequest) -> Reply:
        if request.choice_index == 0:
            self.bodies.append(request.body)
        return self.inner(request)

    def __repr__(self) -> str:
        return f"Recording({self.inner!r})"


class Scripted:
    """Replies chosen by rules on the prompt; the first rule (in mapping order) that matches wins.

    ``match`` says how a rule's key is compared with the prompt: ``"substring"`` (key in prompt),
    ``"exact"`` (key == prompt) or ``"regex"`` (``re.search``). A sequence value gives its items in turn
    on successive hits of that rule and then stays on its last item. When no rule matches, ``default``
    answers (a reply, or another responder called with the same request); with no default the responder
    raises, so the client gets a 400 naming the unmatched prompt.
    """

    def __init__(
        self,
        rules: Mapping[str, Reply | Sequence[Reply]],
        default: Reply | Responder | None = None,
        match: Literal["substring", "exact", "regex"] = "substring",
    ) -> None:
        if match not in ("substring", "exact", "regex"):
            raise ConfigError(f"Scripted match must be 'substring', 'exact' or 'regex', got {match!r}")
        self.match = match
        self.default = default
        self._keys: list[str] = []
        self._patterns: list[re.Pattern[str] | None] = []
        self._replies: list[tuple[Reply, ...]] = []
        for key, value in rules.items():
            if isinstance(value, (str, FakeReply)):
                replies: tuple[Reply, ...] = (value,)
            else:
                replies = tuple(_check_reply(item, f"Scripted rule {key!r} item") for item in value)
                if not replies:
                    raise ConfigError(f"Scripted rule {key!r} has an empty sequence of replies")
            try:
                pattern = re.compile(key) if match == "regex" else None
            except re.error as exc:
                raise ConfigError(f"Scripted rule {key!r} is not a valid regex: {exc}") from exc
            self._keys.append(key)
            self._patterns.append(pattern)
            self._replies.append(replies)
        self._hits = [0] * len(self._keys)

    def _matches(self, index: int, prompt: str) -> bool:
        if self.match == "substring":
            return self._keys[index] in prompt
        if self.match == "exact":
            return self._keys[index] == prompt
        pattern = self._patterns[index]
        return pattern is not None and pattern.search(prompt) is not None

    def __call__(self, request: FakeRequest) -> Reply:
        prompt = request.prompt
        for index, replies in enumerate(self._replies):
            if self._matches(index, prompt):
                hit = self._hits[index]
                self._hits[index] = hit + 1
                return replies[min(hit, len(replies) - 1)]
        default = self.default
        if default is None:
            raise LookupError(f"no Scripted rule matches prompt {prompt[:200]!r} and there is no default")
        if isinstance(default, (str, FakeReply)):
            return default
        return default(request)

    def __repr__(self) -> str:
        return f"Scripted(rules={len(self._keys)}, match={self.match!r}, default={self.default!r})"


class Cycle:
    """The replies in turn, whatever the prompt, starting over after the last one."""

    def __init__(self, replies: Sequence[Reply]) -> None:
        if isinstance(replies, (str, FakeReply)):
            raise ConfigError("Cycle needs a sequence of replies, not a single reply")
        self.replies = tuple(_check_reply(item, "Cycle item") for item in replies)
        if not self.replies:
            raise ConfigError("Cycle needs at least one reply")
        self._next = 0

    def __call__(self, request: FakeRequest) -> Reply:
        reply = self.replies[self._next]
        self._next = (self._next + 1) % len(self.replies)
        return reply

    def __repr__(self) -> str:
        return f"Cycle({list(self.replies)!r})"


class Reasoning:
    """A reasoning model: ``inner``'s answer (a responder; default :class:`Echo`) after some reasoning, sent as
    ``form="field"`` (``reasoning_content`` in the message) or ``form="think"`` (``<think>…</think>`` before the
    answer in the content, as a server without a reasoning parser sends it). ``reasoning`` is the text, or a
    callable ``(FakeRequest) -> str``; None: ``"Let me think about <the prompt's first words> step by step."``."""

    def __init__(
        self,
        inner: Responder | None = None,
        reasoning: str | Callable[[FakeRequest], str] | None = None,
        form: str = "field",
    ) -> None:
        if form not in ("field", "think"):
            raise ConfigError(f"Reasoning form must be 'field' or 'think', got {form!r}")
        self.inner: Responder = inner if inner is not None else Echo()
        self.reasoning = reasoning
        self.form = form

    def thought(self, request: FakeRequest) -> str:
        """The reasoning given for ``request``."""
        if self.reasoning is None:
            return f"Let me think about {' '.join(request.prompt.split()[:6])} step by step."
        return self.reasoning if isinstance(self.reasoning, str) else self.reasoning(request)

    def __call__(self, request: FakeRequest) -> FakeReply:
        reply = _check_reply(self.inner(request), "Reasoning inner reply")
        answer = reply if isinstance(reply, FakeReply) else FakeReply(reply)
        thought = self.thought(request)
        if self.form == "think":
            return dataclasses.replace(answer, text=with_trace(thought, answer.text))
        return dataclasses.replace(answer, reasoning=thought)

    def __repr__(self) -> str:
        return f"Reasoning({self.inner!r}, form={self.form!r})"


class Reward:
    """A reward model: an empty text with one logprob per scored attribute (see :class:`FakeReply`).

    ``scores`` is a fixed dict, or a callable ``(FakeRequest) -> dict[str, float]``. None gives the five
    :data:`HELPSTEER2_ATTRIBUTES` with values in [0, 4] derived from a SHA-256 of the conversation (the
    messages, or the prompt of a completion): deterministic, and different conversations score differently.
    """

    def __init__(
        self, scores: Mapping[str, float] | Callable[[FakeRequest], Mapping[str, float]] | None = None
    ) -> None:
        self.scores = dict(scores) if isinstance(scores, Mapping) else scores

    @staticmethod
    def default_scores(request: FakeRequest) -> dict[str, float]:
        """The hash-derived HelpSteer2 scores the server gives ``request`` when ``scores`` is None."""
        conversation = request.messages if request.messages is not None else request.prompt
        digest = hashlib.sha256(json.dumps(conversation, sort_keys=True).encode()).digest()
        return {
            name: round(int.from_bytes(digest[4 * i : 4 * i + 4], "big") / 0xFFFFFFFF * 4.0, 4)
            for i, name in enumerate(HELPSTEER2_ATTRIBUTES)
        }

    def __call__(self, request: FakeRequest) -> FakeReply:
        if self.scores is None:
            scores: Mapping[str, float] = self.default_scores(request)
        elif isinstance(self.scores, dict):
            scores = self.scores
        else:
            scores = self.scores(request)
        return FakeReply(text="", logprobs={str(k): float(v) for k, v in scores.items()})

    def __repr__(self) -> str:
        return f"Reward(scores={self.scores!r})"
