"""NeMo Curator 0.9's ``nemo_curator.synthetic.prompts``: the same constant names, bound to curator_synth's own
templates (:mod:`curator_synth.prompts.nemotron`, :mod:`curator_synth.prompts.nemotron_cc`).

A template is a :class:`~curator_synth.prompts.PromptTemplate`, not a ``str``: ``template.format(**values)`` gives
the prompt as NeMo's ``str.format`` does, and every generator also takes a plain format string, as in NeMo. The two
Nemotron-CC system prompts are strings. The native modules' other names (``DEFAULT_TWO_TURN_PROMPT_TEMPLATE``, the
lead-ins ``WIKIPEDIA_PREFIX``, ...) are here as well. The wording is curator_synth's own (docs/nemo_migration.md).
"""

from curator_synth.prompts import nemotron as _nemotron
from curator_synth.prompts import nemotron_cc as _nemotron_cc
from curator_synth.prompts.nemotron import *  # noqa: F403  # NeMo's names are the native modules' names
from curator_synth.prompts.nemotron_cc import *  # noqa: F403

__all__ = [*_nemotron.__all__, *_nemotron_cc.__all__]
