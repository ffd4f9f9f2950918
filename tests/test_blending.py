"""Blending on real shipped data: ratios met exactly, category ratios, cross-source dedup with priority,
provenance, shortfalls, determinism, validation; the ``blend`` stage in recipes, with resume."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pandas as pd
import pytest

from curator_synth.blending import BlendShortfallError, blend
from curator_synth.dedup import normalize_text
from curator_synth.errors import ConfigError
from curator_synth.pipeline import SyntheticDataPipeline, load_config

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "curator_synth" / "data" / "self_instruct"
RECIPE = ROOT / "prompt_templates" / "recipes" / "blend.yaml"


def read(name: str) -> pd.DataFrame:
    return pd.read_json(DATA / name, lines=True)


@pytest.fixture(scope="module")
def davinci003() -> pd.DataFrame:
    """252 real answers of text-davinci-003 (no id column: a row's id is its position)."""
    return read("predictions_text-davinci-003.jsonl")


@pytest.fixture(scope="module")
def self_instruct_model() -> pd.DataFrame:
    """The same 252 instructions answered by davinci tuned on Self-Instruct data: every instruction repeats."""
    return read("predictions_davinci-self-instruct.jsonl")


@pytest.fixture(scope="module")
def seed_tasks() -> pd.DataFrame:
    """The 175 seed tasks, with ids (``seed_task_0`` ...) and their first instance as input/response."""
    seeds = read("seed_tasks.jsonl")
    seeds["input"] = [instances[0]["input"] for instances in seeds["instances"]]
    seeds["response"] = [instances[0]["output"] for instances in seeds["instances"]]
    return seeds.drop(columns=["instances"])


def has_input(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(kind=["with_input" if text.strip() else "no_input" for text in frame["input"]])


def test_ratios_are_met_exactly_on_real_data(davinci003: pd.DataFrame, seed_tasks: pd.DataFrame) -> None:
    result = blend(
        {"authentic": davinci003, "synthetic": seed_tasks}, ratios={"authentic": 0.7, "synthetic": 0.3}, total=200
    )
    assert len(result) == 200
    assert result.frame["blend_source"].value_counts().to_dict() == {"authentic": 140, "synthetic": 60}
    report = result.report
    assert report.achieved_ratios == {"authentic": 0.7, "synthetic": 0.3}
    assert {name: (c.requested, c.achieved) for name, c in report.sources.items()} == {
        "authentic": (140, 140),
        "synthetic": (60, 60),
    }
    assert report.shortfalls == ()
    assert not report.shrunk
    assert report.rejections() == {"over_quota": (252 - 140) + (175 - 60)}
    assert "authentic   252           0        252        140       140  0.700" in str(report)
    # Unnormalised weights mean the same: 7:3.
    same = blend({"authentic": davinci003, "synthetic": seed_tasks}, ratios={"authentic": 7, "synthetic": 3}, total=200)
    pd.testing.assert_frame_equal(same.frame, result.frame)


def test_category_ratios_split_every_source_alike(davinci003: pd.DataFrame, seed_tasks: pd.DataFrame) -> None:
    sources = {"authentic": has_input(davinci003), "synthetic": has_input(seed_tasks)}
    result = blend(
        sources,
        ratios={"authentic": 3, "synthetic": 1},
        category_field="kind",
        category_ratios={"with_input": 0.5, "no_input": 0.5},
        total=80,
    )
    cells = result.frame.groupby(["blend_source", "kind"]).size().to_dict()
    assert cells == {
        ("authentic", "no_input"): 30,
        ("authentic", "with_input"): 30,
        ("synthetic", "no_input"): 10,
        ("synthetic", "with_input"): 10,
    }
    assert result.report.categories() == {
        "with_input": {"requested": 40, "achieved": 40},
        "no_input": {"requested": 40, "achieved": 40},
    }
    # A category left out of category_ratios is counted, not silently mixed in.
    only = blend(
        sources, ratios={"authentic": 3, "synthetic": 1}, category_field="kind", category_ratios={"no_input": 1}
    )
    assert set(only.frame["kind"]) == {"no_input"}
    not_requested = {name: c.category_not_requested for name, c in only.report.sources.items()}
    assert not_requested == {"authentic": int((sources["authentic"]["kind"] == "with_input").sum()), "synthetic": 125}


def test_cross_source_duplicates_are_removed_by_priority(
    davinci003: pd.DataFrame, self_instruct_model: pd.DataFrame
) -> None:
    sources = {"authentic": davinci003, "synthetic": self_instruct_model}
    result = blend(sources, ratios={"authentic": 0.7, "synthetic": 0.3}, total=200)
    frame = result.frame
    texts = {name: set(normalize_text(part["instruction"])) for name, part in frame.groupby("blend_source")}
    assert not texts["authentic"] & texts["synthetic"]  # no instruction from both sources
    assert frame["blend_source"].value_counts().to_dict() == {"authentic": 140, "synthetic": 60}
    removed = result.report.sources["synthetic"].duplicates_removed
    assert removed >= 139
    assert result.report.duplicates_kept_by == {"synthetic": {"authentic": removed}}
    assert set(result.duplicates["kept_source"]) == {"authentic"}
    kept_ids = {json.loads(p)["blend"]["row_id"] for p in frame.loc[frame["blend_source"] == "authentic", "provenance"]}
    assert set(result.duplicates["kept_row_id"]) <= kept_ids  # every removed duplicate's text is in the blend
    # The other priority: the synthetic rows keep the shared instructions.
    flipped = blend(sources, ratios={"authentic": 0.7, "synthetic": 0.3}, total=200, priority=["synthetic"])
    assert flipped.report.duplicates_kept_by.keys() == {"authentic"}
    assert flipped.report.priority == ("synthetic", "authentic")
    # Without dedup every instruction may come twice.
    assert blend(sources, ratios={"authentic": 0.7, "synthetic": 0.3}, total=200, dedup=None).report.rejections() == {
        "over_quota": 504 - 200
    }


def test_fuzzy_dedup_catches_near_duplicates_across_sources(davinci003: pd.DataFrame) -> None:
    authentic = davinci003.head(60).assign(instruction=lambda f: f["instruction"].str.strip())
    edited = authentic.assign(instruction=authentic["instruction"] + " Please answer briefly.")
    sources = {"authentic": authentic, "edited": edited}
    ratios = {"authentic": 1, "edited": 0}  # every authentic row is taken; the edited rows only get compared
    assert "cross_source_duplicate" not in blend(sources, ratios=ratios, dedup="exact").report.rejections()
    fuzzy = blend(sources, ratios=ratios, dedup="fuzzy")
    removed = fuzzy.duplicates["row_id"].tolist()
    assert fuzzy.duplicates["kept_row_id"].tolist() == removed  # each edited row matched its own original
    lengths = authentic["instruction"].str.len()
    assert set(lengths.index[lengths >= 250]) <= set(removed)  # Jaccard >= 0.9: found
    assert not set(lengths.index[lengths < 55]) & set(removed)  # Jaccard < 0.7: left alone
    assert fuzzy.report.duplicates_kept_by == {"edited": {"authentic": len(removed)}}


def test_provenance_keeps_source_and_original_id(davinci003: pd.DataFrame, seed_tasks: pd.DataFrame) -> None:
    tagged = seed_tasks.assign(provenance=[json.dumps({"origin": "self-instruct"})] * len(seed_tasks))
    result = blend({"authentic": davinci003, "synthetic": tagged}, ratios={"authentic": 1, "synthetic": 1}, total=50)
    for row in result.frame.to_dict("records"):
        provenance = json.loads(row["provenance"])
        source, row_id = provenance["blend"]["source"], provenance["blend"]["row_id"]
        assert source == row["blend_source"]
        if source == "synthetic":  # the seed tasks' own ids, and their provenance kept
            original = seed_tasks.set_index("id").loc[row_id]
            assert provenance["origin"] == "self-instruct"
        else:  # no id column: the position in the source
            original = davinci003.iloc[row_id]
        assert (original["instruction"], original["response"]) == (row["instruction"], row["response"])
    # Ordered by priority, then by position in the source.
    assert result.frame["blend_source"].tolist() == ["authentic"] * 25 + ["synthetic"] * 25


def test_shortfall_shrinks_the_total_or_raises(
    davinci003: pd.DataFrame, self_instruct_model: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    sources = {"authentic": davinci003, "synthetic": self_instruct_model}
    with caplog.at_level(logging.WARNING, logger="curator_synth.blending.core"):
        result = blend(sources, ratios={"authentic": 0.7, "synthetic": 0.3}, total=400)
    report = result.report
    assert report.shrunk
    assert report.requested_total == 400
    assert report.total == len(result) < 400
    # At 400, authentic has too few rows, and all of synthetic's instructions are among the authentic ones.
    assert [(s.source, s.category, s.requested, s.available) for s in report.shortfalls] == [
        ("authentic", None, 280, 252),
        ("synthetic", None, 120, 0),
    ]
    assert report.total == 251  # each of the 251 distinct instructions once, 176 + 75
    assert abs(report.achieved_ratios["authentic"] - 0.7) < 0.01  # the ratios still hold
    assert (report.sources["authentic"].requested, report.sources["synthetic"].requested) == (280, 120)
    assert "total shrunk" in caplog.text
    with pytest.raises(
        BlendShortfallError, match=r"total of 400 cannot be met.*'authentic': 280 requested, 252"
    ) as error:
        blend(sources, ratios={"authentic": 0.7, "synthetic": 0.3}, total=400, on_shortfall="error")
    assert isinstance(error.value, ConfigError)
    assert error.value.largest_total == report.total
    # total=None: as many rows as the ratios allow, nothing reported missing.
    largest = blend(sources, ratios={"authentic": 0.7, "synthetic": 0.3})
    assert len(largest) == report.total
    assert largest.report.shortfalls == ()


def test_the_same_seed_gives_the_same_blend(davinci003: pd.DataFrame, seed_tasks: pd.DataFrame) -> None:
    def ids(frame_a: pd.DataFrame, seed: int) -> list[object]:
        result = blend({"a": frame_a, "b": seed_tasks}, ratios={"a": 1, "b": 1}, total=60, seed=seed)
        return [json.loads(p)["blend"]["row_id"] for p in result.frame["provenance"]]

    keyed = davinci003.assign(id=[f"row-{i}" for i in range(len(davinci003))])
    assert ids(keyed, 0) == ids(keyed, 0)
    assert ids(keyed, 0) != ids(keyed, 1)
    shuffled = keyed.sample(frac=1.0, random_state=3)  # a row's draw depends on its id, not on its place
    assert sorted(map(str, ids(shuffled, 0))) == sorted(map(str, ids(keyed, 0)))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"ratios": {"authentic": -1, "synthetic": 1}}, r"ratios\['authentic'\]: a ratio is a finite number >= 0"),
        ({"ratios": {"authentic": float("nan"), "synthetic": 1}}, r"ratios\['authentic'\]"),
        ({"ratios": {"authentic": 1, "synthtic": 1}}, r"unknown name\(s\) \['synthtic'\]; the valid ones are"),
        ({"ratios": {"authentic": 0, "synthetic": 0}}, r"ratios: the ratios sum to 0"),
        ({"ratios": {"authentic": 1}}, r"ratios: no ratio for \['synthetic'\]"),
        ({"category_field": "kind", "category_ratios": {"with_imput": 1}}, r"category_ratios: unknown.*'with_input'"),
        ({"category_ratios": {"with_input": 1}}, r"category_ratios: set category_field"),
        ({"priority": ["authentic", "other"]}, r"priority: .* among \['authentic', 'synthetic'\]"),
        ({"total": 0}, r"total: a positive number"),
        ({"dedup": "semantic"}, r"dedup: one of \['exact', 'fuzzy'\]"),
        ({"field": "text"}, r"source 'authentic' has no column\(s\) \['text'\]"),
    ],
)
def test_bad_arguments_are_config_errors_naming_the_key(
    davinci003: pd.DataFrame, seed_tasks: pd.DataFrame, arguments: dict[str, object], message: str
) -> None:
    options: dict[str, object] = {"ratios": {"authentic": 1, "synthetic": 1}, **arguments}
    with pytest.raises(ConfigError, match=message):
        blend({"authentic": has_input(davinci003), "synthetic": has_input(seed_tasks)}, **options)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------- stage
