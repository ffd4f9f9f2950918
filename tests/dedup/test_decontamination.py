"""Benchmark decontamination on real data: Self-Instruct's 252 user-oriented instructions are the benchmark (an
evaluation set), the prompts of the models' answers to them are contaminated training data (each holds its
instruction verbatim), and the 175 seed tasks are clean. Plus the rules: normalisation, short benchmark texts,
common n-grams, malformed and empty benchmarks, split mode, lists."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from data_paths import SEED_TASKS, SELF_INSTRUCT

from curator_synth.dataset import DocumentDataset
from curator_synth.dedup import Benchmark, BenchmarkDecontamination, NgramIndex, SplitOptions
from curator_synth.dedup.benchmarks import benchmark_ngrams, ngram_words
from curator_synth.errors import ConfigError, DataFormatError

BENCHMARK = SELF_INSTRUCT / "user_oriented_instructions.jsonl"


def field(path: Path, name: str) -> list[str]:
    return [json.loads(line)[name] for line in path.read_text(encoding="utf-8").splitlines()]


def dataset(texts: list[str], npartitions: int = 3) -> DocumentDataset:
    return DocumentDataset.from_pandas(pd.DataFrame({"id": range(len(texts)), "text": texts}), npartitions=npartitions)


def user_oriented() -> Benchmark:
    return Benchmark.from_file("user_oriented", BENCHMARK, field="instruction")


def test_training_records_holding_benchmark_instructions_are_removed_with_their_reason() -> None:
    prompts = field(SELF_INSTRUCT / "predictions_text-davinci-003.jsonl", "prompt")
    seeds = field(SEED_TASKS, "instruction")
    instructions = user_oriented().texts
    result = BenchmarkDecontamination(user_oriented())(dataset(prompts + seeds))
    removed = result.removed.to_pandas().sort_values("id")
    short = {number for number, text in enumerate(instructions) if len(ngram_words(text)) < 8}
    assert len(short) == 15  # "Answer the following question." gives no n-gram: too short to be evidence
    assert set(removed["id"]) == set(range(len(prompts))) - short
    assert set(removed["decontamination_reason"]) == {"contaminated:user_oriented"}
    assert set(removed["contamination_tasks"]) == {"user_oriented"}
    assert (removed["contamination_ngrams"] >= 1).all()
    assert removed["text"].tolist() == [prompts[i] for i in sorted(set(range(len(prompts))) - short)]
    kept = result.kept.to_pandas()
    assert list(kept.columns) == ["id", "text"]
    assert len(kept) + len(removed) == len(prompts) + len(seeds)  # nothing dropped unseen
    assert set(range(len(prompts), len(prompts) + len(seeds))) <= set(kept["id"])
    assert result.reasons() == {"contaminated:user_oriented": len(prompts) - 15}
    assert result.common == frozenset()


def test_an_ngram_in_more_than_max_matches_documents_is_common_text_not_contamination() -> None:
    # The six models' prediction files hold the same 252 prompts: each instruction n-gram is in six documents.
    files = sorted(SELF_INSTRUCT.glob("predictions_*.jsonl"))
    prompts = [text for path in files for text in field(path, "prompt")[:20]]
    assert len(files) == 6
    lenient = BenchmarkDecontamination(user_oriented(), max_matches=5)(dataset(prompts))
    assert len(lenient.removed.to_pandas()) == 0
    assert lenient.common
    assert set(lenient.ngram_counts.values()) == {6}
    strict = BenchmarkDecontamination(user_oriented(), max_matches=6)(dataset(prompts))
    assert len(strict.removed.to_pandas()) == len(prompts)  # none of the first 20 instructions is short
    assert BenchmarkDecontamination(user_oriented(), max_matches=None).find(prompts[:3])[0] is not None


def test_case_punctuation_and_spacing_do_not_hide_a_match() -> None:
    question = "Which NFL team represented the AFC at Super Bowl 50 and won the championship game?"
    step = BenchmarkDecontamination(Benchmark("squad", (question,)))
    disguised = "Quiz:  WHICH NFL team -- represented the A.F.C. at «Super Bowl» 50,\nand won the championship game!!"
    reworded = "Which NFL team represented the NFC at Super Bowl 50 and lost the championship game?"
    found = step.find([disguised, reworded, "unrelated text"])
    assert found[0] is not None
    assert found[0].reason == "contaminated:squad"
    assert found[1:] == [None, None]
    assert step.find([disguised.replace("Super Bowl", "Super-Bowl")]) == [None]  # one word there: "superbowl"
    assert ngram_words("Super-Bowl A.F.C. don't") == ["superbowl", "afc", "dont"]  # removed, not a space (NeMo)


def test_short_benchmark_texts_are_one_ngram_and_shorter_ones_none() -> None:
    nine = "Rewrite the given text and correct grammar and spelling"  # 9 words: one n-gram, the whole text
    assert benchmark_ngrams([nine, "too short to count"]) == {ngram_words(nine) and " ".join(ngram_words(nine))}
    step = BenchmarkDecontamination(Benchmark("edit", (nine,)))
    found = step.find([f"Task: {nine}. Input: I has a apple.", "Rewrite the given text and correct grammar please"])
    assert found[0] is not None
    assert found[0].ngrams == (" ".join(ngram_words(nine)),)
    assert found[1] is None
    with pytest.raises(ConfigError, match="none of its 2 texts has 8 words or more"):
        BenchmarkDecontamination(Benchmark("tiny", ("Answer the question.", "What sound does this make?")))


def test_a_malformed_benchmark_file_names_the_file_and_line(tmp_path: Path) -> None:
    bad_json = tmp_path / "bench.jsonl"
    bad_json.write_text('{"question": "a fine line of text"}\n{"question": "broken\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"bench\.jsonl:2: not valid JSON") as caught:
        Benchmark.from_file("b", bad_json, field="question")
    assert caught.value.line == 2
    assert caught.value.path == str(bad_json)
    missing = tmp_path / "missing.jsonl"
    missing.write_text('{"question": "q"}\n\n{"query": "q"}\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"missing\.jsonl:3: no field 'question'"):
        Benchmark.from_file("b", missing, field="question")
    numbers = tmp_path / "numbers.jsonl"
    numbers.write_text('{"question": 7}\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"numbers\.jsonl:1: field 'question' is int"):
        Benchmark.from_file("b", numbers, field="question")
    pd.DataFrame({"query": ["q"]}).to_parquet(tmp_path / "table.parquet")
    with pytest.raises(DataFormatError, match=r"table\.parquet: no column 'question'"):
        Benchmark.from_file("b", tmp_path / "table.parquet", field="question")
    with pytest.raises(DataFormatError, match="no such benchmark file"):
        Benchmark.from_file("b", tmp_path / "absent.jsonl")
    with pytest.raises(ConfigError, match="unknown benchmark file kind"):
        Benchmark.from_file("b", tmp_path / "bench.csv")


def test_an_empty_benchmark_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"benchmark 'e' \(.*empty\.jsonl\) has no texts"):
        Benchmark.from_file("e", empty)
    with pytest.raises(ConfigError, match="has no texts"):
        Benchmark.from_texts("e", [])
    with pytest.raises(ConfigError, match="at least one"):
        BenchmarkDecontamination([])
    with pytest.raises(ConfigError, match="given more than once"):
        BenchmarkDecontamination([user_oriented(), user_oriented()])


def test_parquet_text_files_lists_of_answers_and_several_fields(tmp_path: Path) -> None:
    rows = [{"question": "What does the first line of this benchmark file say here", "answers": ["one", "two"]}]
    pd.DataFrame(rows).to_parquet(tmp_path / "bench.parquet")
    from_parquet = Benchmark.from_file("p", tmp_path / "bench.parquet", field=["question", "answers"])
    assert from_parquet.texts == (rows[0]["question"], "one", "two")
    (tmp_path / "bench.txt").write_text("first text line\n\n  second text line \n", encoding="utf-8")
    assert Benchmark.from_file("t", tmp_path / "bench.txt").texts == ("first text line", "second text line")


def test_each_record_names_the_task_with_most_of_its_ngrams() -> None:
    first = "the quick brown fox jumps over the lazy dog near the river bank today"
    second = "a completely different benchmark sentence about the history of ancient roman aqueducts"
    step = BenchmarkDecontamination([Benchmark("a", (first,)), Benchmark("b", (second, first))])
    found = step.find([f"{second}. {first}", second, "clean"])
    assert found[0] is not None
    assert found[0].tasks == ("a", "b")
    assert found[0].task == "b"
    assert found[1] is not None
    assert found[1].reason == "contaminated:b"
    assert found[2] is None
    assert NgramIndex.from_benchmarks(Benchmark("a", (first,))).tasks == ("a",)


def test_results_do_not_depend_on_partitioning() -> None:
    prompts = field(SELF_INSTRUCT / "predictions_davinci.jsonl", "prompt")[:60]
    step = BenchmarkDecontamination(user_oriented())
    one = step(dataset(prompts, npartitions=1)).removed.to_pandas().sort_values("id", ignore_index=True)
    many = step(dataset(prompts, npartitions=7)).removed.to_pandas().sort_values("id", ignore_index=True)
    pd.testing.assert_frame_equal(one, many)


def test_split_mode_cuts_the_match_out_and_keeps_long_pieces_with_new_ids() -> None:
    instruction = user_oriented().texts[0]
    before = "This opening paragraph talks about writing. " * 6
    after = "A closing paragraph follows the benchmark text. " * 6
    texts = [before + instruction + " " + after, instruction, "A clean record."]
    step = BenchmarkDecontamination(
        user_oriented(), mode="split", split=SplitOptions(remove_char_each_side=30, min_document_length=100)
    )
    result = step(dataset(texts, npartitions=2))
    kept = result.kept.to_pandas()
    assert kept["id"].tolist() == ["0#0", "0#1", "2"]
    assert all("concise" not in text for text in kept["text"])
    assert kept["text"].iloc[0].startswith("This opening")
    assert kept["text"].iloc[1].strip().startswith("A closing")
    removed = result.removed.to_pandas()
    assert removed["id"].tolist() == ["1"]
    assert removed["decontamination_reason"].tolist() == ["contaminated:user_oriented"]
    limited = BenchmarkDecontamination(user_oriented(), mode="split", split=SplitOptions(30, 100, max_splits=1))
    assert limited(dataset(texts)).removed.to_pandas()["id"].tolist() == ["0", "1"]


def test_lists_of_records() -> None:
    prompts = field(SELF_INSTRUCT / "predictions_text-davinci-003.jsonl", "prompt")[:2]
    records = [{"id": "a", "text": prompts[0]}, {"id": "b", "text": "Tell me a joke."}, {"id": "c", "text": prompts[1]}]
    kept, removed = BenchmarkDecontamination(user_oriented()).filter_records(records)
    assert kept == [{"id": "b", "text": "Tell me a joke."}]
    assert [row["id"] for row in removed] == ["a", "c"]
    assert removed[0]["decontamination_reason"] == "contaminated:user_oriented"


def test_bad_options_and_columns_are_refused() -> None:
    with pytest.raises(ConfigError, match="max_matches"):
        BenchmarkDecontamination(user_oriented(), max_matches=0)
    with pytest.raises(ConfigError, match="min_ngram_size"):
        BenchmarkDecontamination(user_oriented(), ngram_size=5, min_ngram_size=8)
    with pytest.raises(ConfigError, match="lacks column 'body'"):
        BenchmarkDecontamination(user_oriented(), text_field="body")(dataset(["x"]))
    with pytest.raises(ConfigError, match="without ':'"):
        Benchmark("a:b", ("text",))
