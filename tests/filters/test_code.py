"""Filters for source code: comment ratios (Python and by MIME type), line counts, XML headers, letters,
tokenizer fertility, per-extension rules from a table, and HTML that is mostly markup."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from curator_synth.dataset import DocumentDataset
from curator_synth.errors import ConfigError
from curator_synth.filters import (
    FILTERS,
    AlphaFilter,
    GeneralCommentToCodeFilter,
    HTMLBoilerplateFilter,
    NumberOfLinesOfCodeFilter,
    PerExtensionFilter,
    PythonCommentToCodeFilter,
    ScoreFilter,
    TokenizerFertilityFilter,
    XMLHeaderFilter,
)
from curator_synth.filters.code_comments import comments
from curator_synth.filters.html import visible_text


def kept(filter_obj: object, texts: list[str]) -> list[str]:
    dataset = DocumentDataset.from_pandas(pd.DataFrame({"text": texts}), npartitions=2)
    return ScoreFilter(filter_obj)(dataset).df.compute()["text"].tolist()  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------- comments
def test_comments_leave_out_markers_and_strings() -> None:
    source = 'int a = 1; // one\nchar *s = "// not a comment /* either */";\n/* two\nlines */ int b;'
    assert comments(source, "text/x-c") == [" one", " two\nlines "]
    assert comments("x = '#no'  # yes\n", "text/x-python") == [" yes"]
    assert comments("<p>a</p><!-- hidden -->", "text/html") == [" hidden "]


def test_an_unclosed_block_comment_scores_nan_and_is_dropped_as_unparseable() -> None:
    f = GeneralCommentToCodeFilter("text/x-java-source")
    score = f.score_document("int a; /* never closed")
    assert math.isnan(score)
    assert f.verdict(score) == (False, "unparseable")


def test_an_unknown_mime_type_is_a_config_error_naming_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="text/x-c\\+\\+"):
        GeneralCommentToCodeFilter("text/x-cobol")


def test_general_comment_ratio_keeps_commented_code_only() -> None:
    texts = [
        "// add one\nint f(int x) { return x + 1; }",
        "int f(int x) { return x + 1; }",
        "// nothing but one long comment line",
        "/*\n * Sums.\n */\nint g(int a, int b) { return a + b; }",
    ]
    assert kept(GeneralCommentToCodeFilter("text/x-c++"), texts) == [texts[0], texts[3]]


def test_python_comment_ratio_counts_comments_and_docstrings() -> None:
    texts = [
        "# greet\nprint('hello')",
        "print('hello')",
        "# all\n# comment",
        '"""Module doc."""\nimport os\n',
        "def broken(:\n    pass",
    ]
    f = PythonCommentToCodeFilter()
    assert kept(f, texts) == [texts[0], texts[3]]
    assert math.isnan(f.score_document(texts[4]))
    assert f.score_document("") == 0.0


# ---------------------------------------------------------------------------------------- the others
def test_number_of_lines() -> None:
    texts = ["one line", "two\nlines", "three\nlines\nhere", "4\n\n\n"]
    assert kept(NumberOfLinesOfCodeFilter(min_lines=2, max_lines=3), texts) == texts[1:3]


def test_xml_header_only_near_the_start() -> None:
    late = " " * 100 + "<?xml version="
    texts = ["plain code", '<?xml version="1.0"?><a/>', late]
    assert kept(XMLHeaderFilter(), texts) == [texts[0], late]


def test_alpha_share() -> None:
    assert kept(AlphaFilter(), ["letters here", "0.1, 0.2, 0.3, 0.4", "ab 12", ""]) == ["letters here", "ab 12"]


class SplitTokenizer:
    def encode(self, text: str) -> list[str]:
        return text.split()


def test_tokenizer_fertility_is_characters_per_token() -> None:
    f = TokenizerFertilityFilter(SplitTokenizer(), min_char_to_token_ratio=3)
    assert f.score_document("abcd efgh") == 4.5
    assert kept(f, ["abcd efgh", "a b c d", ""]) == ["abcd efgh"]
    with pytest.raises(TypeError, match="encode"):
        TokenizerFertilityFilter(object())


PAGE = """<!DOCTYPE html>
<html>
  <head><title>A page</title><style>p { color: red; }</style></head>
  <body>
    <p>This paragraph has enough words in it to be read as real content by anyone who visits the page.</p>
    <script>var tracking = "a long script that a reader never sees on the page at all";</script>
  </body>
</html>"""


def test_visible_text_leaves_out_scripts_styles_and_indentation() -> None:
    text = visible_text(PAGE)
    assert "tracking" not in text
    assert "color" not in text
    paragraph = "This paragraph has enough words in it to be read as real content by anyone who visits the page."
    assert text == f"\n\nA page\n\n{paragraph}\n\n\n"
    assert visible_text("<pre>  keep\n  this</pre>") == "  keep\n  this"


def test_html_boilerplate() -> None:
    markup = "<div>" + "<span><b></b></span>" * 40 + "<p>Some text that is short.</p>" * 4 + "</div>"
    assert HTMLBoilerplateFilter(min_lang_content_ratio=0.2).score_document(PAGE) > 0.2
    assert kept(HTMLBoilerplateFilter(), [PAGE, markup, "<p>hi</p>"]) == [PAGE]


# ------------------------------------------------------------------------------------- per extension
TABLE = """language,extension,Include,Long_line_threshold,Alphanum_threshold,Alpha filter,notes
python,py,1,100,0.25,,
python,pyx,0,,,,
c++,cpp,1,50,,0.5,
"""


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "rules.csv"
    path.write_text(TABLE)
    return path


def test_per_extension_rules(table: Path) -> None:
    cpp = PerExtensionFilter("C++", "cpp", metadata_file=table)
    assert cpp.rules.max_line_length == 50
    assert cpp.rules.max_mean_line_length == 100
    assert cpp.score_document("{ return 0; }") == 0  # not half letters
    assert kept(cpp, ["int main while return", "x" * 60, "1, 2, 3, x"]) == ["int main while return"]
    assert PerExtensionFilter("python", "pyx", metadata_file=table).score_document("print(1)") == 0  # not included
    assert PerExtensionFilter._line_statistics("abc\n") == (3, 1.5)


def test_per_extension_refuses_what_the_table_does_not_know(table: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no rules for the language 'rust'"):
        PerExtensionFilter("rust", "rs", metadata_file=table)
    with pytest.raises(ConfigError, match="extension 'pyi'"):
        PerExtensionFilter("python", "pyi", metadata_file=table)
    with pytest.raises(ConfigError, match="no per-extension table"):
        PerExtensionFilter("python", "py", metadata_file=tmp_path / "missing.csv")
    (tmp_path / "bad.csv").write_text("language,extension\npython,py\n")
    with pytest.raises(ConfigError, match="lacks the columns"):
        PerExtensionFilter("python", "py", metadata_file=tmp_path / "bad.csv")


def test_the_code_filters_are_registered_by_name() -> None:
    for name in ("python_comment_ratio", "comment_ratio", "num_lines", "xml_header", "alpha_filter",
                 "html_boilerplate", "per_extension_filter", "tokenizer_fertility", "length_ratio"):  # fmt: skip
        assert name in FILTERS
