"""NeMo Curator 0.9's ``nemo_curator.synthetic``: so far its conversation formatters, which render a conversation
exactly as NeMo's do (the generators follow: docs/nemo_migration.md)."""

from curator_synth.nemo.synthetic._formats import NemotronFormatter
from curator_synth.nemo.synthetic.mixtral import Mixtral8x7BFormatter
from curator_synth.nemo.synthetic.no_format import NoFormat

__all__ = ["Mixtral8x7BFormatter", "NemotronFormatter", "NoFormat"]
