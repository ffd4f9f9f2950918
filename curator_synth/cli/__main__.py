"""``python -m curator_synth.cli``: the same as the ``curator-synth`` command."""

from curator_synth.cli import main

main()
