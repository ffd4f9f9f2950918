"""NeMo Curator 0.9's ``AsyncNemotronCCGenerator``: the native Nemotron-CC rewrites
(:class:`~curator_synth.generators.nemotron_cc.AsyncNemotronCCGenerator`: Wikipedia-style rephrasing, diverse QA,
distillation, knowledge extraction and lists, and ``process_documents``) with NeMo's constructor and ``_prompt``.

``generator.client`` is the object given (anything with an async ``query_model``). Each method sends the system
prompt and the filled template and returns the raw answers (``n`` of them, from ``model_kwargs``), as NeMo's; a
prompt keyword the template does not use is ignored, as NeMo's ``str.format`` ignores it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from curator_synth.generators import nemotron_cc as native
from curator_synth.nemo.synthetic._base import NemoGenerator
from curator_synth.prompts.base import PromptTemplate

__all__ = ["AsyncNemotronCCGenerator"]

Template = PromptTemplate | str
Kwargs = Mapping[str, Any] | None


class AsyncNemotronCCGenerator(NemoGenerator, native.AsyncNemotronCCGenerator):
    """Nemotron-CC rephrasing of web documents with NeMo's API: ``llm_client`` is any object with an async
    ``query_model`` (``self.client``)."""

    def __init__(self, llm_client: Any) -> None:
        super().__init__(llm_client)

    async def _prompt(
        self,
        model: str,
        document: str,
        prompt_template: Template,
        system_prompt: str | None,
        prompt_kwargs: Kwargs,
        model_kwargs: Kwargs,
    ) -> list[str]:
        """One request: ``system_prompt`` (None: the template's own) and ``prompt_template`` filled with
        ``document`` and ``prompt_kwargs``; the raw answers."""
        return await self._rewrite(document, model, prompt_template, system_prompt, prompt_kwargs, model_kwargs)