@pytest.fixture
def no_embeddings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The report without the MiniLM metrics (they are tested elsewhere): keeps these runs fast."""
    monkeypatch.setattr("curator_synth.pipeline.summary._embeddings", lambda texts, ctx: None)


def manifests(out: Path) -> dict[str, int]:
    return {p.parent.name: p.stat().st_mtime_ns for p in out.glob("stages/*/manifest.json")}


@pytest.mark.usefixtures("no_embeddings")
def test_shipped_blend_recipe_runs_offline_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = SyntheticDataPipeline(None, RECIPE).run(output_dir=out)
    frame = result.dataset.to_pandas()
    assert len(frame) == 200
    assert frame["blend_source"].value_counts().to_dict() == {"authentic": 140, "synthetic": 60}
    assert frame["id"].is_unique
    assert "reward_overall" in frame.columns
    blend_stage = result.stages[0]
    assert blend_stage["rejections"]["blend"]["cross_source_duplicate"] >= 139
    report = json.loads((out / "stages" / "00-blend" / "blend_report.json").read_text())
    assert report["achieved_ratios"] == {"authentic": 0.7, "synthetic": 0.3}
    stats = json.loads((out / "report" / "stats.json").read_text())
    # the blend's drops are not a filter's rejections: the report lists them with the other stages' drops
    assert stats["drops"]["other"]["blend"] == blend_stage["rejections"]["blend"]
    assert "blend" not in stats["rejections"]
    assert stats["bias"]["seeds"] == 175
    assert len(stats["bias"]["top_terms"]) <= 15
    first = manifests(out)
    again = SyntheticDataPipeline(None, RECIPE).run(output_dir=out)
    assert manifests(out) == first  # resumed: nothing ran again
    pd.testing.assert_frame_equal(again.dataset.to_pandas(), frame)


@pytest.mark.usefixtures("no_embeddings")
def test_blend_stage_takes_the_previous_records_and_reruns_when_a_source_changes(tmp_path: Path) -> None:
    shutil.copy(DATA / "predictions_text-davinci-003.jsonl", tmp_path / "authentic.jsonl")
    shutil.copy(DATA / "predictions_davinci.jsonl", tmp_path / "generated.jsonl")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "name: blend_input\n"
        "dask: {cluster: threads}\n"
        "stages:\n"
        "  - {stage: load, path: generated.jsonl, columns: [instruction, input, response]}\n"
        "  - stage: blend\n"
        "    input_source: synthetic\n"
        "    sources: {authentic: {path: authentic.jsonl, columns: [instruction, input, response], limit: 200}}\n"
        "    ratios: {authentic: 1, synthetic: 1}\n"
        "    total: 100\n"
        "report: {enabled: false}\n"
    )
    out = tmp_path / "run"
    frame = SyntheticDataPipeline(None, recipe).run(output_dir=out).dataset.to_pandas()
    assert frame["blend_source"].value_counts().to_dict() == {"authentic": 50, "synthetic": 50}
    assert set(frame.loc[frame["blend_source"] == "synthetic", "source"]) == {""}  # loaded rows keep theirs
    assert set(frame.loc[frame["blend_source"] == "authentic", "source"]) == {"authentic"}
    first = manifests(out)
    SyntheticDataPipeline(None, recipe).run(output_dir=out)
    assert manifests(out) == first
    with open(tmp_path / "authentic.jsonl", "a") as file:  # an edited source file is blended again
        file.write(json.dumps({"instruction": "One more instruction.", "input": "", "response": "Yes."}) + "\n")
    SyntheticDataPipeline(None, recipe).run(output_dir=out)
    changed = manifests(out)
    assert changed["00-load"] == first["00-load"]
    assert changed["01-blend"] != first["01-blend"]


def test_blend_recipe_mistakes_are_reported_with_the_key(tmp_path: Path) -> None:
    recipe = tmp_path / "bad.yaml"
    recipe.write_text(
        "name: bad\n"
        "stages:\n"
        "  - stage: blend\n"
        "    sources: {authentic: {path: a.jsonl}, synthetic: {path: b.jsonl}}\n"
        "    ratios: {authentic: 0.7, synthtic: 0.3}\n"
    )
    with pytest.raises(
        ConfigError, match=r"bad.yaml:5: stages\[0\].ratios: .*'synthtic'.*\['authentic', 'synthetic'\]"
    ):
        load_config(recipe)
    recipe.write_text("name: bad\nstages:\n  - {stage: blend, ratios: {a: 1}}\n")
    with pytest.raises(ConfigError, match=r"give `sources:`"):
        load_config(recipe)
    blend_a = "{stage: blend, sources: {a: {path: a.jsonl}}, ratios: {a: 1}}"
    recipe.write_text(f"name: bad\nstages:\n  - {{stage: load, path: a.jsonl}}\n  - {blend_a}\n")
    (tmp_path / "a.jsonl").write_text(json.dumps({"instruction": "Hi."}) + "\n")
    with pytest.raises(ConfigError, match=r"name them with `input_source:`"):
        SyntheticDataPipeline(None, recipe).run(output_dir=tmp_path / "run")
