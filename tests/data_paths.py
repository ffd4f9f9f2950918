"""Where the tests' real data lives: always inside the repository, never in ``../shared`` (a fresh clone passes).

``SELF_INSTRUCT`` is the copy shipped in the package (``curator_synth/data/self_instruct``: seed tasks,
user-oriented instructions, six models' predictions, Apache-2.0). ``T0_SAMPLE`` is a subset of the T0 / P3
sample, the first lines of 25 of its 32 files, the permissively licensed ones (``tests/data/t0_sample/README.md``
lists what each test needs; ``tests/data/LICENSES.md`` the licences).
Test modules import it as ``from data_paths import ...`` (``tests/`` is on ``sys.path`` through its conftest).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import curator_synth

SELF_INSTRUCT = Path(curator_synth.__file__).parent / "data" / "self_instruct"
SEED_TASKS = SELF_INSTRUCT / "seed_tasks.jsonl"
T0_SAMPLE = Path(__file__).resolve().parent / "data" / "t0_sample"
T0_SAMPLE_FILES = 25
T0_SAMPLE_ROWS = 960  # lines in T0_SAMPLE (the full sample in the shared directory has 6,364)


def adversarial_qa_passages() -> list[str]:
    """The Wikipedia passage of each line of ``adversarial_qa_dbert_answer_the_following_q`` (120 lines).

    The five ``adversarial_qa_dbert_*`` templates hold the same (passage, question) pair on the same line, and a
    passage comes with 2-7 questions on consecutive lines.
    """
    path = T0_SAMPLE / "adversarial_qa_dbert_answer_the_following_q.jsonl"
    with path.open() as lines:
        prompts = [json.loads(line)["prompt"] for line in lines]
    return [re.search(r'passage\n\n"(.*)",\n\nanswer', p, re.S).group(1).strip() for p in prompts]  # type: ignore[union-attr]
