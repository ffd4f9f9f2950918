"""Where the tests' real data lives: always inside the repository, never in ``../shared`` (a fresh clone passes).

``SELF_INSTRUCT`` is the copy shipped in the package (``curator_synth/data/self_instruct``: seed tasks,
user-oriented instructions, six models' predictions, Apache-2.0). ``T0_SAMPLE`` is a subset of the T0 / P3
sample, the first lines of each of its 32 files (``tests/data/t0_sample/README.md`` lists what each test needs).
Test modules import it as ``from data_paths import ...`` (``tests/`` is on ``sys.path`` through its conftest).
"""

from __future__ import annotations

from pathlib import Path

import curator_synth

SELF_INSTRUCT = Path(curator_synth.__file__).parent / "data" / "self_instruct"
SEED_TASKS = SELF_INSTRUCT / "seed_tasks.jsonl"
T0_SAMPLE = Path(__file__).resolve().parent / "data" / "t0_sample"
T0_SAMPLE_FILES = 32
T0_SAMPLE_ROWS = 990  # lines in T0_SAMPLE (the full sample in ../shared/data/t0_sample has 6,364)
