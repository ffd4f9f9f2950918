"""``curator_synth.nemo.modules.task.TaskDecontamination`` and ``curator_synth.nemo.tasks``: NeMo's signature and
split-and-remove behaviour, benchmarks from local files (``TextTask``, NeMo's JSONL tasks), and NeMo's
hub-downloading tasks refused with a pointer to ``TextTask``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from data_paths import SELF_INSTRUCT

from curator_synth.errors import ConfigError, DataFormatError
from curator_synth.nemo.datasets import DocumentDataset
from curator_synth.nemo.modules.task import TaskDecontamination
from curator_synth.nemo.tasks import MMLU, DownstreamTask, Squad, TextTask, Winogrande, import_task

BENCHMARK = SELF_INSTRUCT / "user_oriented_instructions.jsonl"
INSTRUCTIONS = [json.loads(line)["instruction"] for line in BENCHMARK.read_text(encoding="utf-8").splitlines()]
BEFORE = "The first part of this training document talks about something else entirely. " * 8
AFTER = "The last part of this training document is about yet another topic, unrelated. " * 8


def task() -> TextTask:
    return TextTask("user_oriented", path=BENCHMARK, field="instruction")


def dataset(texts: list[str]) -> DocumentDataset:
    frame = pd.DataFrame({"text": texts, "file_name": [f"shard{i % 2}.jsonl" for i in range(len(texts))]})
    return DocumentDataset.from_pandas(frame, npartitions=2)


def test_matches_are_cut_out_and_documents_left_with_nothing_are_removed(tmp_path: Path) -> None:
    texts = [BEFORE + INSTRUCTIONS[0] + " " + AFTER, INSTRUCTIONS[1], "A clean training document."]
    removed_dir = tmp_path / "removed"
    decontaminator = TaskDecontamination(task(), removed_dir=str(removed_dir))
    out = decontaminator(dataset(texts)).to_pandas()
    assert isinstance(decontaminator(dataset(texts)), DocumentDataset)
    assert list(out.columns) == ["text", "file_name"]
    pieces = out[out["text"] != texts[2]]["text"].tolist()
    assert len(pieces) == 2  # the text before the match and the text after it, each over 200 characters
    assert pieces[0].startswith("The first part")
    assert pieces[1].strip().startswith("The last part")
    assert all(len(piece) > 200 and "concise" not in piece for piece in pieces)
    assert "A clean training document." in out["text"].tolist()
    written = [json.loads(line) for line in (removed_dir / "shard1.jsonl").read_text().splitlines()]
    assert [row["text"] for row in written] == [INSTRUCTIONS[1]]
    assert written[0]["decontamination_reason"] == "contaminated:user_oriented"


def test_common_ngrams_stay_and_max_splits_removes_whole_documents() -> None:
    texts = [INSTRUCTIONS[0]] * 3 + ["A clean training document."]
    assert len(TaskDecontamination(task(), max_matches=2)(dataset(texts)).to_pandas()) == 4
    assert len(TaskDecontamination(task(), max_matches=3)(dataset(texts)).to_pandas()) == 1
    many = BEFORE + INSTRUCTIONS[0] + " " + AFTER * 2 + INSTRUCTIONS[4] + " " + BEFORE
    assert len(TaskDecontamination(task(), max_splits=3)(dataset([many])).to_pandas()) == 3
    assert len(TaskDecontamination(task(), max_splits=2)(dataset([many])).to_pandas()) == 0


def test_nemos_step_by_step_methods() -> None:
    decontaminator = TaskDecontamination(task())
    ngrams = decontaminator.prepare_task_ngram_count()
    assert set(ngrams.values()) == {0}
    data = dataset([BEFORE + INSTRUCTIONS[2] + " " + AFTER, "clean"])
    found = decontaminator.find_matching_ngrams(ngrams, data)
    assert found["matched-ngrams"] == {"rewrite the given text and correct grammar spelling and punctuation errors": 1}
    assert dict(found["ngrams-freq"])[13] > 1000
    out = decontaminator.remove_matching_ngrams(found["matched-ngrams"], found["ngrams-freq"], data).to_pandas()
    assert len(out) == 3
    assert len(decontaminator.remove_matching_ngrams({}, [], data).to_pandas()) == 2


def test_text_task_from_strings_directories_and_nemos_jsonl_tasks(tmp_path: Path) -> None:
    strings = TextTask("mine", ["one benchmark question that has more than eight words in it"])
    assert strings.generate_ngrams() == {"one benchmark question that has more than eight words in it": 0}
    assert strings.name == "mine"
    (tmp_path / "mmlu").mkdir()
    (tmp_path / "mmlu" / "a.jsonl").write_text(json.dumps({"text": INSTRUCTIONS[0]}) + "\n", encoding="utf-8")
    (tmp_path / "mmlu" / "b.jsonl").write_text(json.dumps({"text": INSTRUCTIONS[1]}) + "\n", encoding="utf-8")
    mmlu = MMLU(tmp_path / "mmlu")
    assert mmlu.name == "mmlu"
    assert len(mmlu.generate_ngrams()) == (36 - 12) + (47 - 12)
    with pytest.raises(ConfigError, match="MMLU: give the path"):
        MMLU()


def test_bad_and_empty_benchmarks_are_refused_at_construction(tmp_path: Path) -> None:
    bad = tmp_path / "bench.jsonl"
    bad.write_text(json.dumps({"question": INSTRUCTIONS[0]}) + "\n{oops\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"bench\.jsonl:2: not valid JSON"):
        TextTask("b", path=bad, field="question")
    with pytest.raises(ConfigError, match="has no texts"):
        TextTask("b", [])
    with pytest.raises(ConfigError, match="8 words or more"):
        TextTask("b", ["too short"])
    with pytest.raises(ConfigError, match="exactly one"):
        TextTask("b")
    with pytest.raises(ConfigError, match="at least one task"):
        TaskDecontamination([])


def test_hub_tasks_say_to_save_the_benchmark_and_use_text_task() -> None:
    with pytest.raises(ConfigError, match=r"Squad: .*'squad_v2'.*downloads nothing.*TextTask\('squad'"):
        Squad()
    with pytest.raises(ConfigError, match=r"Winogrande: .*field=") as caught:
        Winogrande(min_ngram_size=8)
    assert "(sentence)" in str(caught.value)


def test_a_task_of_ones_own_and_import_task() -> None:
    class Questions(DownstreamTask):
        def __init__(self) -> None:
            super().__init__()
            self._task_name = "questions"

        def generate_ngrams(self) -> dict[str, int]:
            for text in INSTRUCTIONS[:3]:
                self._update_ngrams(text)
            return self.ngrams

    out = TaskDecontamination(Questions(), min_document_length=0)(dataset([INSTRUCTIONS[2], "clean"])).to_pandas()
    assert out["text"].tolist() == ["clean"]
    assert import_task("curator_synth.nemo.tasks.TextTask") is TextTask
    with pytest.raises(TypeError, match="DownstreamTask"):
        import_task("curator_synth.nemo.datasets.DocumentDataset")
