"""The bias and representation summary: known counts on a hand-made frame (word boundaries, case, multi-word
terms), comparison with seeds, balance, categories; the same counts as a regex on real data; the report's
section and stats.json key; term lists from a recipe."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest
from data_paths import SELF_INSTRUCT

from curator_synth.errors import ConfigError
from curator_synth.pipeline import SyntheticDataPipeline
from curator_synth.report import ReportData, write_report
from curator_synth.report.bias import bias_summary, normalised_entropy
from curator_synth.report.terms import TermMatcher, default_terms, load_terms, normalise_terms

TERMS = {
    "gender": {"male": ["he", "his", "man"], "female": ["she", "her", "woman"]},
    "age": ["old people", "elderly", "non-binary"],  # a list: each term its own label
}


@pytest.fixture
def records() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "instruction": [
                "Tell the story of a man and HIS dog.",  # male (twice in one record: counted once)
                "She shed the theme; then she left.",  # female; "he" is not in "shed", "the", "then"
                "Describe the weather in other words.",  # nothing: the/other/weather hide "he" and "her"
                "Where do old\npeople live? He's unsure.",  # "old people" across a newline; "He's" -> he
                None,  # missing text: no mention
            ],
            "response": ["He walked home.", "her HER her", "There, the end.", "Non-binary and elderly folks.", "x"],
            "topic": ["story", "story", "weather", "society", "story"],
        }
    )


def test_known_counts_with_word_boundaries(records: pd.DataFrame) -> None:
    summary = bias_summary(records, terms=TERMS)
    assert summary.records == 5
    assert summary.fields == ("instruction", "response")
    counts = {(t.group, t.term): t.counts for t in summary.terms}
    assert counts == {
        ("gender", "male"): {"instruction": 2, "response": 1},
        ("gender", "female"): {"instruction": 1, "response": 1},
        ("age", "old people"): {"instruction": 1, "response": 0},
        ("age", "elderly"): {"instruction": 0, "response": 1},
        ("age", "non-binary"): {"instruction": 0, "response": 1},  # "Non-binary": two words in a row
    }
    assert summary.term("gender", "male").shares == {"instruction": 0.4, "response": 0.2}
    assert summary.seeds is None
    assert summary.term("gender", "male").ratio is None


def test_multi_word_terms_match_across_punctuation_and_spacing() -> None:
    terms = {"g": {"nb": ["non-binary"], "old": ["old  People"]}}
    frame = pd.DataFrame(
        {"instruction": ["non-binary", "Non binary", "NON–BINARY", "nonbinary", "old-people", "bold people"]}
    )
    summary = bias_summary(frame, terms=terms, fields=("instruction",))
    assert summary.term("g", "nb").counts == {"instruction": 3}  # hyphen, space, en dash; not the one word
    assert summary.term("g", "old").counts == {"instruction": 1}  # "bold people" is not "old people"


def test_comparison_with_seeds_and_balance(records: pd.DataFrame) -> None:
    seeds = ["He is here.", "The other one.", "Her name is Ann.", "A woman and a man.", "Nothing here."]
    summary = bias_summary(records, seeds, terms=TERMS)
    male, female = summary.term("gender", "male"), summary.term("gender", "female")
    assert (male.seed_count, male.seed_share) == (2, 0.4)  # "He is here.", "a man"
    assert (female.seed_count, female.seed_share) == (2, 0.4)
    assert summary.compare_field == "instruction"
    assert male.ratio == pytest.approx(1.0)  # 0.4 of the instructions vs 0.4 of the seeds
    assert female.ratio == pytest.approx(0.5)
    assert female.difference == pytest.approx(-0.2)
    gender = next(g for g in summary.groups if g.group == "gender")
    assert gender.mentions == {"instruction": 3, "response": 2}
    assert gender.max_min_ratio == {"instruction": 2.0, "response": 1.0}  # he vs she: 2 to 1, then even
    assert gender.entropy["response"] == pytest.approx(1.0)
    assert gender.entropy["instruction"] == pytest.approx(
        -(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3)) / math.log(2)
    )
    assert (gender.seed_mentions, gender.seed_entropy, gender.seed_max_min_ratio) == (3, 1.0, 1.0)
    age = next(g for g in summary.groups if g.group == "age")
    assert age.absent == {"instruction": ["elderly", "non-binary"], "response": ["old people"]}
    assert age.max_min_ratio == {"instruction": None, "response": None}
    assert normalised_entropy([0, 0]) is None
    assert normalised_entropy([5, 0, 0]) == 0.0


def test_categories_against_seed_categories_or_clusters(records: pd.DataFrame) -> None:
    summary = bias_summary(
        records, terms=TERMS, category_field="topic", seed_categories=["story", "weather", "weather", "sports"]
    )
    categories = summary.categories
    assert categories is not None
    assert categories.source == "topic"
    assert categories.counts == {"story": 3, "weather": 1, "society": 1, "sports": 0}
    assert categories.shares["story"] == 0.6
    assert categories.seed_shares == {"story": 0.25, "weather": 0.5, "society": 0.0, "sports": 0.25}
    clusters = bias_summary(records, terms=TERMS, cluster_sizes={"0": 3, "1": 1}).categories
    assert clusters is not None
    assert (clusters.source, clusters.shares, clusters.seed_shares) == ("clusters", {"0": 0.75, "1": 0.25}, None)
    assert bias_summary(records, terms=TERMS).categories is None


def test_counts_equal_a_word_boundary_regex_on_real_data() -> None:
    """The vectorised matcher and ``(?<!\\w)term(?!\\w)`` (words joined by ``\\W+``, ignoring case) agree."""
    frame = pd.read_json(SELF_INSTRUCT / "predictions_text-davinci-003.jsonl", lines=True)
    terms = default_terms()
    summary = bias_summary(frame, terms=TermMatcher(terms))
    assert sum(sum(t.counts.values()) for t in summary.terms) > 10
    for group, labels in terms.items():
        for label, phrases in labels.items():
            words = "|".join(r"\W+".join(map(re.escape, phrase.split(" "))) for phrase in phrases)
            pattern = re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.IGNORECASE)
            for field in ("instruction", "response"):
                expected = sum(bool(pattern.search(text)) for text in frame[field].fillna(""))
                assert summary.term(group, label).counts[field] == expected, (group, label, field)


def test_term_lists_are_validated() -> None:
    assert normalise_terms({"g": ["He", "Old  People"]}) == {"g": {"He": ("he",), "Old  People": ("old people",)}}
    with pytest.raises(ConfigError, match=r"terms: group 'g' needs a list of terms"):
        normalise_terms({"g": 3})
    with pytest.raises(ConfigError, match=r"terms: g.x: expected a term or a non-empty list"):
        normalise_terms({"g": {"x": []}})
    with pytest.raises(ConfigError, match=r"g.x: a term without any letter or digit"):
        normalise_terms({"g": {"x": ["--"]}})
    with pytest.raises(ConfigError, match=r"cannot read bias terms"):
        load_terms("/nonexistent/terms.yaml")
    defaults = default_terms()
    assert {"gender", "religion", "nationality", "age", "disability", "race_ethnicity"} <= set(defaults)
    assert "he" in defaults["gender"]["male"]


def test_the_report_has_the_section_the_chart_and_the_stats_key(records: pd.DataFrame, tmp_path: Path) -> None:
    data = ReportData(title="bias")
    data.add_stage("load", 0, 5, 0.1)
    data.set_bias(bias_summary(records, ["He is here.", "A woman."], terms=TERMS, category_field="topic"), top_n=3)
    page = write_report(data, tmp_path / "report")
    html = page.read_text()
    assert "<h2>Bias and representation</h2>" in html
    assert "screening signal, not a fairness audit" in html
    assert "Distribution of topic" in html
    stats = json.loads((tmp_path / "report" / "stats.json").read_text())
    bias = stats["bias"]
    assert bias["top_terms"] == [["gender", "male"], ["gender", "female"], ["age", "old people"]]
    assert {t["term"]: t["counts"] for t in bias["terms"]}["male"] == {"instruction": 2, "response": 1}
    assert bias["categories"]["counts"] == {"story": 3, "weather": 1, "society": 1}
    assert "plots/bias_terms.png" in stats["plots"]
    empty = ReportData()
    assert json.loads((write_report(empty, tmp_path / "empty").parent / "stats.json").read_text())["bias"] == {}
    assert "Bias and representation" not in (tmp_path / "empty" / "report.html").read_text()


@pytest.fixture
def no_embeddings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("curator_synth.pipeline.summary._embeddings", lambda texts, ctx: None)


@pytest.mark.usefixtures("no_embeddings")
def test_custom_terms_and_category_from_a_recipe(tmp_path: Path) -> None:
    (tmp_path / "data.jsonl").write_text(
        "".join(
            json.dumps({"instruction": text, "response": answer, "category": category}) + "\n"
            for text, answer, category in [
                ("Plan a trip for my grandma.", "Ask grandma first.", "travel"),
                ("Write to my grandpa.", "Dear grandpa,", "letters"),
                ("Write to my grandma.", "Dear grandma,", "letters"),
            ]
        )
    )
    (tmp_path / "seeds.jsonl").write_text(
        json.dumps({"instruction": "Call grandpa.", "category": "letters"})
        + "\n"
        + json.dumps({"instruction": "Visit Rome.", "category": "travel"})
        + "\n"
    )
    (tmp_path / "terms.yaml").write_text("family:\n  grandmother: [grandma]\n  grandfather: [grandpa]\n")
    recipe = {
        "name": "bias_terms",
        "seeds": "seeds.jsonl",
        "dask": {"cluster": "threads"},
        "stages": [{"stage": "load", "path": "data.jsonl"}],
        "report": {"bias": {"terms_file": "terms.yaml", "terms": {"travel": ["trip"]}, "top_n": 2}},
    }
    from curator_synth.pipeline import PipelineConfig

    config = PipelineConfig.from_dict(recipe, base_dir=tmp_path)
    SyntheticDataPipeline(None, config).run(output_dir=tmp_path / "run")
    bias = json.loads((tmp_path / "run" / "report" / "stats.json").read_text())["bias"]
    assert [g["group"] for g in bias["groups"]] == ["family", "travel"]  # the file's groups, plus the inline one
    shares = {t["term"]: (t["counts"]["instruction"], t["seed_count"]) for t in bias["terms"]}
    assert shares == {"grandmother": (2, 0), "grandfather": (1, 1), "trip": (1, 0)}
    assert bias["categories"]["source"] == "category"  # found by name
    assert bias["categories"]["seed_shares"] == {"travel": 0.5, "letters": 0.5}
    assert len(bias["top_terms"]) == 2
    off = {**recipe, "report": {"bias": {"enabled": False}}}
    SyntheticDataPipeline(None, PipelineConfig.from_dict(off, base_dir=tmp_path)).run(output_dir=tmp_path / "off")
    assert json.loads((tmp_path / "off" / "report" / "stats.json").read_text())["bias"] == {}
