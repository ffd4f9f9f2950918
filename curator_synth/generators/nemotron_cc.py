"""Nemotron-CC synthetic rephrasing (Su et al., 2024), with NeMo Curator 0.9's ``NemotronCCGenerator`` methods.

Five methods each send one document through one template (:mod:`curator_synth.prompts.nemotron_cc`) and
return the raw answers, a list of ``n`` strings (``n`` from ``model_kwargs["n"]``, default 1), as NeMo does:
:meth:`~AsyncNemotronCCGenerator.rewrite_to_wikipedia_style` (for low-quality text),
:meth:`~AsyncNemotronCCGenerator.generate_diverse_qa`, :meth:`~AsyncNemotronCCGenerator.distill`,
:meth:`~AsyncNemotronCCGenerator.extract_knowledge` and :meth:`~AsyncNemotronCCGenerator.generate_knowledge_list`
(for high-quality text). Clean the answers with :mod:`curator_synth.generators.nemotron_cc_post`.

:meth:`~AsyncNemotronCCGenerator.process_documents` does the whole job for many documents: it cuts long ones
into chunks under a token budget, sends every chunk of every document concurrently through the client's
engine, post-processes each answer (lead-in checks, markdown and quote removal, QA sampling, list clean-up),
joins each document's chunks back in order, and returns one record per document with its provenance. A
document whose chunk fails (an HTTP error, or an answer the post-processor rejects) is left out and reported
with the reason; the others go on.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from curator_synth.errors import ConfigError, CuratorSynthError
from curator_synth.generators.base import BaseGenerator, template_of
from curator_synth.generators.blocking import BlockingGenerator, blocking
from curator_synth.generators.nemotron_cc_methods import NEMOTRON_CC_METHODS, NemotronCCMethod, PostOptions, PostProcess
from curator_synth.generators.nemotron_cc_post import TokenCounter, approx_tokens, join_chunks, split_document
from curator_synth.generators.nemotron_run import Record
from curator_synth.outcome import Failure, Outcome
from curator_synth.prompts import nemotron_cc as prompts
from curator_synth.prompts.base import PromptTemplate
from curator_synth.records import record_id

__all__ = [
    "NEMOTRON_CC_METHODS",
    "AsyncNemotronCCGenerator",
    "DocumentFailure",
    "NemotronCCGenerator",
    "NemotronCCMethod",
    "PostOptions",
    "PostProcess",
]

Template = PromptTemplate | str
Kwargs = Mapping[str, Any] | None


@dataclass(frozen=True)
class DocumentFailure(Failure):
    """A document left out of :meth:`~AsyncNemotronCCGenerator.process_documents`: :class:`Failure` (``index``
    and ``input`` are the document's) plus the chunk that failed (0-based, None before any request) and the
    number of chunks the document was cut into."""

    chunk: int | None = None
    chunks: int = 0

    @property
    def reason(self) -> str:
        where = f"chunk {self.chunk + 1}/{self.chunks}: " if self.chunk is not None and self.chunks > 1 else ""
        return where + super().reason


@dataclass(frozen=True)
class _Job:
    document: int  # index of the document
    chunk: int
    chunks: int
    source_id: str
    text: str


def _literal(text: str) -> str:
    """A system prompt given as plain text is sent as written: its braces are not placeholders."""
    return text.replace("{", "{{").replace("}", "}}")


class AsyncNemotronCCGenerator(BaseGenerator):
    """Nemotron-CC rephrasing of web documents: Wikipedia-style rewrites, diverse QA pairs, distillation,
    knowledge extraction and knowledge lists.

    ``prompt_template`` is a :class:`PromptTemplate` or a format string with ``{document}``; ``system_prompt``
    replaces the template's system prompt (sent as written); a plain-string template gets the method's default
    system prompt, as in NeMo. ``prompt_kwargs`` fills extra placeholders of a custom template;
    ``model_kwargs`` goes to ``query_model`` (``n``, ``temperature``, ...) over the generator's ``params``.
    """

    family = "nemotron_cc"

    def _template(self, prompt_template: Template, system_prompt: str | None, default_system: str) -> PromptTemplate:
        template = template_of(prompt_template, self.family)
        if "document" not in template.fields:
            raise ConfigError(f"template {template.id!r} has no {{document}} placeholder")
        if system_prompt is not None:
            return replace(template, system=_literal(system_prompt))
        if template.system is None:
            return replace(template, system=_literal(default_system))
        return template

    async def _rewrite(
        self,
        document: str,
        model: str | None,
        prompt_template: Template,
        system_prompt: str | None,
        prompt_kwargs: Kwargs,
        model_kwargs: Kwargs,
        default_system: str = prompts.NEMOTRON_CC_SYSTEM_PROMPT,
    ) -> list[str]:
        template = self._template(prompt_template, system_prompt, default_system)
        fill = {**(prompt_kwargs or {}), "document": document}
        return await self.ask(template, fill, model=model, model_kwargs=model_kwargs)

    async def rewrite_to_wikipedia_style(
        self,
        document: str,
        model: str | None = None,
        prompt_template: Template = prompts.WIKIPEDIA_REPHRASING_PROMPT_TEMPLATE,
        system_prompt: str | None = None,
        prompt_kwargs: Kwargs = None,
        model_kwargs: Kwargs = None,
    ) -> list[str]:
        """Rephrase ``document`` in the style of Wikipedia; the answers start with ``"Here is a paraphrased
        text:"`` (checked and stripped by :func:`~.nemotron_cc_post.postprocess_wikipedia`)."""
        return await self._rewrite(document, model, prompt_template, system_prompt, prompt_kwargs, model_kwargs)

    async def generate_diverse_qa(
        self,
        document: str,
        model: str | None = None,
        prompt_template: Template = prompts.DIVERSE_QA_PROMPT_TEMPLATE,
        system_prompt: str | None = None,
        prompt_kwargs: Kwargs = None,
        model_kwargs: Kwargs = None,
    ) -> list[str]:
        """Up to eight varied ``Question:``/``Answer:`` pairs about ``document`` (sample them with
        :func:`~.nemotron_cc_post.sample_qa_pairs`)."""
        return await self._rewrite(document, model, prompt_template, system_prompt, prompt_kwargs, model_kwargs)

    async def distill(
        self,
        document: str,
        model: str | None = None,
        prompt_template: Template = prompts.DISTILL_PROMPT_TEMPLATE,
        system_prompt: str | None = None,
        prompt_kwargs: Kwargs = None,
        model_kwargs: Kwargs = None,
    ) -> list[str]:
        """A condensed paraphrase of ``document`` that keeps its information, under distillation's own system
        prompt; the answers start with ``"Paraphrased Text:"``."""
        return await self._rewrite(
            document,
            model,
            prompt_template,
            system_prompt,
            prompt_kwargs,
            model_kwargs,
            default_system=prompts.NEMOTRON_CC_DISTILL_SYSTEM_PROMPT,
        )

    async def extract_knowledge(
        self,
        document: str,
        model: str | None = None,
        prompt_template: Template = prompts.EXTRACT_KNOWLEDGE_PROMPT_TEMPLATE,
        system_prompt: str | None = None,
        prompt_kwargs: Kwargs = None,
        model_kwargs: Kwargs = None,
    ) -> list[str]:
        """The knowledge of ``document`` restated as textbook-style passages."""
        return await self._rewrite(document, model, prompt_template, system_prompt, prompt_kwargs, model_kwargs)

    async def generate_knowledge_list(
        self,
        document: str,
        model: str | None = None,
        prompt_template: Template = prompts.KNOWLEDGE_LIST_PROMPT_TEMPLATE,
        system_prompt: str | None = None,
        prompt_kwargs: Kwargs = None,
        model_kwargs: Kwargs = None,
    ) -> list[str]:
        """A bulleted list of the facts, details, concepts and numbers of ``document`` (clean it with
        :func:`~.nemotron_cc_post.clean_knowledge_list`)."""
        return await self._rewrite(document, model, prompt_template, system_prompt, prompt_kwargs, model_kwargs)

    # ------------------------------------------------------------------------------------------ documents
    async def process_documents(
        self,
        documents: Iterable[str | Mapping[str, Any]],
        method: str = "wikipedia",
        *,
        model: str | None = None,
        prompt_template: Template | None = None,
        system_prompt: str | None = None,
        prompt_kwargs: Kwargs = None,
        model_kwargs: Kwargs = None,
        text_field: str = "text",
        max_chunk_tokens: int | None = 512,
        count_tokens: TokenCounter | None = None,
        post_process: bool = True,
        seed: int = 0,
        qa_tokens_per_pair: int = 150,
        qa_max_pairs: int | None = None,
        min_fact_words: int = 3,
    ) -> Outcome[Record]:
        """Rewrite every document with ``method`` (a key of :data:`NEMOTRON_CC_METHODS`), concurrently.

        ``documents`` are strings or mappings with the text under ``text_field`` and, optionally, an ``"id"``
        (otherwise the id is :func:`~curator_synth.generators.base.record_id` of the text). A document over
        ``max_chunk_tokens`` (counted with ``count_tokens``, default
        :func:`~.nemotron_cc_post.approx_tokens`; None: never split) is cut at paragraph boundaries
        (:func:`~.nemotron_cc_post.split_document`); every chunk is rewritten and post-processed on its own,
        and the results are joined in order. ``post_process=False`` keeps the raw answers (stripped).
        QA sampling is seeded per document and chunk from ``seed``, so it does not depend on the order in which
        answers arrive; ``qa_tokens_per_pair``/``qa_max_pairs`` size it and ``min_fact_words`` drops short
        knowledge-list items.

        Returns the records in document order, ``{"id", "source_id", "method", "text", "chunks",
        "provenance"}`` (``provenance["parents"]`` is ``[source_id]``), and a :class:`DocumentFailure` for
        every document left out, with the reason.
        """
        spec = NEMOTRON_CC_METHODS.get(method)
        if spec is None:
            raise ConfigError(f"method must be one of {sorted(NEMOTRON_CC_METHODS)}, got {method!r}")
        if max_chunk_tokens is not None and max_chunk_tokens < 1:
            raise ConfigError(f"max_chunk_tokens must be >= 1 or None, got {max_chunk_tokens}")
        if int((model_kwargs or {}).get("n", 1)) != 1:
            raise ConfigError("process_documents makes one rewrite per chunk: model_kwargs['n'] must be 1")
        self.model_for(model)  # no model anywhere: fail before sending anything
        once = {**(model_kwargs or {}), "n": 1}  # also over an ``n`` in the generator's params
        template = self._template(prompt_template or spec.template, system_prompt, spec.system)
        options = PostOptions(seed, qa_tokens_per_pair, qa_max_pairs, min_fact_words, count_tokens or approx_tokens)

        given = list(documents)
        sources = [_source(document, text_field) for document in given]
        result: Outcome[Record] = Outcome()
        jobs: list[_Job] = []
        for index, (source_id, text) in enumerate(sources):
            if max_chunk_tokens is None:
                chunks = [text.strip()] if text.strip() else []
            else:
                chunks = split_document(text, max_chunk_tokens, count_tokens=options.count_tokens)
            if not chunks:
                empty = ConfigError(f"document {index} ({source_id}) is empty")
                result.failures.append(DocumentFailure(index, given[index], empty))
            jobs.extend(_Job(index, number, len(chunks), source_id, chunk) for number, chunk in enumerate(chunks))

        async def rewrite(job: _Job) -> tuple[_Job, str]:
            call = getattr(self, spec.call)
            # the template already carries its system prompt
            answers = await call(job.text, model, template, prompt_kwargs=prompt_kwargs, model_kwargs=once)
            if not post_process:
                return job, answers[0].strip()
            rng = random.Random(f"{seed}:{job.source_id}:{job.chunk}")
            return job, spec.post(answers[0], job.text, rng, options)

        outcome = await self.fan_out(rewrite, jobs)
        outputs: dict[int, dict[int, str]] = {}
        for job, text in outcome.items:
            outputs.setdefault(job.document, {})[job.chunk] = text
        failed: dict[int, tuple[_Job, CuratorSynthError]] = {}
        for failure in outcome.failures:
            job = jobs[failure.index]
            if job.document not in failed or job.chunk < failed[job.document][0].chunk:
                failed[job.document] = (job, failure.error)
        for index, (job, error) in failed.items():
            result.failures.append(DocumentFailure(index, given[index], error, chunk=job.chunk, chunks=job.chunks))
        result.failures.sort(key=lambda failure: failure.index)

        for index, (source_id, _) in enumerate(sources):
            if index in failed or index not in outputs:
                continue
            pieces = [outputs[index][number] for number in sorted(outputs[index])]
            text = join_chunks(pieces, spec.separator)
            provenance = self.provenance(
                template,
                method=spec.call,
                model=model,
                model_kwargs=once,
                parents=[source_id],
                chunks=len(pieces),
                post_processed=post_process,
                seed=seed,
            )
            result.items.append(
                {
                    "id": record_id(method, source_id, text),
                    "source_id": source_id,
                    "method": method,
                    "text": text,
                    "chunks": len(pieces),
                    "provenance": provenance,
                }
            )
        return result


def _source(document: str | Mapping[str, Any], text_field: str) -> tuple[str, str]:
    """(id, text) of a document given as a string or as a mapping."""
    if isinstance(document, str):
        return record_id(document), document
    if isinstance(document, Mapping):
        text = document.get(text_field)
        if not isinstance(text, str):
            raise ConfigError(f"a document mapping needs a string under {text_field!r}, got keys {list(document)}")
        given = document.get("id")
        return (str(given) if given is not None else record_id(text)), text
    raise ConfigError(f"a document must be a str or a mapping, got {type(document).__name__}")


class NemotronCCGenerator(BlockingGenerator[AsyncNemotronCCGenerator]):
    """Blocking version of :class:`AsyncNemotronCCGenerator` (same arguments and methods, no ``await``)."""

    async_class = AsyncNemotronCCGenerator

    distill = blocking(AsyncNemotronCCGenerator.distill)
    extract_knowledge = blocking(AsyncNemotronCCGenerator.extract_knowledge)
    generate_diverse_qa = blocking(AsyncNemotronCCGenerator.generate_diverse_qa)
    generate_knowledge_list = blocking(AsyncNemotronCCGenerator.generate_knowledge_list)
    process_documents = blocking(AsyncNemotronCCGenerator.process_documents)
    rewrite_to_wikipedia_style = blocking(AsyncNemotronCCGenerator.rewrite_to_wikipedia_style)
