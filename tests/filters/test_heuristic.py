"""NeMo's heuristic filters: defaults, crafted texts that pass and fail each one, batch == per-item scores
on real text (T0 passages and prompts, Self-Instruct tasks), and a full heuristic chain over real data."""

from __future__ import annotations

import inspect
from typing import Any

import pandas as pd
import pytest
from data_paths import SEED_TASKS, T0_SAMPLE

import curator_synth.filters as h
from curator_synth.dataset import DocumentDataset
from curator_synth.errors import ConfigError
from curator_synth.filters import FilteredDataset, ScoreFilter, Sequential
from curator_synth.filters import repetition as r

PROSE = (
    "The history of the city goes back to the Roman period, when a small fort was built on the river. "
    "Over the centuries it grew into a market town with a cathedral, a university and a busy port. "
    "Today it is known for its museums, its parks and the festival that takes place every summer, "
    "attracting visitors from all over the country and abroad. Local people are proud of that heritage."
)


@pytest.fixture(scope="module")
def real_texts() -> pd.Series:
    frames = [pd.read_json(p, lines=True) for p in sorted(T0_SAMPLE.glob("*.jsonl"))[:8]]
    texts = [str(v) for f in frames for col in f.columns if f[col].dtype == object for v in f[col].head(40)]
    tasks = pd.read_json(SEED_TASKS, lines=True)["instruction"].astype(str).tolist()
    return pd.Series([t for t in texts + tasks if isinstance(t, str)] + ["", "   "])


NEMO_DEFAULTS: dict[type, dict[str, Any]] = {
    h.WordCountFilter: {"min_words": 50, "max_words": 100000},
    h.NonAlphaNumericFilter: {"max_non_alpha_numeric_to_text_ratio": 0.25},
    h.SymbolsToWordsFilter: {"max_symbol_to_word_ratio": 0.1},
    h.NumbersFilter: {"max_number_to_text_ratio": 0.15},
    h.UrlsFilter: {"max_url_to_text_ratio": 0.2},
    h.BulletsFilter: {"max_bullet_lines_ratio": 0.9},
    h.WhiteSpaceFilter: {"max_white_space_ratio": 0.25},
    h.ParenthesesFilter: {"max_parentheses_ratio": 0.1},
    h.LongWordFilter: {"max_word_length": 1000},
    h.MeanWordLengthFilter: {"min_mean_word_length": 3, "max_mean_word_length": 10},
    r.RepeatedLinesFilter: {"max_repeated_line_fraction": 0.7},
    r.RepeatedParagraphsFilter: {"max_repeated_paragraphs_ratio": 0.7},
    r.RepeatedLinesByCharFilter: {"max_repeated_lines_char_ratio": 0.8},
    r.RepeatedParagraphsByCharFilter: {"max_repeated_paragraphs_char_ratio": 0.8},
    r.RepeatingTopNGramsFilter: {"n": 2, "max_repeating_ngram_ratio": 0.2},
    r.RepeatingDuplicateNGramsFilter: {"n": 2, "max_repeating_duplicate_ngram_ratio": 0.2},
    h.PunctuationFilter: {"max_num_sentences_without_endmark_ratio": 0.85},
    h.EllipsisFilter: {"max_num_lines_ending_with_ellipsis_ratio": 0.3},
    h.CommonEnglishWordsFilter: {"min_num_common_words": 2, "stop_at_false": True},
    h.WordsWithoutAlphabetsFilter: {"min_words_with_alphabets": 0.8},
    h.BoilerPlateStringFilter: {"remove_if_at_top_or_bottom": True, "max_boilerplate_string_ratio": 0.4},
    h.TokenCountFilter: {"min_tokens": 0, "max_tokens": float("inf")},
    h.SubstringFilter: {"position": "any"},
}


@pytest.mark.parametrize("cls", list(NEMO_DEFAULTS), ids=lambda c: c.__name__)
def test_nemo_defaults(cls: type) -> None:
    params = inspect.signature(cls).parameters
    assert {k: params[k].default for k in NEMO_DEFAULTS[cls]} == NEMO_DEFAULTS[cls]


