"""The quality-estimation (QE) models of NeMo's ``QualityEstimationFilter``: what to install for each. curator_synth
runs neither (they load weights from a model hub); see
:class:`~curator_synth.nemo.filters.classifier_filter.QualityEstimationFilter`."""

__all__ = ["COMET_IMPORT_MSG", "PYMARIAN_IMPORT_MSG", "QE_PACKAGES"]

COMET_IMPORT_MSG = (
    "QE filtering with COMET needs the 'comet' package (pip install unbabel-comet) and the model's weights, which"
    " it loads from the Hugging Face hub."
)
PYMARIAN_IMPORT_MSG = (
    "QE filtering with Cometoid needs the 'pymarian' package (pip install pymarian) and the model's weights, which"
    " it loads from the Hugging Face hub."
)
#: The package and install hint of each model name NeMo supports.
QE_PACKAGES = {
    "comet-qe": ("comet", COMET_IMPORT_MSG),
    "cometoid-wmt23": ("pymarian", PYMARIAN_IMPORT_MSG),
    "cometoid-wmt23-mqm": ("pymarian", PYMARIAN_IMPORT_MSG),
}
