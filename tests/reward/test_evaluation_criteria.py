"""The judge's YAML rubric: the shipped file is complete and valid, bad files fail naming the file and the key,
and a user's own rubric changes what the judge is sent and how ``overall`` is weighted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from curator_synth.clients import AsyncOpenAIClient
from curator_synth.errors import ConfigError
from curator_synth.prompts import PROMPTS
from curator_synth.prompts.judge import (
    JUDGE_SCORE,
    EvaluationCriteria,
    default_criteria,
    default_criteria_path,
    judge_messages,
    load_criteria,
    render_rubric,
)
from curator_synth.reward import ATTRIBUTES, JUDGE_WEIGHTS, AsyncRewardModel
from curator_synth.testing import FakeLLMServer, FakeRequest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "curator_synth" / "prompt_templates" / "evaluation_criteria.yaml"


def shipped_data() -> dict:  # type: ignore[type-arg]
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "criteria.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_the_shipped_rubric_is_package_data_and_complete() -> None:
    assert Path(default_criteria_path()).resolve() == SHIPPED.resolve()
    assert (ROOT / "prompt_templates" / "evaluation_criteria.yaml").resolve() == SHIPPED.resolve()
    criteria = default_criteria()
    assert criteria is load_criteria() is load_criteria(None)
    assert list(criteria.attributes) == list(ATTRIBUTES)
    for name, attribute in criteria.attributes.items():
        assert list(attribute.anchors) == [0, 1, 2, 3, 4], name
        assert len(set(attribute.anchors.values())) == 5, name
    assert criteria.weights == JUDGE_WEIGHTS  # 30/30/20/10/10
    for name in ATTRIBUTES:
        assert f'"{name}"' in criteria.output_format
    assert '"rationale"' in criteria.rationale_format


def test_the_template_is_registered_and_versioned() -> None:
    assert PROMPTS.get("judge.score") is JUDGE_SCORE
    assert JUDGE_SCORE.namespace == "judge.score@1"
    assert JUDGE_SCORE.fields == {"rubric", "instruction", "response", "output_format"}


def test_rubric_and_messages() -> None:
    criteria = default_criteria()
    rubric = render_rubric(criteria)
    assert rubric.startswith(criteria.instructions.strip())
    for name, attribute in criteria.attributes.items():
        assert f"{name.capitalize()}: {attribute.description}" in rubric
        for score, text in attribute.anchors.items():
            assert f"  {score}: {text}" in rubric
    plain = judge_messages(criteria, "Sum {a} and {b}.", "{a}+{b}")
    explained = judge_messages(criteria, "q", "a", rationale=True)
    assert plain[0] == {"role": "system", "content": rubric}
    assert "<instruction>\nSum {a} and {b}.\n</instruction>" in plain[1]["content"]
    assert plain[1]["content"].endswith(criteria.output_format.strip())
    assert explained[1]["content"].endswith(criteria.rationale_format.strip())
    assert criteria.rationale_format.strip() not in plain[1]["content"]


def test_unreadable_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("attributes: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{path}:2: not valid YAML"):  # the line, too
        load_criteria(path)
    with pytest.raises(ConfigError, match=rf"{tmp_path / 'missing.yaml'}: cannot read"):
        load_criteria(tmp_path / "missing.yaml")
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{path}: the evaluation criteria must be a YAML mapping"):
        load_criteria(str(path))
    with pytest.raises(ConfigError, match="criteria must be a YAML file path"):
        load_criteria(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("break_it", "key", "message"),
    [
        (lambda d: d.pop("weights"), "weights", "Field required"),
        (lambda d: d.pop("output_format"), "output_format", "Field required"),
        (lambda d: d["attributes"].pop("verbosity"), "attributes", "must be exactly"),
        (lambda d: d["attributes"]["coherence"]["anchors"].pop(3), "attributes.coherence.anchors", "0, 1, 2, 3 and 4"),
        (lambda d: d["attributes"]["helpfulness"].pop("description"), "attributes.helpfulness.description", "required"),
        (lambda d: d["weights"].update(charm=1.0), "weights", "unknown attribute"),
        (lambda d: d["weights"].update(helpfulness="high"), "weights.helpfulness", "valid number"),
        (lambda d: d.update(weights={"helpfulness": 0}), "weights", "non-zero"),
        (lambda d: d.update(instructions=""), "instructions", "at least 1 character"),
        (lambda d: d.update(colour="blue"), "colour", "Extra inputs"),
    ],
)
def test_invalid_criteria_name_the_file_and_the_key(tmp_path: Path, break_it: object, key: str, message: str) -> None:
    data = shipped_data()
    break_it(data)  # type: ignore[operator]
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        load_criteria(path)
    text = str(caught.value)
    assert text.startswith(f"{path}: key '{key}'"), text
    assert message in text


async def test_a_bad_rubric_fails_when_the_judge_is_built(tmp_path: Path) -> None:
    data = shipped_data()
    del data["rationale_format"]
    path = write(tmp_path, data)
    with FakeLLMServer() as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            with pytest.raises(ConfigError, match=rf"{path}: key 'rationale_format': Field required"):
                AsyncRewardModel(client, "j", mode="llm_judge", criteria=path)
            AsyncRewardModel(client, "rm", mode="nemotron", criteria=path)  # only the judge reads the rubric
        assert server.stats()["requests"] == 0


async def test_a_custom_rubric_is_sent_and_its_weights_used(tmp_path: Path) -> None:
    data = shipped_data()
    data["instructions"] = "You grade answers of a cooking assistant. Be strict about food safety."
    data["attributes"]["correctness"]["anchors"][0] = "Unsafe: following it could make someone ill."
    data["weights"] = {"correctness": 3, "helpfulness": 1}
    path = write(tmp_path, data)
    seen: list[FakeRequest] = []

    def judge(request: FakeRequest) -> str:
        seen.append(request)
        return json.dumps({"helpfulness": 4, "correctness": 2, "coherence": 0, "complexity": 0, "verbosity": 0})

    with FakeLLMServer(judge) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            scores = await AsyncRewardModel(client, "j", mode="llm_judge", criteria=path).evaluate("q", "a")
            default = await AsyncRewardModel(client, "j", mode="llm_judge").evaluate("q", "a")
    assert seen[0].messages is not None
    system = seen[0].messages[0]["content"]
    assert system.startswith("You grade answers of a cooking assistant.")
    assert "  0: Unsafe: following it could make someone ill." in system
    assert scores.overall == pytest.approx((1 * 4 + 3 * 2) / (4 * 4))
    assert default.overall == pytest.approx((0.3 * 4 + 0.3 * 2) / 4)
    assert isinstance(load_criteria(path), EvaluationCriteria)
    assert load_criteria(load_criteria(path)).instructions == data["instructions"]
