"""NeMo's named benchmark tasks.

Those NeMo reads from local JSON Lines files with a ``"text"`` key work the same here (``MMLU``,
``BigBenchHard``, ``BigBenchLight``, ``Multilingual``: a directory or file; ``Lambada``: a file). Those NeMo
downloads from the Hugging Face hub (``Squad``, ``Winogrande``...), and the few with a format of their own
(``COQA``, ``NumDasc``, ``StoryCloze``), raise a ``ConfigError`` on construction that says which texts to save
and how to pass them to :class:`~curator_synth.nemo.tasks.TextTask`: nothing here downloads.
"""

from __future__ import annotations

import os
from typing import Any

from curator_synth.errors import ConfigError
from curator_synth.nemo.tasks.downstream_task import DownstreamTask, TextTask

__all__ = [
    "ANLI", "CB", "COQA", "MMLU", "PIQA", "RTE", "WSC", "ArcChallenge", "ArcEasy", "BigBenchHard", "BigBenchLight",
    "BoolQ", "Copa", "Drop", "Lambada", "MultiRC", "Multilingual", "NumDasc", "OpenBookQA", "Quac", "Race", "Record",
    "Squad", "StoryCloze", "TriviaQA", "WebQA", "WiC", "Winogrande",
]  # fmt: skip


class _JsonlTextTask(TextTask):
    """A NeMo task read from local JSON Lines files, the benchmark text under ``"text"``."""

    task_name = ""

    def __init__(
        self, path: str | os.PathLike[str] | None = None, min_ngram_size: int = 8, max_ngram_size: int = 13
    ) -> None:
        if path is None:
            raise ConfigError(f"{type(self).__name__}: give the path of the task's JSON Lines data (key 'text')")
        super().__init__(
            self.task_name, path=path, field="text", min_ngram_size=min_ngram_size, max_ngram_size=max_ngram_size
        )


class MMLU(_JsonlTextTask):
    task_name = "mmlu"


class BigBenchHard(_JsonlTextTask):
    task_name = "bigbench_hard"


class BigBenchLight(_JsonlTextTask):
    task_name = "bigbench_light"


class Multilingual(_JsonlTextTask):
    task_name = "multilingual"


class Lambada(_JsonlTextTask):
    task_name = "lambada"

    def __init__(self, file_path: str | os.PathLike[str], min_ngram_size: int = 8, max_ngram_size: int = 13) -> None:
        super().__init__(file_path, min_ngram_size, max_ngram_size)


class _UnavailableTask(DownstreamTask):
    """A NeMo task that downloads its benchmark (or reads a format of its own): constructing it raises."""

    task_name = ""
    source = ""
    field = "question"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        name = type(self).__name__
        raise ConfigError(
            f"{name}: NeMo Curator {self.source}; curator_synth downloads nothing and reads benchmarks through "
            f"TextTask. Save the texts NeMo uses ({self.field}) as JSON Lines or Parquet and pass them as "
            f"TextTask({self.task_name!r}, path='{self.task_name}.jsonl', field=...) from curator_synth.nemo.tasks"
        )

    def generate_ngrams(self) -> dict[str, int]:  # pragma: no cover - never constructed
        raise NotImplementedError


def _unavailable(name: str, task_name: str, source: str, field: str = "question") -> type[_UnavailableTask]:
    attributes = {"task_name": task_name, "source": source, "field": field, "__module__": __name__}
    return type(name, (_UnavailableTask,), attributes)


_HUB = "downloads it from the Hugging Face hub: dataset"
Race = _unavailable("Race", "race", f"{_HUB} 'race', config 'all', split 'test'")
Squad = _unavailable("Squad", "squad", f"{_HUB} 'squad_v2', split 'validation'")
ArcEasy = _unavailable("ArcEasy", "arceasy", f"{_HUB} 'ai2_arc', config 'ARC-Easy', split 'test'")
ArcChallenge = _unavailable("ArcChallenge", "arcchallenge", f"{_HUB} 'ai2_arc', config 'ARC-Challenge', split 'test'")
OpenBookQA = _unavailable(
    "OpenBookQA", "openbookqa", f"{_HUB} 'openbookqa', config 'main', split 'test'", "question_stem"
)
BoolQ = _unavailable("BoolQ", "boolq", f"{_HUB} 'super_glue', config 'boolq', split 'validation'")
Copa = _unavailable("Copa", "copa", f"{_HUB} 'super_glue', config 'copa', split 'validation'", "premise")
RTE = _unavailable("RTE", "rte", f"{_HUB} 'glue', config 'rte', split 'validation'", "sentence1 and sentence2")
MultiRC = _unavailable("MultiRC", "multirc", f"{_HUB} 'super_glue', config 'multirc', split 'validation'")
WSC = _unavailable("WSC", "wsc", f"{_HUB} 'super_glue', config 'multirc' (sic), split 'validation'")
CB = _unavailable("CB", "cb", f"{_HUB} 'super_glue', config 'cb', split 'validation'", "premise")
ANLI = _unavailable("ANLI", "anli", f"{_HUB} 'anli', every test split", "premise and hypothesis")
Record = _unavailable("Record", "record", f"{_HUB} 'super_glue', config 'record', split 'validation'", "query")
TriviaQA = _unavailable("TriviaQA", "trivia_qa", f"{_HUB} 'trivia_qa', config 'unfiltered', split 'test'")
Quac = _unavailable("Quac", "quac", f"{_HUB} 'quac', split 'validation'", "questions")
WebQA = _unavailable("WebQA", "webqa", f"{_HUB} 'web_questions', split 'test'")
Drop = _unavailable("Drop", "drop", f"{_HUB} 'drop', split 'validation'")
WiC = _unavailable("WiC", "wic", f"{_HUB} 'super_glue', config 'wic', split 'validation'", "sentence1 and sentence2")
PIQA = _unavailable("PIQA", "piqa", f"{_HUB} 'piqa', split 'test'", "goal")
Winogrande = _unavailable(
    "Winogrande", "winogrande", f"{_HUB} 'winogrande', config 'winogrande_xl', split 'validation'", "sentence"
)
COQA = _unavailable("COQA", "coqa", "reads it from CoQA's own JSON file", "each story and its questions' input_text")
NumDasc = _unavailable("NumDasc", "ndasc", "reads it from a JSON Lines file of its own", "context + completion")
StoryCloze = _unavailable(
    "StoryCloze", "story_cloze", "reads it from a JSON Lines file of its own", "the input sentences and the ending"
)
