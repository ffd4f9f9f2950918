"""NeMo's abstract ``SyntheticDataGenerator``: a pipeline with ``generate(llm_prompt)`` and
``parse_response(llm_response)``, named after its class (``_name``).

This is NeMo Curator's base class for user-written generators. curator_synth's own
:class:`curator_synth.pipeline.generator.SyntheticDataGenerator` is another thing (the seed pipeline's generator:
seed instructions in, answered samples out); the two live at different paths and do not clash.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

__all__ = ["SyntheticDataGenerator"]


class SyntheticDataGenerator(ABC):
    """Subclass it and implement :meth:`generate` and :meth:`parse_response`."""

    def __init__(self) -> None:
        super().__init__()
        self._name = type(self).__name__

    @abstractmethod
    def generate(self, llm_prompt: str | list[str]) -> str | list[str]:
        """The answer(s) to ``llm_prompt``."""

    @abstractmethod
    def parse_response(self, llm_response: str | list[str]) -> Any:
        """What ``llm_response`` says, parsed."""
