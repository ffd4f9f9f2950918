"""NeMo's ``nemo_curator.filters.models``: the quality-estimation models' install hints (:mod:`.qe_models`)."""

__all__: list[str] = []
