"""NeMo Curator 1.x's ``nemo_curator.models``: so far its LLM clients, :mod:`curator_synth.nemo.models.client`."""
