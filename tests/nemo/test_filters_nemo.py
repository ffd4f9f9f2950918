"""``curator_synth.nemo``'s filters, filter steps, ``ParallelDataset`` and utils: NeMo's names and shapes over
curator_synth's own filters (a NeMo-style filter class runs unchanged; steps add score columns to the dataset
passed in, as NeMo's do; bitext filters apply to a ``ParallelDataset`` directly)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import curator_synth.nemo as nc
from curator_synth.errors import ConfigError, MissingDependencyError
from curator_synth.filters import FilteredDataset
from curator_synth.nemo import filters as nf
from curator_synth.nemo.datasets import DocumentDataset, ParallelDataset
from curator_synth.nemo.filters.models.qe_models import COMET_IMPORT_MSG, PYMARIAN_IMPORT_MSG
from curator_synth.nemo.modules import Filter, ParallelScoreFilter, Score, ScoreFilter, Sequential
from curator_synth.nemo.utils.decorators import batched
from curator_synth.nemo.utils.import_utils import is_unavailable, safe_import

#: Every name NeMo Curator 0.9's ``nemo_curator.filters`` exports, but its two LLM-judged synthetic filters.
NEMO_FILTER_NAMES = [
    "AlphaFilter",
    "BitextFilter",
    "BoilerPlateStringFilter",
    "BulletsFilter",
    "CommonEnglishWordsFilter",
    "DocumentFilter",
    "EllipsisFilter",
    "FastTextLangId",
    "FastTextQualityFilter",
    "GeneralCommentToCodeFilter",
    "HTMLBoilerplateFilter",
    "HistogramFilter",
    "LengthRatioFilter",
    "LongWordFilter",
    "MeanWordLengthFilter",
    "NonAlphaNumericFilter",
    "NumberOfLinesOfCodeFilter",
    "NumbersFilter",
    "ParenthesesFilter",
    "PerExtensionFilter",
    "PornographicUrlsFilter",
    "PunctuationFilter",
    "PythonCommentToCodeFilter",
    "QualityEstimationFilter",
    "RepeatedLinesByCharFilter",
    "RepeatedLinesFilter",
    "RepeatedParagraphsByCharFilter",
    "RepeatedParagraphsFilter",
    "RepeatingDuplicateNGramsFilter",
    "RepeatingTopNGramsFilter",
    "SubstringFilter",
    "SymbolsToWordsFilter",
    "TokenCountFilter",
    "TokenizerFertilityFilter",
    "UrlsFilter",
    "WhiteSpaceFilter",
    "WordCountFilter",
    "WordsWithoutAlphabetsFilter",
    "XMLHeaderFilter",
    "import_filter",
]


class CountOf(nf.DocumentFilter):
    """A filter written NeMo's way: ``super().__init__()``, per-document methods."""

    def __init__(self, letter: str = "e", least: int = 2) -> None:
        super().__init__()
        self.letter = letter
        self.least = least

    def score_document(self, text: str) -> int:
        return text.count(self.letter)

    def keep_document(self, score: int) -> bool:
        return score >= self.least


class Length(nf.DocumentFilter):
    """NeMo's batched style: both methods take and return a Series."""

    @batched
    def score_document(self, text: pd.Series) -> pd.Series:
        return text.str.len()

    @batched
    def keep_document(self, score: pd.Series) -> pd.Series:
        return score <= 6


def docs(*texts: str, column: str = "text") -> DocumentDataset:
    return DocumentDataset.from_pandas(pd.DataFrame({column: list(texts)}), npartitions=2)


def pairs(src: list[str], tgt: list[str]) -> ParallelDataset:
    frame = pd.DataFrame({"src": src, "tgt": tgt, "src_lang": "en", "tgt_lang": "de"})
    return ParallelDataset(DocumentDataset.from_pandas(frame, npartitions=2).df)


def test_every_nemo_filter_name_and_the_lazy_subpackages_import() -> None:
    assert set(NEMO_FILTER_NAMES) <= set(nf.__all__)
    assert all(hasattr(nf, name) for name in nf.__all__)
    assert nc.filters is nf
    assert (nc.ScoreFilter, nc.Sequential, nc.AddId) == (ScoreFilter, Sequential, nc.modules.AddId)  # NeMo's top level
    assert nc.utils.__name__ == "curator_synth.nemo.utils"
    assert nf.import_filter("curator_synth.nemo.filters.WordCountFilter") is nf.WordCountFilter
    with pytest.raises(TypeError, match="not a DocumentFilter"):
        nf.import_filter("curator_synth.nemo.datasets.DocumentDataset")


