"""NeMo Curator 0.9's ``nemo_curator.synthetic.error``: :class:`YamlConversionError` is curator_synth's own (a
:class:`~curator_synth.errors.ResponseParseError`, so it also keeps the answer that failed in ``.raw``)."""

from curator_synth.errors import YamlConversionError

__all__ = ["YamlConversionError"]
