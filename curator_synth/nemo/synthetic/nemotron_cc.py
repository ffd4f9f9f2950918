"""NeMo Curator 0.9's ``NemotronCCGenerator`` (blocking) and its two post-processors.

:class:`NemotronCCGenerator` is the blocking version of :class:`~curator_synth.nemo.synthetic.async_nemotron_cc.
AsyncNemotronCCGenerator`. The post-processors work on a :class:`~curator_synth.nemo.datasets.DocumentDataset`
as NeMo's do (``processor(dataset)``):

- :class:`NemotronCCDiverseQAPostprocessor` appends a random sample of a row's question/answer pairs to its text.
  The pairs are read by curator_synth's QA parser (:func:`~curator_synth.parsing.parse_qa_pairs`); the sample is
  drawn with the global :mod:`random` module, as NeMo's (seed it for repeatable output). A row whose response has
  no pair is left out, with a warning.
- :class:`NemotronCCKnowledgeListPostprocessor` removes the list markup of a knowledge list line by line, as NeMo's.
  The native :func:`~curator_synth.generators.nemotron_cc_post.clean_knowledge_list` reads the list instead (items
  over several lines joined, short items dropped); use it for new code.
"""

from __future__ import annotations

import logging
import random
from typing import Any

import pandas as pd

from curator_synth.errors import ResponseParseError
from curator_synth.generators import nemotron_cc as native
from curator_synth.generators.blocking import blocking
from curator_synth.generators.nemotron_cc_post import format_qa_pairs
from curator_synth.nemo.datasets import DocumentDataset
from curator_synth.nemo.synthetic._base import GivenClient, blocking_core
from curator_synth.nemo.synthetic.async_nemotron_cc import AsyncNemotronCCGenerator
from curator_synth.parsing import parse_qa_pairs, remove_prefix
from curator_synth.prompts.nemotron_cc import DIVERSE_QA_PREFIX

__all__ = ["NemotronCCDiverseQAPostprocessor", "NemotronCCGenerator", "NemotronCCKnowledgeListPostprocessor"]

logger = logging.getLogger(__name__)


class NemotronCCGenerator(GivenClient, native.NemotronCCGenerator):
    """Blocking version of :class:`AsyncNemotronCCGenerator`: ``llm_client`` is any object with a
    ``query_model`` method (``self.client``); the same methods without ``await`` (the native twin's)."""

    async_class = blocking_core(AsyncNemotronCCGenerator, "NemotronCCGenerator")

    _prompt = blocking(AsyncNemotronCCGenerator._prompt)


class NemotronCCDiverseQAPostprocessor:
    """The document (``text_field``) followed by a random sample of the question/answer pairs of its diverse-QA
    response (``response_field``, replaced by the result).

    The pairs are shuffled and the first ``k`` kept, ``k`` drawn from 1 to ``max_num_pairs``; with a
    ``tokenizer``, from 1 to ``max(1, int(max_num_pairs * tokens / 150))``, ``tokens`` counted in the document.
    """

    def __init__(
        self,
        tokenizer: Any = None,
        text_field: str = "text",
        response_field: str = "response",
        max_num_pairs: int = 1,
        prefix: str = DIVERSE_QA_PREFIX,
    ) -> None:
        self.tokenizer = tokenizer
        self.text_field = text_field
        self.response_field = response_field
        self.max_num_pairs = max_num_pairs
        self.prefix = prefix

    def _postprocess_llm_response(self, text: str, llm_response: str) -> str:
        """The document and its sampled pairs; ``""`` when the response has no pair."""
        try:
            pairs = parse_qa_pairs(remove_prefix(llm_response, [self.prefix]), strict=False)
        except ResponseParseError as error:
            logger.warning("left out a row whose response has no question/answer pair: %s", error)
            return ""
        random.shuffle(pairs)
        upper = self.max_num_pairs
        if self.tokenizer is not None:
            upper = max(1, int(self.max_num_pairs * len(self.tokenizer.tokenize(text)) / 150))
        kept = pairs[: random.randint(1, upper)]
        return f"{text}\n\n{format_qa_pairs(kept)}"

    def _frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        texts, responses = frame[self.text_field], frame[self.response_field]
        done = [self._postprocess_llm_response(text, response) for text, response in zip(texts, responses, strict=True)]
        result = frame.assign(**{self.response_field: pd.Series(done, index=frame.index, dtype=object)})
        return result[result[self.response_field] != ""]

    def call(self, dataset: DocumentDataset) -> DocumentDataset:
        """The rows with their sampled pairs (rows without a pair left out)."""
        return DocumentDataset(dataset.df.map_partitions(self._frame, meta=dataset.df._meta))

    def __call__(self, dataset: DocumentDataset) -> DocumentDataset:
        return self.call(dataset)


class NemotronCCKnowledgeListPostprocessor:
    """A knowledge list (``text_field``, replaced) without its markup: a first line that is not a bullet is
    dropped, and every line loses a leading ``"- "`` or two-space indent (and the spaces around the rest)."""

    def __init__(self, text_field: str = "text") -> None:
        self.text_field = text_field

    def _postprocess_llm_response(self, text: str) -> str:
        lines = text.split("\n")
        if not lines[0].startswith("-"):
            lines = lines[1:]
        return "\n".join(line[2:].strip() if line.startswith(("- ", "  ")) else line for line in lines)

    def _frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        cleaned = [self._postprocess_llm_response(text) for text in frame[self.text_field]]
        return frame.assign(**{self.text_field: pd.Series(cleaned, index=frame.index, dtype=object)})

    def call(self, dataset: DocumentDataset) -> DocumentDataset:
        """The rows with their lists cleaned."""
        return DocumentDataset(dataset.df.map_partitions(self._frame, meta=dataset.df._meta))

    def __call__(self, dataset: DocumentDataset) -> DocumentDataset:
        return self.call(dataset)
