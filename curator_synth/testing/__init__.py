"""Test helpers for code that talks to OpenAI-compatible endpoints.

:class:`FakeLLMServer` is a loopback OpenAI-compatible HTTP server with scriptable replies (responders),
latency and fault injection (429, 5xx, dropped connections, malformed, truncated, trickled, error and empty
bodies) and request statistics. See ``docs/testing.md``.
"""

from curator_synth.testing.faults import FAULT_KINDS, Faults
from curator_synth.testing.latency import LogNormalLatency, ServerLoad
from curator_synth.testing.plausible import Plausible
from curator_synth.testing.responders import (
    HELPSTEER2_ATTRIBUTES,
    Cycle,
    Echo,
    FakeReply,
    FakeRequest,
    Fixed,
    Reasoning,
    Recording,
    Responder,
    Reward,
    Scripted,
    count_tokens,
)
from curator_synth.testing.server import FakeLLMServer

__all__ = [
    "FAULT_KINDS",
    "HELPSTEER2_ATTRIBUTES",
    "Cycle",
    "Echo",
    "FakeLLMServer",
    "FakeReply",
    "FakeRequest",
    "Faults",
    "Fixed",
    "LogNormalLatency",
    "Plausible",
    "Reasoning",
    "Recording",
    "Responder",
    "Reward",
    "Scripted",
    "ServerLoad",
    "count_tokens",
]
