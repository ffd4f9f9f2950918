"""The ``topic_prompts`` stage and the Nemotron recipes (open_qa, writing, closed_qa, math, python): each runs
end to end against a FakeLLMServer; options are validated with key paths; generation_prompts.yaml mirrors the
Python templates; closed Q&A also reads its documents from the records of a load stage."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from curator_synth.errors import ConfigError, StageError
from curator_synth.generators.base import template_of
from curator_synth.pipeline import PipelineConfig, SyntheticDataPipeline, load_config
from curator_synth.prompts.library import (
    generation_prompt,
    generation_prompts_path,
    load_generation_prompts,
    python_templates,
    resolve_template,
)
from curator_synth.testing import FakeLLMServer, Plausible
from curator_synth.testing.responders import FakeRequest

os.environ["HF_HUB_OFFLINE"] = "1"
RECIPES = Path(__file__).resolve().parents[2] / "curator_synth" / "prompt_templates" / "recipes"
DOCUMENTS = RECIPES.parents[1] / "data" / "documents" / "wikipedia_passages.jsonl"
KEY_ENV = "TOPIC_RECIPES_FAKE_KEY"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    os.environ[KEY_ENV] = "sk-test"
    with FakeLLMServer(responder=Plausible()) as fake:
        yield fake


def on_server(config: PipelineConfig, server: FakeLLMServer) -> PipelineConfig:
    """The recipe pointed at the simulator, in this process (no LocalCluster), without the HTML report."""
    assert config.client is not None
    client = config.client.model_copy(update={"base_url": server.base_url, "api_key_env": KEY_ENV})
    return config.model_copy(
        update={
            "client": client,
            "dask": config.dask.model_copy(update={"cluster": "threads"}),
            "report": config.report.model_copy(update={"enabled": False}),
        }
    )


def small_recipe(stages: list[dict[str, Any]], server: FakeLLMServer) -> PipelineConfig:
    config = PipelineConfig.from_dict(
        {"name": "topics", "model": "fake", "client": {"base_url": server.base_url}, "stages": stages},
        base_dir=RECIPES,
    )
    return on_server(config, server)


def summaries(out: Path) -> dict[str, dict[str, Any]]:
    manifests = sorted(out.glob("stages/*/manifest.json"))
    return {path.parent.name: json.loads(path.read_text())["summary"] for path in manifests}


# ------------------------------------------------------------------------------------------- the recipes
@pytest.mark.parametrize("name", ["open_qa", "writing", "closed_qa", "math", "python"])
def test_recipe_runs_end_to_end_on_the_simulator(name: str, server: FakeLLMServer, tmp_path: Path) -> None:
    config = on_server(load_config(RECIPES / f"{name}.yaml"), server)
    before = server.stats()["requests"]
    result = SyntheticDataPipeline(None, config).run(output_dir=tmp_path)
    final = result.dataset.to_pandas()
    assert len(final) > 0
    assert final["id"].is_unique
    assert set(final["source"]) == {f"nemotron_{name}"}
    assert final["response"].str.len().gt(0).all()
    assert final["reward_overall"].between(0, 1).all()
    assert server.stats()["requests"] - before < 300  # small by default
    assert all(path.stat().st_size > 0 for path in result.exports.values())
    generated = pd.read_parquet(tmp_path / "stages" / "00-topic_prompts" / "data")
    provenance = [json.loads(text) for text in generated["provenance"]]
    assert {item["pipeline"] for item in provenance} == {name}
    assert generated["topic"].str.len().gt(0).all()
    first = summaries(tmp_path)["00-topic_prompts"]
    assert first["usage"]["requests"] > 0
    if name == "closed_qa":  # each prompt carries its document, so the answer can use it
        documents = [json.loads(line)["text"] for line in DOCUMENTS.read_text().splitlines()]
        assert [documents[item["document_index"]] for item in provenance] == generated["input"].tolist()
    if name == "math":  # the Yes/No classification dropped some topics, and the beginner template was used
        assert first["rejections"]["topic_prompts"]["classification: not in scope"] > 0
        assert {item["template"] for item in provenance} == {"nemotron.math_problem_beginner"}
    if name in ("open_qa", "math", "python"):
        assert all(item["macro_topic"] and item["chain"][0]["stage"] == "macro_topics" for item in provenance)


def test_closed_qa_reads_documents_from_the_records_of_a_load_stage(server: FakeLLMServer, tmp_path: Path) -> None:
    stages = [
        {"stage": "load", "path": str(DOCUMENTS), "limit": 3},
        {"stage": "topic_prompts", "pipeline": "closed_qa", "options": {"n_openlines": 2}},
    ]
    frame = SyntheticDataPipeline(None, small_recipe(stages, server)).run(output_dir=tmp_path).dataset.to_pandas()
    loaded = pd.read_parquet(tmp_path / "stages" / "00-load" / "data")
    assert len(frame) == 6  # 3 documents x 2 prompts
    assert set(frame["input"]) == set(loaded["text"])
    assert set(frame["source"]) == {"nemotron_closed_qa"}
    assert sorted(json.loads(p)["document_index"] for p in frame["provenance"]) == [0, 0, 1, 1, 2, 2]


def test_documents_from_a_file_and_from_records_at_once_is_an_error(server: FakeLLMServer, tmp_path: Path) -> None:
    stages = [
        {"stage": "load", "path": str(DOCUMENTS), "limit": 2},
        {"stage": "topic_prompts", "pipeline": "closed_qa", "options": {"documents": str(DOCUMENTS)}},
    ]
    with pytest.raises(ConfigError, match="not both"):
        SyntheticDataPipeline(None, small_recipe(stages, server)).run(output_dir=tmp_path)
    stages = [{"stage": "load", "path": str(DOCUMENTS), "limit": 2}, {"stage": "topic_prompts", "pipeline": "math"}]
    with pytest.raises(ConfigError, match="takes no input records"):
        SyntheticDataPipeline(None, small_recipe(stages, server)).run(output_dir=tmp_path / "math")


# ----------------------------------------------------------------------------------- failures and templates
class NoRevisionList(Plausible):
    """Plausible, except that the open Q&A rewrites come back as prose (no list, not even after conversion)."""

    def __call__(self, request: FakeRequest) -> str:
        if "rewrite it in" in request.prompt.lower():
            return "I would rather keep the question as it is."
        return super().__call__(request)


def test_a_stage_whose_every_item_failed_is_an_error_not_an_empty_dataset(
    server: FakeLLMServer, tmp_path: Path
) -> None:
    options = {"n_macro_topics": 1, "n_subtopics": 1, "n_openlines": 2, "n_revisions": 2, "combine_topics": False}
    with FakeLLMServer(responder=NoRevisionList()) as fake:
        config = small_recipe([{"stage": "topic_prompts", "pipeline": "open_qa", "options": options}], fake)
        # both questions of the one topic: their rewrites could not be read, so nothing came out
        with pytest.raises(StageError, match=r"topic_prompts: nothing generated, 2 failed \(revisions: "):
            SyntheticDataPipeline(None, config).run(output_dir=tmp_path)
    assert "00-topic_prompts" not in summaries(tmp_path)  # not saved: a re-run asks again


def test_template_overrides_text_and_references(server: FakeLLMServer, tmp_path: Path) -> None:
    text = 'Write {n_openlines} {language} exercises on "{topic}". Answer with a numbered list only.'
    options = {"n_macro_topics": 1, "n_subtopics": 2, "n_openlines": 2}
    stage = {"stage": "topic_prompts", "pipeline": "python", "options": options}
    templates = {
        "python_problem_prompt_template": text,
        "macro_topic_prompt_template": "generation_prompts:nemotron.python_macro_topics",
    }
    frame = (
        SyntheticDataPipeline(None, small_recipe([{**stage, "templates": templates}], server))
        .run(output_dir=tmp_path)
        .dataset.to_pandas()
    )
    assert len(frame) == 6  # (2 subtopics + 1 macro topic) x 2 problems
    assert {json.loads(p)["template"] for p in frame["provenance"]} == {template_of(text, "nemotron").id}
    broken = {"macro_topic_prompt_template": "Propose {n_macro_topics} {flavour} topics. Answer with a list."}
    with pytest.raises(ConfigError, match=r"macro_topics: .*flavour"):
        SyntheticDataPipeline(None, small_recipe([{**stage, "templates": broken}], server)).run(
            output_dir=tmp_path / "broken"
        )


# ------------------------------------------------------------------------------------------- validation
def write(tmp_path: Path, stage: str) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(f"name: x\nmodel: m\nstages:\n  - stage: topic_prompts\n{stage}")
    return path


BAD_STAGES = {  # id: (the stage's lines after `- stage: topic_prompts`, the error expected)
    "pipeline": ("    pipeline: open_q\n", r"recipe.yaml:5: stages\[0\].pipeline: .*unknown pipeline 'open_q'; one of"),
    "options-key": (
        "    pipeline: open_qa\n    options:\n      n_macro_topik: 3\n",
        r"recipe.yaml:7: stages\[0\].options.n_macro_topik: unknown key",
    ),
    "options-value": (
        "    pipeline: math\n    options: {n_openlines: 0}\n",
        r"stages\[0\].options.n_openlines: Input should be greater than or equal to 1",
    ),
    "options-too-many": (
        "    pipeline: open_qa\n    options: {n_subtopics: 101}\n",
        r"stages\[0\].options.n_subtopics: Input should be less than or equal to 100",
    ),
    "options-missing": ("    pipeline: writing\n", r"stages\[0\].options.topics: Field required"),
    "template-key": (
        "    pipeline: open_qa\n    templates:\n      math_problem_prompt_template: x\n",
        r"recipe.yaml:7: stages\[0\].templates.math_problem_prompt_template: unknown key",
    ),
    "template-ref": (
        "    pipeline: math\n    templates: {subtopic_prompt_template: 'generation_prompts:nemotron.math_subtopic'}\n",
        r"stages\[0\].templates.subtopic_prompt_template: .*did you mean nemotron.math_subtopics",
    ),
    "braces": (
        "    pipeline: math\n    templates: {subtopic_prompt_template: 'List {n_subtopics topics'}\n",
        r"stages\[0\].templates.subtopic_prompt_template: .*not a usable template text",
    ),
    "key": ("    pipeline: open_qa\n    temprature: 0.2\n", r"recipe.yaml:6: stages\[0\].temprature: unknown key"),
}


@pytest.mark.parametrize(("stage", "error"), list(BAD_STAGES.values()), ids=list(BAD_STAGES))
def test_bad_options_name_the_key_path(tmp_path: Path, stage: str, error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        load_config(write(tmp_path, stage))


# ------------------------------------------------------------------------------------ generation_prompts.yaml
def constant(dotted: str) -> Any:
    module, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def test_generation_prompts_yaml_equals_the_python_templates() -> None:
    entries = load_generation_prompts().templates
    for key, entry in entries.items():
        assert entry.template(key) == constant(entry.source), (
            f"{key} differs from {entry.source}: regenerate with "
            "`python -m curator_synth.prompts.library > curator_synth/prompt_templates/generation_prompts.yaml`"
        )
    missing = set(python_templates()) - set(entries)
    assert not missing, f"templates missing from {generation_prompts_path()} (regenerate it): {sorted(missing)}"
    for family in ("nemotron.", "self_instruct.", "evol.", "responses.", "nemotron_cc.", "nemotron.dialogue_"):
        assert any(key.startswith(family) for key in entries)


def test_a_reference_gives_the_python_template_itself() -> None:
    from curator_synth.prompts import nemotron

    assert generation_prompt("nemotron.macro_topics") == nemotron.DEFAULT_MACRO_TOPICS_PROMPT_TEMPLATE
    assert resolve_template("generation_prompts:nemotron.closed_qa") is not nemotron.DEFAULT_CLOSED_QA_PROMPT_TEMPLATE
    assert resolve_template("generation_prompts:nemotron.closed_qa") == nemotron.DEFAULT_CLOSED_QA_PROMPT_TEMPLATE
    assert resolve_template("Name {n_macro_topics} things.") == "Name {n_macro_topics} things."
    with pytest.raises(ConfigError, match=r"did you mean nemotron\.closed_qa"):
        generation_prompt("nemotron.closed_q")
