"""Clients with NVIDIA NIM defaults (``https://integrate.api.nvidia.com/v1``, ``$NVIDIA_API_KEY``).

``query_reward_model`` reads Nemotron-4-340B-Reward's five HelpSteer2 attributes (helpfulness, correctness,
coherence, complexity, verbosity) from ``choices[0].logprobs.content``; a model that is not a reward model
raises :class:`~curator_synth.errors.NotARewardModelError`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from typing_extensions import Unpack

from curator_synth.clients.openai import AsyncOpenAIClient, ClientOptions
from curator_synth.clients.sync import SyncClient

__all__ = ["NIM_BASE_URL", "AsyncNemotronClient", "NemotronClient"]

NIM_BASE_URL = "https://integrate.api.nvidia.com/v1"


class AsyncNemotronClient(AsyncOpenAIClient):
    """:class:`AsyncOpenAIClient` with NVIDIA NIM's URL and key variable as defaults."""

    default_base_url: ClassVar[str] = NIM_BASE_URL
    base_url_env_var: ClassVar[str] = "NVIDIA_BASE_URL"
    key_env_vars: ClassVar[tuple[str, ...]] = ("NVIDIA_API_KEY",)


class NemotronClient(SyncClient):
    """Blocking client with NIM defaults; same options as :class:`AsyncOpenAIClient`."""

    def __init__(self, client: Any = None, **options: Unpack[ClientOptions]) -> None:
        super().__init__(AsyncNemotronClient(client, **options))