class Chars:
    """A tokenizer stand-in: one token per character."""

    def encode(self, text: str) -> list[int]:
        return [ord(c) for c in text]


# (filter, a text it keeps, a text it drops)
CASES: list[tuple[Any, str, str]] = [
    (h.WordCountFilter(), PROSE, "Too short to be a document."),
    (h.WordCountFilter(min_words=1, max_words=3), "one two", "one two three four"),
    (h.NonAlphaNumericFilter(), PROSE, "$$$ %%% &&& *** @@@ ^^^ ~~~"),
    (h.SymbolsToWordsFilter(), PROSE, "# ## ### Title ... more … words here"),
    (h.NumbersFilter(), PROSE, "Call 555 0199 2024 31337 or 8675309"),
    (h.UrlsFilter(), PROSE + " See https://example.org.", "https://example.org/a/very/long/path see"),
    (h.BulletsFilter(), PROSE, "• one\n• two\n• three"),
    (h.WhiteSpaceFilter(), PROSE, "a    b     c\n\n\n\n\t\t\td"),
    (h.ParenthesesFilter(), PROSE + " (founded 1200)", "f(g(h[i]{j}))"),
    (h.LongWordFilter(), PROSE, "x" * 1001),
    (h.MeanWordLengthFilter(), PROSE, "a b c d e f g"),
    (h.CommonEnglishWordsFilter(), PROSE, "THE CAT AND THE HAT"),
    (h.WordsWithoutAlphabetsFilter(), PROSE, "12 34 56 78 ab"),
    (h.PunctuationFilter(), PROSE, "no end mark\nnone here\nor here"),
    (h.EllipsisFilter(), PROSE, "and then...\nwhat next…\nread more"),
    (h.BoilerPlateStringFilter(), PROSE, "Read our privacy policy.\n\nTerms of use apply."),
    (h.BoilerPlateStringFilter(), PROSE, PROSE + "\n\nLorem ipsum dolor sit amet."),
    (h.TokenCountFilter(Chars(), min_tokens=5, max_tokens=10), "abcdefg", "abc"),
    (h.SubstringFilter("history", position="any"), PROSE, "no such word"),
    (h.SubstringFilter("The", position="prefix"), PROSE, "the lower case start"),
    (h.SubstringFilter("heritage.", position="suffix"), PROSE, PROSE + " More."),
    (r.RepeatedLinesFilter(), "a\nb\nc", "same\nsame\nsame\nother"),
    (r.RepeatedParagraphsFilter(), "a\n\nb\n\nc", "same\n\nsame\n\nsame\n\nother"),
    (r.RepeatedLinesByCharFilter(), "a long line\nshort", "a long line\na long line\nshort"),
    (r.RepeatedParagraphsByCharFilter(), "one para\n\nanother", "one para\n\none para\n\nx"),
    (r.RepeatingTopNGramsFilter(n=2), PROSE, "buy now buy now buy now today"),
    (r.RepeatingTopNGramsFilter(n=3, max_repeating_ngram_ratio=0.18), PROSE, "a b c a b c a b c d"),
    (
        r.RepeatingDuplicateNGramsFilter(n=5, max_repeating_duplicate_ngram_ratio=0.15),
        PROSE,
        " ".join(["a b c d e"] * 3),
    ),
]


@pytest.mark.parametrize(("f", "good", "bad"), CASES, ids=lambda v: getattr(v, "name", None))
def test_crafted_texts(f: Any, good: str, bad: str) -> None:
    assert f.keep_document(f.score_document(good)) is True, f.score_document(good)
    assert f.keep_document(f.score_document(bad)) is False, f.score_document(bad)
    scores = f.score_batch(pd.Series([good, bad]))
    assert f.keep_batch(scores).tolist() == [True, False]


