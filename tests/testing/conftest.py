"""Fixtures for the FakeLLMServer tests: a running server and an httpx client per test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from curator_synth.testing import FakeLLMServer


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    """A thread-mode server with the default Echo responder."""
    with FakeLLMServer() as srv:
        yield srv


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """A plain synchronous httpx client (not the project's clients)."""
    with httpx.Client(timeout=10) as c:
        yield c
