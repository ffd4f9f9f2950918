"""The text transformations against FakeLLMServer over real sockets, on real passages of the T0 sample: every
operation (async and blocking), lead-in removal, structured extraction (success, repair, failure), the
fan-out with failure reports; the templates; the documentation examples."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any

import pytest
from data_paths import T0_SAMPLE
from pydantic import BaseModel

from curator_synth.clients import AsyncOpenAIClient, Journal, OpenAIClient
from curator_synth.errors import BadRequestError, ConfigError, ResponseParseError
from curator_synth.generators.transforms import AsyncTransformer, Transformer
from curator_synth.prompts import PROMPTS, PromptTemplate
from curator_synth.prompts import transforms as prompts
from curator_synth.records import record_id
from curator_synth.testing import FakeLLMServer, FakeRequest

SOURCE = T0_SAMPLE / "adversarial_qa_dbert_based_on.jsonl"


@pytest.fixture(scope="module")
def passages() -> list[str]:
    """Distinct real passages (adversarial_qa contexts: Wikipedia paragraphs), in file order."""
    found: dict[str, None] = {}
    for line in SOURCE.read_text(encoding="utf-8").splitlines():
        found.setdefault(json.loads(line)["prompt"].split("\nContext: ", 1)[1].strip(), None)
    assert len(found) >= 10, f"expected at least 10 distinct passages in {SOURCE}"
    return list(found)


class Work(BaseModel):
    """What the structured-extraction tests pull out of a passage."""

    subject: str
    year: int
    place: str | None = None


GOOD_JSON = '{"subject": "Berkeley", "year": 1710, "place": null}'
REPAIR_PROMPT = "Your previous reply could not be used"


def text_of(prompt: str) -> str:
    match = re.search(r"(?:Web text|Text):\n(.*)$", prompt, re.S)
    assert match, prompt[:200]
    return match[1]


class TransformModel:
    """Answers like a model following the templates (some answers with a lead-in the generator removes).

    ``refuse``/``empty`` are substrings of texts it fails on (the server answers 400 / the answer is only a
    lead-in); ``json`` is what extraction prompts get (``"good"``, ``"repair"``: invalid until a repair
    request, ``"bad"``: always invalid).
    """

    def __init__(self, refuse: tuple[str, ...] = (), empty: tuple[str, ...] = (), json_mode: str = "good") -> None:
        self.refuse = refuse
        self.empty = empty
        self.json_mode = json_mode
        self.requests: list[FakeRequest] = []

    def __call__(self, request: FakeRequest) -> str:
        self.requests.append(request)
        prompt = request.prompt
        if prompt.startswith(REPAIR_PROMPT):
            return GOOD_JSON if self.json_mode == "repair" else '{"subject": "Berkeley"}'
        text = text_of(prompt)
        if any(marker in text for marker in self.refuse):
            raise RuntimeError("refused")
        if prompt.startswith("Extract information"):
            return GOOD_JSON if self.json_mode == "good" else '{"subject": "Berkeley", "year": "early"}'
        if prompt.startswith("Translate"):
            language = re.match(r"Translate the text below into (\w+)", prompt)
            assert language
            return "Translation:" if any(m in text for m in self.empty) else f"Translation: [{language[1]}] {text}"
        if prompt.startswith("Rewrite the text below in this style"):
            style = re.search(r"style and tone: (.*?)\.\n", prompt)
            assert style
            return f"Rewritten text: [{style[1]}] {text}"
        if prompt.startswith("Rewrite the text below in simpler"):
            audience = re.search(r"audience: (.*?)\.\n", prompt)
            assert audience
            return f"**Simplified text:** [{audience[1]}] {text}"
        starts = {
            "Paraphrase": f"Here is the paraphrased text:\nP: {text}",
            "Rewrite the web text": f"Educational text: E: {text}",
            "Rewrite the text below so that": f"C: {text}",
            "Explain": f"Explanation: X: {text}",
        }
        return next(answer for start, answer in starts.items() if prompt.startswith(start))


# (method, extra arguments, template, expected output for a text)
OPS: list[tuple[str, dict[str, Any], PromptTemplate, str]] = [
    ("paraphrase", {}, prompts.PARAPHRASE_PROMPT_TEMPLATE, "P: {}"),
    ("to_educational", {}, prompts.EDUCATIONAL_PROMPT_TEMPLATE, "E: {}"),
    ("restyle", {"style": "a sports commentary"}, prompts.RESTYLE_PROMPT_TEMPLATE, "[a sports commentary] {}"),
    ("add_context", {}, prompts.ADD_CONTEXT_PROMPT_TEMPLATE, "C: {}"),
    ("translate", {"target_language": "Spanish"}, prompts.TRANSLATION_PROMPT_TEMPLATE, "[Spanish] {}"),
    ("simplify", {"audience": "young children"}, prompts.SIMPLIFICATION_PROMPT_TEMPLATE, "[young children] {}"),
    ("explain", {}, prompts.EXPLANATION_PROMPT_TEMPLATE, "X: {}"),
]


@pytest.mark.parametrize(("op", "arguments", "template", "expected"), OPS, ids=[o[0] for o in OPS])
async def test_every_text_operation(
    op: str, arguments: dict[str, Any], template: PromptTemplate, expected: str, passages: list[str], tmp_path: Path
) -> None:
    model = TransformModel()
    text = passages[0]
    with FakeLLMServer(model) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, cache_dir=tmp_path) as client:
            transformer = AsyncTransformer(client, "m", params={"temperature": 0.3, "n": 4})
            output = await getattr(transformer, op)(text, **arguments, model_kwargs={"max_tokens": 2000})
    assert output == expected.format(text)  # lead-in removed, the rest untouched
    [request] = model.requests
    assert request.messages == template.messages(text=text, **arguments)
    assert request.body["temperature"] == 0.3
    assert request.body["max_tokens"] == 2000
    assert request.body.get("n", 1) == 1  # one result per text, whatever the generator's params say
    assert [record.namespace for record in Journal.read(tmp_path)] == [template.namespace]


@pytest.mark.parametrize(("op", "arguments", "template", "expected"), OPS, ids=[o[0] for o in OPS])
def test_every_text_operation_of_the_blocking_class(
    op: str, arguments: dict[str, Any], template: PromptTemplate, expected: str, passages: list[str]
) -> None:
    with FakeLLMServer(TransformModel()) as server, OpenAIClient(base_url=server.base_url) as client:
        transformer = Transformer(client, "m")
        assert getattr(transformer, op)(passages[1], **arguments) == expected.format(passages[1])
    assert getattr(Transformer, op).__doc__ == getattr(AsyncTransformer, op).__doc__


def test_defaults_custom_templates_and_empty_answers(passages: list[str]) -> None:
    model = TransformModel(empty=("untranslatable",))
    with FakeLLMServer(model) as server, OpenAIClient(base_url=server.base_url) as client:
        transformer = Transformer(client, "m")
        assert transformer.simplify("Short text.") == "[a general reader with no background in the subject] Short text."
        custom = transformer.restyle("abc", "formal", prompt_template="Paraphrase {{it}}. Text:\n{text}")
        # a custom template may leave out a value it does not use ({style}); only restyle's lead-ins are removed
        assert custom == "Here is the paraphrased text:\nP: abc"
        with pytest.raises(ResponseParseError, match="the translate answer is empty") as info:
            transformer.translate("This is untranslatable.", "German")
        assert info.value.raw == "Translation:"
        with pytest.raises(ConfigError, match=r"no \{text\} placeholder"):
            transformer.explain("x", prompt_template="Explain {passage}")
        with pytest.raises(ConfigError, match="pass model="):
            Transformer(client).explain("x")
    assert model.requests[1].messages == [{"role": "user", "content": "Paraphrase {it}. Text:\nabc"}]


# ----------------------------------------------------------------------------------- structured extraction
async def test_structured_extraction_success(passages: list[str], tmp_path: Path) -> None:
    model = TransformModel()
    text = passages[0]
    with FakeLLMServer(model) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, cache_dir=tmp_path) as client:
            transformer = AsyncTransformer(client, "m", params={"temperature": 0.0, "n": 2})
            work = await transformer.extract_structured(text, Work)
    assert work == Work(subject="Berkeley", year=1710)
    [request] = model.requests
    schema_text = json.dumps(Work.model_json_schema(), ensure_ascii=False)
    assert request.messages == prompts.STRUCTURED_EXTRACTION_PROMPT_TEMPLATE.messages(text=text, schema=schema_text)
    assert request.body["response_format"]["json_schema"]["name"] == "Work"
    assert request.body["temperature"] == 0.0
    assert request.body.get("n", 1) == 1
    assert [record.namespace for record in Journal.read(tmp_path)] == ["transforms.extract_structured@1"]


def test_structured_extraction_repairs_an_invalid_answer(passages: list[str]) -> None:
    model = TransformModel(json_mode="repair")
    with FakeLLMServer(model) as server, OpenAIClient(base_url=server.base_url) as client:
        transformer = Transformer(client, "m")
        work = transformer.extract_structured(passages[2], Work, mode="prompt")
    assert work.year == 1710
    first, repair = model.requests
    assert "response_format" not in first.body
    assert first.messages is not None
    assert first.messages[0]["role"] == "system"  # prompt mode: query_structured's JSON instruction
    assert repair.prompt.startswith(REPAIR_PROMPT)
    assert "year: Input should be a valid integer" in repair.prompt


def test_structured_extraction_failure_keeps_the_last_answer(passages: list[str]) -> None:
    model = TransformModel(json_mode="bad")
    with FakeLLMServer(model) as server, OpenAIClient(base_url=server.base_url) as client:
        transformer = Transformer(client, "m")
        with pytest.raises(ResponseParseError, match=r"no valid Work after 3 answer\(s\)") as info:
            transformer.extract_structured(passages[3], Work)
        assert server.stats()["requests"] == 3  # the answer and max_repairs=2 repairs
        with pytest.raises(ConfigError, match="pydantic BaseModel"):
            transformer.extract_structured(passages[3], dict)  # type: ignore[type-var]
        with pytest.raises(ConfigError, match="n must be 1"):
            transformer.extract_structured(passages[3], Work, model_kwargs={"n": 2})
    assert info.value.raw == '{"subject": "Berkeley"}'


# ------------------------------------------------------------------------------------------ transform_many
async def test_transform_many_reports_the_bad_item_and_keeps_the_rest(passages: list[str]) -> None:
    texts = passages[:6]
    model = TransformModel(refuse=(texts[2][:40],), empty=(texts[4][:40],))
    with FakeLLMServer(model, latency=(0.0, 0.02)) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, max_retries=0) as client:
            transformer = AsyncTransformer(client, "m", params={"temperature": 0.5})
            result = await transformer.transform_many(texts, "translate", target_language="French")
    assert [record["index"] for record in result.items] == [0, 1, 3, 5]
    for record in result.items:
        text = texts[record["index"]]
        assert record["input"] == text
        assert record["output"] == f"[French] {text}"
        assert record["op"] == "translate"
        assert record["id"] == record_id("translate", text, record["output"])
        provenance = record["provenance"]
        assert provenance["parents"] == [record_id(text)]
        assert provenance["target_language"] == "French"
        assert (provenance["template"], provenance["template_version"]) == ("transforms.translate", 1)
        assert provenance["generator"] == "AsyncTransformer"
        assert provenance["params"] == {"temperature": 0.5}
    refused, empty = result.failures
    assert (refused.index, refused.input) == (2, texts[2])
    assert isinstance(refused.error, BadRequestError)
    assert (empty.index, empty.input) == (4, texts[4])
    assert empty.reason == "ResponseParseError: the translate answer is empty"
    assert empty.raw == "Translation:"


def test_transform_many_structured_and_argument_checks(passages: list[str]) -> None:
    texts = passages[:3]
    with FakeLLMServer(TransformModel()) as server, OpenAIClient(base_url=server.base_url) as client:
        transformer = Transformer(client, "m")
        result = transformer.transform_many(texts, "extract_structured", schema=Work)
        restyled = transformer.transform_many(iter(texts), "restyle", style="a haiku", model="other")
        requests = server.stats()["requests"]
        with pytest.raises(ConfigError, match="op must be one of"):
            transformer.transform_many(texts, "summarise")
        with pytest.raises(ConfigError, match="missing a required argument: 'style'"):
            transformer.transform_many(texts, "restyle")
        with pytest.raises(ConfigError, match="unexpected keyword argument 'colour'"):
            transformer.transform_many(texts, "paraphrase", colour="red")
        with pytest.raises(ConfigError, match="pass model="):
            Transformer(client).transform_many(texts, "paraphrase")
        assert server.stats()["requests"] == requests  # nothing sent for any of these
    assert result.ok
    assert [record["output"] for record in result.items] == [Work(subject="Berkeley", year=1710)] * 3
    assert result.items[0]["provenance"]["schema"] == "Work"
    assert result.items[0]["provenance"]["generator"] == "Transformer"
    assert [record["output"] for record in restyled.items] == [f"[a haiku] {text}" for text in texts]
    assert restyled.items[0]["provenance"]["model"] == "other"
    assert restyled.items[0]["provenance"]["style"] == "a haiku"


# --------------------------------------------------------------------------------------------- templates
def _transform_templates() -> list[PromptTemplate]:
    return [PROMPTS.get(name) for name in PROMPTS.names() if name.startswith("transforms.")]


def test_every_template_is_registered_and_has_an_operation() -> None:
    constants = {getattr(prompts, name) for name in prompts.__all__ if name.endswith("_TEMPLATE")}
    assert constants == set(_transform_templates()) == set(prompts.TRANSFORM_OPS.values())
    assert len(constants) == 8
    for op, template in prompts.TRANSFORM_OPS.items():
        assert template.id == f"transforms.{op}"
        assert callable(getattr(AsyncTransformer, op))


@pytest.mark.parametrize("template", _transform_templates(), ids=lambda t: t.id)
def test_every_template_fills_without_stray_braces(template: PromptTemplate) -> None:
    assert "text" in template.fields
    assert template.fields <= {"text", "style", "target_language", "audience", "schema"}
    assert template.version >= 1
    assert template.description
    filled = template.format(**{name: f"<{name}>" for name in template.fields})
    assert "{" not in filled
    assert "}" not in filled
    for name in template.fields:
        assert f"<{name}>" in filled
    for _, placeholder, spec, conversion in string.Formatter().parse(template.text):
        assert placeholder is None or (placeholder.isidentifier() and not spec and not conversion)


def test_the_extraction_template_carries_the_schema() -> None:
    schema = json.dumps(Work.model_json_schema())
    prompt = prompts.STRUCTURED_EXTRACTION_PROMPT_TEMPLATE.format(text="t", schema=schema)
    assert schema in prompt  # braces in a filled value are kept as they are
    assert prompts.STRUCTURED_EXTRACTION_PROMPT_TEMPLATE.fields == {"text", "schema"}


# ------------------------------------------------------------------------------------------------- docs


def test_the_documentation_examples_run(run_doc: Any) -> None:
    printed = run_doc("generators/transforms.md", min_blocks=6)
    for line in [
        "[French] The Nazko cone",
        "The Nazko cone is a little volcano. In 2007 the ground shook.",
        "name='Nazko cone' country='Canada' last_activity_year=2007 2",
        '{"name": "Nazko cone", "country": "Canada"}',
        "1 This sentence is untranslatable. -> ResponseParseError: the translate answer is empty",
        "2007 Volcano",
        "[Italian] Hello.",
    ]:
        assert line in printed
