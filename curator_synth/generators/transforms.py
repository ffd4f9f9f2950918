"""Text transformations (NeMo Curator's synthetic-data concepts): paraphrase, web text to educational material,
structured extraction into a pydantic model, style/tone change, context addition, translation, simplification
and explanation.

Each operation is one method of :class:`AsyncTransformer` (blocking twin: :class:`Transformer`) that fills
its template (:mod:`curator_synth.prompts.transforms`), sends it under the template's journal namespace and
returns the result: the text, stripped of a lead-in the model added despite being told not to ("Translation:"),
or, for :meth:`~AsyncTransformer.extract_structured`, a validated pydantic instance (through
:func:`curator_synth.structured.query_structured`, which shows the model its validation errors and asks again).
:meth:`~AsyncTransformer.transform_many` runs one operation over many texts concurrently and reports the
items that failed instead of aborting.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from curator_synth.clients.receipts import journal_namespace
from curator_synth.errors import ConfigError, ResponseParseError
from curator_synth.generators.base import BaseGenerator, template_of
from curator_synth.generators.blocking import BlockingGenerator, blocking
from curator_synth.generators.nemotron_run import Record
from curator_synth.outcome import Failure, Outcome
from curator_synth.parsing import remove_prefix
from curator_synth.prompts import transforms as prompts
from curator_synth.prompts.base import PromptTemplate
from curator_synth.records import record_id
from curator_synth.structured import StructuredMode, query_structured

__all__ = ["AsyncTransformer", "Transformer"]

M = TypeVar("M", bound=BaseModel)
Template = PromptTemplate | str
Kwargs = Mapping[str, Any] | None

# Lead-ins models put before the result although the templates ask for none; removed when they open the answer.
_LEAD_INS: dict[str, tuple[str, ...]] = {
    "paraphrase": ("Here is the paraphrased text:", "Here is a paraphrase:", "Paraphrased text:", "Paraphrase:"),
    "to_educational": ("Here is the educational text:", "Educational text:"),
    "restyle": ("Here is the rewritten text:", "Rewritten text:"),
    "add_context": ("Here is the rewritten text:", "Rewritten text:"),
    "translate": ("Here is the translation:", "Translation:"),
    "simplify": ("Here is the simplified text:", "Simplified text:"),
    "explain": ("Here is the explanation:", "Explanation:"),
}
# Operation arguments copied into a record's provenance by transform_many.
_PROVENANCE_ARGUMENTS = ("style", "target_language", "audience")


class AsyncTransformer(BaseGenerator):
    """Rewrites a text into another form. Every method takes the text first, then its own arguments;
    ``model`` and ``model_kwargs`` (``temperature``, ``max_tokens``, ...) override the generator's defaults and
    ``prompt_template`` replaces the template (a :class:`PromptTemplate` or a format string with ``{text}``).
    A text answer that is empty after its lead-in is removed raises
    :class:`~curator_synth.errors.ResponseParseError`.
    """

    family = "transforms"

    def _template(self, prompt_template: Template) -> PromptTemplate:
        template = template_of(prompt_template, self.family)
        if "text" not in template.fields:
            raise ConfigError(f"template {template.id!r} has no {{text}} placeholder")
        return template

    async def _transform(
        self, op: str, prompt_template: Template, model: str | None, model_kwargs: Kwargs, **offered: Any
    ) -> str:
        """Fill the template with the ``offered`` values it uses, send it, return the answer without a lead-in."""
        template = self._template(prompt_template)
        fill = {name: value for name, value in offered.items() if name in template.fields}
        answer = await self.ask_one(template, fill, model=model, model_kwargs=model_kwargs, n=1)
        text = remove_prefix(answer, _LEAD_INS[op])
        if not text:
            raise ResponseParseError(f"the {op} answer is empty", raw=answer)
        return text

    async def paraphrase(
        self,
        text: str,
        *,
        model: str | None = None,
        model_kwargs: Kwargs = None,
        prompt_template: Template = prompts.PARAPHRASE_PROMPT_TEMPLATE,
    ) -> str:
        """The same content in other words, every fact kept."""
        return await self._transform("paraphrase", prompt_template, model, model_kwargs, text=text)

    async def to_educational(
        self,
        text: str,
        *,
        model: str | None = None,
        model_kwargs: Kwargs = None,
        prompt_template: Template = prompts.EDUCATIONAL_PROMPT_TEMPLATE,
    ) -> str:
        """Web text rewritten as a textbook-style section: ordered, terms explained, a closing summary."""
        return await self._transform("to_educational", prompt_template, model, model_kwargs, text=text)

    async def extract_structured(
        self,
        text: str,
        schema: type[M],
        *,
        model: str | None = None,
        model_kwargs: Kwargs = None,
        prompt_template: Template = prompts.STRUCTURED_EXTRACTION_PROMPT_TEMPLATE,
        mode: StructuredMode = "json_schema",
        max_repairs: int = 2,
    ) -> M:
        """The information of ``text`` as a validated ``schema`` instance (a pydantic model class).

        The template carries ``schema``'s JSON Schema as ``{schema}``, so the model sees it in every mode.
        ``mode="json_schema"`` also constrains decoding where the endpoint supports it (and falls back to
        ``"prompt"`` where it answers 400); an answer that does not validate is sent back with its errors up
        to ``max_repairs`` times, then :class:`~curator_synth.errors.ResponseParseError` is raised with the
        last answer in ``.raw`` (see :func:`~curator_synth.structured.query_structured`).
        """
        if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
            raise ConfigError(f"schema must be a pydantic BaseModel subclass, got {schema!r}")
        template = self._template(prompt_template)
        offered = {"text": text, "schema": json.dumps(schema.model_json_schema(), ensure_ascii=False)}
        messages = template.messages(**{name: value for name, value in offered.items() if name in template.fields})
        if (model_kwargs or {}).get("n", 1) != 1:
            raise ConfigError("extract_structured returns one object: n must be 1")
        params, _ = self.request_params(model_kwargs, n=1)  # an ``n`` among the generator's defaults is ignored
        with journal_namespace(template.namespace):
            return await query_structured(
                self.client,
                messages=messages,
                model=self.model_for(model),
                schema=schema,
                mode=mode,
                max_repairs=max_repairs,
                **params,
            )

    async def restyle(
        self,
        text: str,
        style: str,
        *,
        model: str | None = None,
        model_kwargs: Kwargs = None,
        prompt_template: Template = prompts.RESTYLE_PROMPT_TEMPLATE,
    ) -> str:
        """``text`` in another style or tone (``style``: "formal and academic", "a friendly blog post", ...)."""
        return await self._transform("restyle", prompt_template, model, model_kwargs, text=text, style=style)

    async def add_context(
        self,
        text: str,
        *,
        model: str | None = None,
        model_kwargs: Kwargs = None,
        prompt_template: Template = prompts.ADD_CONTEXT_PROMPT_TEMPLATE,
    ) -> str:
        """``text`` made self-contained: who and what it mentions, its terms and abbreviations explained."""
        return await self._transform("add_context", prompt_template, model, model_kwargs, text=text)

    async def translate(
        self,
        text: str,
        target_language: str,
        *,
        model: str | None = None,
        model_kwargs: Kwargs = None,
        prompt_template: Template = prompts.TRANSLATION_PROMPT_TEMPLATE,
    ) -> str:
        """``text`` translated into ``target_language`` (a language name, e.g. "French")."""
        return await self._transform(
            "translate", prompt_template, model, model_kwargs, text=text, target_language=target_language
        )

    async def simplify(
        self,
        text: str,
        audience: str = "a general reader with no background in the subject",
        *,
        model: str | None = None,
        model_kwargs: Kwargs = None,
        prompt_template: Template = prompts.SIMPLIFICATION_PROMPT_TEMPLATE,
    ) -> str:
        """``text`` in simpler language for ``audience`` ("ten-year-old children", "English learners", ...)."""
        return await self._transform("simplify", prompt_template, model, model_kwargs, text=text, audience=audience)

    async def explain(
        self,
        text: str,
        *,
        model: str | None = None,
        model_kwargs: Kwargs = None,
        prompt_template: Template = prompts.EXPLANATION_PROMPT_TEMPLATE,
    ) -> str:
        """An explanation of ``text``: what it says, the concepts behind it and why it matters."""
        return await self._transform("explain", prompt_template, model, model_kwargs, text=text)

    async def transform_many(self, texts: Iterable[str], op: str, **kwargs: Any) -> Outcome[Record]:
        """Run the operation ``op`` (a key of :data:`~curator_synth.prompts.transforms.TRANSFORM_OPS`, i.e. a
        method name above) over ``texts`` concurrently; ``kwargs`` are that method's arguments (``style=``,
        ``schema=``, ``model=``, ...), checked before anything is sent.

        Returns records in input order, ``{"id", "index", "op", "input", "output", "provenance"}`` (``output``
        is a string, or the pydantic instance for ``extract_structured``; ``provenance["parents"]`` holds
        :func:`~curator_synth.generators.base.record_id` of the input), and a
        :class:`~curator_synth.generators.base.Failure` for each text that failed, with the reason.
        """
        if op not in prompts.TRANSFORM_OPS:
            raise ConfigError(f"op must be one of {sorted(prompts.TRANSFORM_OPS)}, got {op!r}")
        method = getattr(self, op)
        try:
            inspect.signature(method).bind("text", **kwargs)
        except TypeError as exc:
            raise ConfigError(f"transform_many({op!r}): {exc}") from exc
        template = self._template(kwargs.get("prompt_template", prompts.TRANSFORM_OPS[op]))
        extra = {name: kwargs[name] for name in _PROVENANCE_ARGUMENTS if name in kwargs}
        if "schema" in kwargs:
            extra["schema"] = getattr(kwargs["schema"], "__name__", str(kwargs["schema"]))
        self.model_for(kwargs.get("model"))  # no model anywhere: fail before sending anything

        async def run(item: tuple[int, str]) -> Record:
            index, text = item
            output = await method(text, **kwargs)
            shown = output.model_dump(mode="json") if isinstance(output, BaseModel) else output
            provenance = self.provenance(
                template,
                method=op,
                model=kwargs.get("model"),
                model_kwargs=kwargs.get("model_kwargs"),
                parents=[record_id(text)],
                **extra,
            )
            return {
                "id": record_id(op, text, shown),
                "index": index,
                "op": op,
                "input": text,
                "output": output,
                "provenance": provenance,
            }

        result = await self.fan_out(run, enumerate(texts))
        # report the text itself as the input, not the (index, text) pair
        result.failures = [Failure(failure.index, failure.input[1], failure.error) for failure in result.failures]
        return result


class Transformer(BlockingGenerator[AsyncTransformer]):
    """Blocking version of :class:`AsyncTransformer` (same arguments and methods, no ``await``)."""

    async_class = AsyncTransformer

    add_context = blocking(AsyncTransformer.add_context)
    explain = blocking(AsyncTransformer.explain)
    extract_structured = blocking(AsyncTransformer.extract_structured)
    paraphrase = blocking(AsyncTransformer.paraphrase)
    restyle = blocking(AsyncTransformer.restyle)
    simplify = blocking(AsyncTransformer.simplify)
    to_educational = blocking(AsyncTransformer.to_educational)
    transform_many = blocking(AsyncTransformer.transform_many)
    translate = blocking(AsyncTransformer.translate)