def test_empty_documents_are_dropped_by_ratio_filters() -> None:
    for f in (h.NonAlphaNumericFilter(), h.NumbersFilter(), h.UrlsFilter(), h.WhiteSpaceFilter(), h.WordCountFilter()):
        assert not f.keep_batch(f.score_batch(pd.Series([""]))).iloc[0], f.name


def test_word_count_says_why() -> None:
    f = h.WordCountFilter(min_words=2, max_words=3)
    # NeMo's contract: keep_document is a bool (a truthy (False, reason) tuple would keep the document in
    # ``if f.keep_document(score):``); the reason is reject_reason's.
    assert f.keep_document(1) is False
    assert f.keep_document(2) is True
    assert f.reject_reason(9) == "too_long"
    assert f.verdict(1) == (False, "too_short")
    assert f.verdict(9) == (False, "too_long")
    assert f.reason_batch(pd.Series([1, 9])).tolist() == ["too_short", "too_long"]


def test_ngram_filter_names_carry_n() -> None:
    assert r.RepeatingTopNGramsFilter(n=3).name == "repeating_top_3grams"
    assert r.RepeatingDuplicateNGramsFilter(n=7).name == "repeating_dup_7gram"


def test_substring_position_is_checked() -> None:
    with pytest.raises(ConfigError):
        h.SubstringFilter("x", position="middle")


ALL = [
    h.WordCountFilter(),
    h.NonAlphaNumericFilter(),
    h.SymbolsToWordsFilter(),
    h.NumbersFilter(),
    h.UrlsFilter(),
    h.BulletsFilter(),
    h.WhiteSpaceFilter(),
    h.ParenthesesFilter(),
    h.LongWordFilter(),
    h.MeanWordLengthFilter(),
    h.CommonEnglishWordsFilter(),
    h.WordsWithoutAlphabetsFilter(),
    h.PunctuationFilter(),
    h.EllipsisFilter(),
    h.BoilerPlateStringFilter(),
    h.SubstringFilter("the"),
    r.RepeatedLinesFilter(),
    r.RepeatedParagraphsFilter(),
    r.RepeatedLinesByCharFilter(),
    r.RepeatedParagraphsByCharFilter(),
    *(r.RepeatingTopNGramsFilter(n, ratio) for n, ratio in ((2, 0.2), (3, 0.18), (4, 0.16))),
    *(
        r.RepeatingDuplicateNGramsFilter(n, ratio)
        for n, ratio in zip(range(5, 11), (0.15, 0.14, 0.13, 0.12, 0.11, 0.1), strict=True)
    ),
]


@pytest.mark.parametrize("f", ALL, ids=lambda f: f.name)
def test_batch_equals_per_item_on_real_text(f: Any, real_texts: pd.Series) -> None:
    for texts in (real_texts, real_texts.astype("string[pyarrow]")):
        batch = f.score_batch(texts)
        items = [f.score_document(t) for t in real_texts]
        assert batch.tolist() == pytest.approx(items), f.name
        keep = f.keep_batch(batch).tolist()
        assert keep == [f.keep_document(s) is True for s in items]


def test_a_nemo_heuristic_chain_over_real_t0_passages(real_texts: pd.Series) -> None:
    ds = DocumentDataset.from_pandas(pd.DataFrame({"text": real_texts}), npartitions=4)
    out = Sequential([ScoreFilter(f, score_field=f.name) for f in ALL if not isinstance(f, h.SubstringFilter)])(ds)
    assert isinstance(out, FilteredDataset)
    kept, report = out.compute_with_report()
    assert report.total == len(real_texts)
    # Seed instructions are short: word_count (min 50) drops most of them; long T0 passages survive.
    assert report.step("word_count").dropped > len(real_texts) // 3
    assert "word_count:too_short" in report.reasons
    assert 0 < report.kept < report.total
    assert len(kept) == report.kept
    assert (kept["word_count"] >= 50).all()
    assert (kept["alpha_numeric"] <= 0.25).all()
