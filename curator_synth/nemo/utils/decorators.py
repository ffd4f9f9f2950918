"""NeMo's ``batched`` decorator: curator_synth's own (:func:`curator_synth.filters.base.batched`), which its filter
steps and filters honour: a ``@batched`` ``score_document`` / ``keep_document`` gets a whole ``pd.Series`` batch."""

from curator_synth.filters.base import batched

__all__ = ["batched"]
