"""NeMo's ``nemo_curator.filters.code``: curator_synth's code filters under the same names, with NeMo's signatures
where they differ (``TokenizerFertilityFilter`` takes the path of a SentencePiece model; ``PerExtensionFilter``'s
table defaults to ``code_meta.csv`` in the working directory)."""

from __future__ import annotations

import os
from typing import Any

from curator_synth.filters._optional import import_optional
from curator_synth.filters.code import (
    AlphaFilter,
    GeneralCommentToCodeFilter,
    NumberOfLinesOfCodeFilter,
    PythonCommentToCodeFilter,
    XMLHeaderFilter,
)
from curator_synth.filters.code import TokenizerFertilityFilter as _NativeFertility
from curator_synth.filters.code_extension import PerExtensionFilter as _NativePerExtension
from curator_synth.filters.html import HTMLBoilerplateFilter

__all__ = [
    "AlphaFilter",
    "GeneralCommentToCodeFilter",
    "HTMLBoilerplateFilter",
    "NumberOfLinesOfCodeFilter",
    "PerExtensionFilter",
    "PythonCommentToCodeFilter",
    "TokenizerFertilityFilter",
    "XMLHeaderFilter",
]


class TokenizerFertilityFilter(_NativeFertility):
    """Keep sources with at least ``min_char_to_token_ratio`` characters per token of the SentencePiece model at
    ``path_to_tokenizer`` (needs ``pip install sentencepiece``)."""

    def __init__(self, path_to_tokenizer: str | None = None, min_char_to_token_ratio: float = 2.5) -> None:
        if path_to_tokenizer is None:
            raise ValueError("TokenizerFertilityFilter needs path_to_tokenizer: the path of a SentencePiece model")
        if not os.path.isfile(path_to_tokenizer):
            raise FileNotFoundError(f"no SentencePiece model at {path_to_tokenizer}")
        sentencepiece = import_optional("sentencepiece", "TokenizerFertilityFilter")
        super().__init__(_Pieces(sentencepiece.SentencePieceProcessor(model_file=path_to_tokenizer)),
                         min_char_to_token_ratio)  # fmt: skip
        self.path_to_tokenizer = path_to_tokenizer


class _Pieces:
    """A SentencePiece processor's ``encode`` as pieces, as NeMo counts them."""

    def __init__(self, processor: Any) -> None:
        self.processor = processor

    def encode(self, text: str) -> list[str]:
        return list(self.processor.encode(text, out_type=str))


class PerExtensionFilter(_NativePerExtension):
    """:class:`curator_synth.filters.code_extension.PerExtensionFilter` with NeMo's default table path,
    ``code_meta.csv`` in the working directory."""

    def __init__(self, lang: str, extension: str, metadata_file: str | os.PathLike[str] = "code_meta.csv") -> None:
        super().__init__(lang, extension, metadata_file)
