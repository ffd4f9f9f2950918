"""Words by language (white space, or jieba / MeCab for Chinese / Japanese), ``WordCountFilter(lang=...)``,
``LengthRatioFilter`` over (source, translation) pairs and ``PornographicUrlsFilter``."""

from __future__ import annotations

import math
import pickle
import sys
import types

import pandas as pd
import pytest

from curator_synth.dataset import DocumentDataset
from curator_synth.errors import MissingDependencyError
from curator_synth.filters import LengthRatioFilter, PornographicUrlsFilter, ScoreFilter, WordCountFilter
from curator_synth.filters.words import word_splitter


@pytest.fixture
def fake_segmenters(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand-ins for jieba (one word per two characters) and MeCab (one morpheme per character)."""
    jieba = types.ModuleType("jieba")
    jieba.cut = lambda text: iter([text[i : i + 2] for i in range(0, len(text), 2)])  # type: ignore[attr-defined]

    class Tagger:
        def parse(self, text: str) -> str:
            return "".join(f"{char}\tnoun\n" for char in text) + "EOS\n"

    mecab = types.ModuleType("MeCab")
    mecab.Tagger = Tagger  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "jieba", jieba)
    monkeypatch.setitem(sys.modules, "MeCab", mecab)


def test_other_languages_split_on_white_space() -> None:
    assert word_splitter("de")("  ein  kleiner\tTest ") == ["ein", "kleiner", "Test"]


def test_chinese_and_japanese_use_their_segmenters(fake_segmenters: None) -> None:
    assert word_splitter("ZH")("你好世界") == ["你好", "世界"]
    assert word_splitter("ja")("猫が寝") == ["猫", "が", "寝"]


def test_the_real_segmenters_of_the_cjk_extra() -> None:
    assert word_splitter("zh")("我喜欢自然语言处理") == ["我", "喜欢", "自然语言", "处理"]
    assert word_splitter("ja")("私は日本語を話します") == ["私", "は", "日本", "語", "を", "話し", "ます"]
    assert WordCountFilter(min_words=5, lang="ja").score_document("私は日本語を話します") == 7


def test_a_missing_segmenter_fails_when_the_filter_is_built_naming_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "jieba", None)  # import jieba raises ImportError
    with pytest.raises(MissingDependencyError, match=r"'jieba'.*pip install 'curator_synth\[cjk\]'"):
        WordCountFilter(lang="zh")
    monkeypatch.setitem(sys.modules, "MeCab", None)
    with pytest.raises(ImportError, match=r"'MeCab'.*pip install 'curator_synth\[cjk\]'"):
        LengthRatioFilter(src_lang="en", tgt_lang="ja")


def test_word_count_in_chinese_counts_the_segmenters_words(fake_segmenters: None) -> None:
    f = WordCountFilter(min_words=2, max_words=3, lang="zh")
    scores = f.score_batch(pd.Series(["你好", " 你好世界 ", "一二三四五六七"]))
    assert scores.tolist() == [1, 2, 4]
    assert f.keep_batch(scores).tolist() == [False, True, False]
    assert pickle.loads(pickle.dumps(f)).score_document("你好世界") == 2  # goes to Dask workers


def test_word_count_in_english_is_unchanged() -> None:
    assert WordCountFilter(lang="en").score_batch(pd.Series(["one two  three", ""])).tolist() == [3, 0]


def test_length_ratio_is_the_larger_ratio_of_word_counts_either_way() -> None:
    f = LengthRatioFilter(max_ratio=1.5)
    assert f.score_pair("a b", "x y z") == 1.5
    assert f.score_pair("a b c", "x y") == 1.5
    assert not f.keep_document(1.5)  # kept below max_ratio only
    assert f.keep_document(1.0)
    assert math.isinf(f.score_pair("", "x"))
    assert not f.keep_document(f.score_pair("", "x"))


def test_length_ratio_filters_pairs_of_columns() -> None:
    frame = pd.DataFrame({"src": ["one", "one two three", "a b"], "tgt": ["uno", "uno", "x y"]})
    kept = ScoreFilter(LengthRatioFilter(max_ratio=2), text_field=("src", "tgt"), score_field="ratio")(
        DocumentDataset.from_pandas(frame, npartitions=2)
    )
    result = kept.df.compute()
    assert result["src"].tolist() == ["one", "a b"]
    assert result["ratio"].tolist() == [1.0, 1.0]


def test_pornographic_urls_are_found_in_urls_only() -> None:
    f = PornographicUrlsFilter()
    texts = ["a page https://www.PornSite.example/x here", "https://nvidia.com/en-us", "porn in the text, no url"]
    scores = [f.score_document(text) for text in texts]
    assert scores == [1, 0, 0]
    assert [f.keep_document(score) for score in scores] == [False, True, True]