def test_a_nemo_style_filter_runs_in_score_filter_score_and_filter() -> None:
    data = docs("tree", "bee", "eerie", "cat", column="words")
    kept = ScoreFilter(CountOf(), text_field="words")(data)
    assert isinstance(kept, FilteredDataset)
    assert kept.df.compute()["words"].tolist() == ["tree", "bee", "eerie"]
    scored = Score(CountOf().score_document, score_field="e", text_field="words")(data)
    assert scored is data  # NeMo's Score adds the column to the dataset it is given and returns it
    assert Filter(CountOf(least=3).keep_document, "e")(scored).df.compute()["words"].tolist() == ["eerie"]


def test_batched_filters_and_chains() -> None:
    data = docs("tree", "bee", "elephant", "cat")
    kept = Sequential([ScoreFilter(CountOf(least=1)), ScoreFilter(Length())])(data)
    assert kept.df.compute()["text"].tolist() == ["tree", "bee"]
    assert ScoreFilter(Length(), invert=True)(data).df.compute()["text"].tolist() == ["elephant"]


def test_a_score_field_is_added_to_the_dataset_passed_in_as_nemo_does() -> None:
    data = docs("tree", "bee", "elephant", "cat")
    kept = ScoreFilter(CountOf(), score_field="e", score_type=int)(data)
    assert kept.df.compute()["e"].tolist() == [2, 2, 2]
    assert data.df.compute()["e"].tolist() == [2, 2, 2, 0]  # every input row, with its score


def test_parallel_score_filter_keeps_pairs_both_sides_keep() -> None:
    data = pairs(["eel", "free tree", "sea", "see me"], ["a", "Beere Eee", "Meer", "sehen"])
    result = ParallelScoreFilter(CountOf(least=2), CountOf(least=3), src_score="s", tgt_score="t")(data)
    assert isinstance(result, ParallelDataset)
    frame = result.df.compute()
    assert frame["src"].tolist() == ["free tree"]
    assert frame[["s", "t"]].values.tolist() == [[4, 5]]
    inverted = ParallelScoreFilter(CountOf(least=2), CountOf(least=3), invert=True)(data)
    assert inverted.df.compute()["src"].tolist() == ["sea"]  # both sides dropped


def test_length_ratio_applies_to_a_parallel_dataset_and_adds_its_score_to_it() -> None:
    data = pairs(["one", "one two three", "a b"], ["eins", "eins", "x y"])
    kept = nf.LengthRatioFilter(max_ratio=2, src_lang="en", tgt_lang="de", score_field="ratio")(data)
    assert isinstance(kept, ParallelDataset)
    assert kept.df.compute()["src"].tolist() == ["one", "a b"]
    assert data.df.compute()["ratio"].tolist() == [1.0, 3.0, 1.0]


class SameLanguage(nf.BitextFilter):
    """A bitext filter with metadata fields, renamed for its arguments, scoring whole batches."""

    @batched
    def score_bitext(self, src: pd.Series, tgt: pd.Series, source: pd.Series, target: pd.Series) -> pd.Series:
        return (source != target) & (src != tgt)

    def keep_bitext(self, score: Any) -> bool:
        return bool(score)


def test_a_bitext_filter_gets_its_metadata_fields() -> None:
    data = pairs(["hello", "same"], ["hallo", "same"])
    bitext = SameLanguage(metadata_fields=["src_lang", "tgt_lang"],
                          metadata_field_name_mapping={"src_lang": "source", "tgt_lang": "target"})  # fmt: skip
    assert bitext(data).df.compute()["src"].tolist() == ["hello"]


def test_parallel_dataset_reads_and_writes_simple_bitext(tmp_path: Path) -> None:
    (tmp_path / "news.de").write_text("Guten Tag\tund mehr\nDanke\n")
    (tmp_path / "news.en").write_text("Good day\tand more\nThanks\n")
    data = ParallelDataset.read_simple_bitext(str(tmp_path / "news.de"), str(tmp_path / "news.en"), "de", "en",
                                              add_filename=True, npartitions=2)  # fmt: skip
    frame = data.df.compute()
    assert frame["src"].tolist() == ["Guten Tag\tund mehr", "Danke"]  # tabs are text
    assert frame["file_name"].unique().tolist() == [str(tmp_path / "news")]
    out = tmp_path / "out"
    data.to_bitext(str(out), write_to_filename=True)
    assert (out / "news.en").read_text() == "Good day\tand more\nThanks\n"
    data.to_bitext(str(tmp_path / "all"))
    assert (tmp_path / "all.de").read_text() == "Guten Tag\tund mehr\nDanke\n"


def test_parallel_dataset_refuses_what_would_break_the_line_pairs(tmp_path: Path) -> None:
    (tmp_path / "a.de").write_text("eins\nzwei\n")
    (tmp_path / "a.en").write_text("one\n")
    (tmp_path / "b.en").write_text("one\n")
    with pytest.raises(ConfigError, match="has 2 lines but"):
        ParallelDataset.read_simple_bitext(str(tmp_path / "a.de"), str(tmp_path / "a.en"), "de", "en")
    with pytest.raises(ConfigError, match="differ only in their language extension"):
        ParallelDataset.read_simple_bitext(str(tmp_path / "a.de"), str(tmp_path / "b.en"), "de", "en")
    with pytest.raises(ConfigError, match="line break"):
        pairs(["one\ntwo"], ["eins"]).to_bitext(str(tmp_path / "x"))


def test_safe_import_gives_the_module_or_a_stand_in_that_fails_with_the_message() -> None:
    assert safe_import("json") is sys.modules["json"]
    missing = safe_import("no_such_module_here", msg="install it")
    assert is_unavailable(missing)
    assert not is_unavailable(sys.modules["json"])
    with pytest.raises(MissingDependencyError, match="install it"):
        missing.anything  # noqa: B018
    with pytest.raises(ImportError, match="install it"):
        missing()


def test_model_filters_that_cannot_run_here_say_why(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "comet", None)
    monkeypatch.setitem(sys.modules, "pymarian", None)
    with pytest.raises(MissingDependencyError) as comet:
        nf.QualityEstimationFilter("comet-qe", cutoff=0.5)
    assert str(comet.value) == COMET_IMPORT_MSG
    with pytest.raises(MissingDependencyError, match="pymarian"):
        nf.QualityEstimationFilter("cometoid-wmt23", cutoff=0.5)
    assert "pymarian" in PYMARIAN_IMPORT_MSG
    with pytest.raises(NotImplementedError, match="comet-qe"):
        nf.QualityEstimationFilter("bleu", cutoff=0.5)
    with pytest.raises(ConfigError, match="does not download"):
        nf.HistogramFilter(lang="en", cache_dir=str(tmp_path))
    with pytest.raises(ValueError, match="model_path"):
        nf.FastTextLangId()
    with pytest.raises(FileNotFoundError):
        nf.FastTextQualityFilter(str(tmp_path / "missing.bin"))
    with pytest.raises(ValueError, match="path_to_tokenizer"):
        nf.TokenizerFertilityFilter()
    model = tmp_path / "spm.model"
    model.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "sentencepiece", None)
    with pytest.raises(MissingDependencyError, match="pip install sentencepiece"):
        nf.TokenizerFertilityFilter(str(model))


def test_histogram_filter_reads_histograms_placed_in_the_cache_dir(tmp_path: Path) -> None:
    hist = tmp_path.joinpath("histograms", "checkpoint", "edunov", "cc60_multilingual", "clean_hists")
    hist.mkdir(parents=True)
    (hist / "en").write_text("".join(f"{char}\n" for char in "abcdefghijklmnopqrstuvwxyz ") + "]\n~\n")
    f = nf.HistogramFilter(lang="en", cache_dir=str(tmp_path))
    assert f.score_document("abc d") == 1.0
    kept = ScoreFilter(f)(docs("plain words here", "中文文本在这里", "mostly ascii 中"))
    assert kept.df.compute()["text"].tolist() == ["plain words here", "mostly ascii 中"]


def test_per_extension_filter_reads_code_meta_csv_from_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "code_meta.csv").write_text(
        "language,extension,Include,Long_line_threshold,Alphanum_threshold,Alpha filter\nc++,cpp,1,80,0.25,\n"
    )
    monkeypatch.chdir(tmp_path)
    f = nf.PerExtensionFilter("c++", "cpp")
    assert ScoreFilter(f)(docs("int main() { return 0; }", "x" * 100)).df.compute()["text"].tolist() == [
        "int main() { return 0; }"
    ]
