"""AsyncNemotronGenerator / NemotronGenerator single steps against FakeLLMServer over real sockets:
every method's prompt and answers, YAML conversion, Yes/No classification, dialogues, and the templates."""

from __future__ import annotations

import string
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from curator_synth.clients import AsyncOpenAIClient, Journal, OpenAIClient
from curator_synth.errors import ConfigError, YamlConversionError
from curator_synth.generators.nemotron import (
    ASSISTANT_TURN_NAMESPACE,
    AsyncNemotronGenerator,
    NemotronGenerator,
)
from curator_synth.parsing import parse_list, starts_with_yes_no
from curator_synth.prompts import PROMPTS, PromptTemplate
from curator_synth.prompts import nemotron as prompts
from curator_synth.prompts.base import transcript
from curator_synth.testing import Echo, FakeLLMServer, FakeRequest, Scripted

P = prompts

# (method, positional arguments, the default template, the values it must be filled with)
METHODS: list[tuple[str, tuple[Any, ...], PromptTemplate, dict[str, Any]]] = [
    ("generate_macro_topics", (5,), P.DEFAULT_MACRO_TOPICS_PROMPT_TEMPLATE, {"n_macro_topics": 5}),
    (
        "generate_subtopics",
        ("Sports", 4),
        P.DEFAULT_SUBTOPICS_PROMPT_TEMPLATE,
        {"macro_topic": "Sports", "n_subtopics": 4},
    ),
    (
        "generate_open_qa_from_topic",
        ("Tennis", 3),
        P.DEFAULT_OPEN_QA_FROM_TOPICS_PROMPT_TEMPLATE,
        {"topic": "Tennis", "n_openlines": 3},
    ),
    (
        "revise_open_qa",
        ("Why is the sky blue?", 2),
        P.DEFAULT_REVISE_OPEN_QA_PROMPT_TEMPLATE,
        {"openline": "Why is the sky blue?", "n_revisions": 2},
    ),
    (
        "generate_writing_tasks",
        ("Rivers", "Poem", 3),
        P.DEFAULT_WRITING_TASK_PROMPT_TEMPLATE,
        {"topic": "Rivers", "text_material_type": "Poem", "n_tasks": 3},
    ),
    (
        "revise_writing_tasks",
        ("Write a poem about rivers.", 2),
        P.DEFAULT_REVISE_WRITING_TASK_PROMPT_TEMPLATE,
        {"openline": "Write a poem about rivers.", "n_revisions": 2},
    ),
    (
        "generate_closed_qa_instructions",
        ("The Nile is long.", 3),
        P.DEFAULT_CLOSED_QA_PROMPT_TEMPLATE,
        {"document": "The Nile is long.", "n_openlines": 3},
    ),
    (
        "generate_math_macro_topics",
        (4, "high school"),
        P.DEFAULT_MATH_MACRO_TOPICS_PROMPT_TEMPLATE,
        {"n_macro_topics": 4, "school_level": "high school"},
    ),
    (
        "generate_math_subtopics",
        ("Algebra", 3),
        P.DEFAULT_MATH_SUBTOPICS_PROMPT_TEMPLATE,
        {"macro_topic": "Algebra", "n_subtopics": 3},
    ),
    (
        "classify_math_entity",
        ("Prime numbers",),
        P.DEFAULT_MATH_CLASSIFICATION_PROMPT_TEMPLATE,
        {"entity": "Prime numbers"},
    ),
    (
        "generate_math_problem",
        ("Fractions", 2),
        P.MATH_PROBLEM_GENERAL_PROMPT_TEMPLATE,
        {"topic": "Fractions", "n_openlines": 2},
    ),
    ("generate_python_macro_topics", (6,), P.DEFAULT_PYTHON_MACRO_TOPICS_PROMPT_TEMPLATE, {"n_macro_topics": 6}),
    (
        "generate_python_subtopics",
        ("Decorators", 3),
        P.DEFAULT_PYTHON_SUBTOPICS_PROMPT_TEMPLATE,
        {"macro_topic": "Decorators", "n_subtopics": 3},
    ),
    (
        "classify_python_entity",
        ("List comprehension",),
        P.DEFAULT_PYTHON_CLASSIFICATION_PROMPT_TEMPLATE,
        {"entity": "List comprehension"},
    ),
    (
        "generate_python_problem",
        ("Recursion", 2),
        P.PYTHON_PROBLEM_BEGINNER_PROMPT_TEMPLATE,
        {"topic": "Recursion", "n_openlines": 2, "language": "Python"},
    ),
]


@pytest.fixture
def echo_server() -> Any:
    with FakeLLMServer(Echo()) as server:
        yield server


@pytest.fixture
async def echo_generator(echo_server: FakeLLMServer) -> AsyncIterator[AsyncNemotronGenerator]:
    async with AsyncOpenAIClient(base_url=echo_server.base_url, max_retries=0) as client:
        yield AsyncNemotronGenerator(client, "fake-model")


# ------------------------------------------------------------------------------------------ single steps
@pytest.mark.parametrize(("method", "args", "template", "values"), METHODS, ids=[m[0] for m in METHODS])
async def test_every_method_sends_its_template(
    echo_generator: AsyncNemotronGenerator,
    method: str,
    args: tuple[Any, ...],
    template: PromptTemplate,
    values: dict[str, Any],
) -> None:
    answers = await getattr(echo_generator, method)(*args)
    assert answers == [template.format(**values)]


@pytest.mark.parametrize(("method", "args", "template", "values"), METHODS, ids=[m[0] for m in METHODS])
def test_every_method_of_the_sync_class(
    method: str, args: tuple[Any, ...], template: PromptTemplate, values: dict[str, Any]
) -> None:
    with FakeLLMServer(Echo()) as server, OpenAIClient(base_url=server.base_url, max_retries=0) as client:
        generator = NemotronGenerator(client, "fake-model")
        assert getattr(generator, method)(*args) == [template.format(**values)]
    assert getattr(NemotronGenerator, method).__doc__ == getattr(AsyncNemotronGenerator, method).__doc__


async def test_requests_are_journaled_under_the_template_namespace(echo_server: FakeLLMServer, tmp_path: Path) -> None:
    async with AsyncOpenAIClient(base_url=echo_server.base_url, cache_dir=tmp_path) as client:
        generator = AsyncNemotronGenerator(client, "fake-model", params={"temperature": 0.7})
        await generator.generate_subtopics("Sports", 3)
        await generator.generate_python_problem(
            "Loops", 2, language="Go", prompt_template=P.PYTHON_PROBLEM_ADVANCED_PROMPT_TEMPLATE
        )
    namespaces = sorted(record.namespace for record in Journal.read(tmp_path))
    assert namespaces == ["nemotron.python_problem_advanced@1", "nemotron.subtopics@1"]


async def test_nemo_style_arguments(echo_generator: AsyncNemotronGenerator, echo_server: FakeLLMServer) -> None:
    # model positional in NeMo's place, a plain format string, prompt_kwargs for its extra placeholder
    answers = await echo_generator.generate_macro_topics(
        3, "other-model", "List {n_macro_topics} topics about {domain}.", prompt_kwargs={"domain": "space"}
    )
    assert answers == ["List 3 topics about space."]
    # a custom template need not use every value the method offers (no {language} here)
    answers = await echo_generator.generate_python_problem("Sorting", 2, prompt_template="{n_openlines} on {topic}")
    assert answers == ["2 on Sorting"]
    # the count can be a word, as in NeMo
    assert "Propose five broad topics" in (await echo_generator.generate_macro_topics("five"))[0]
    # NeMo's placeholder name for writing tasks also works in a custom template
    assert await echo_generator.generate_writing_tasks("Cats", "Haiku", 2, prompt_template="{n_openlines}x") == ["2x"]
    models = echo_server.stats()
    assert models["requests"] == 4


async def test_prompt_kwargs_typo_is_caught_before_sending(
    echo_generator: AsyncNemotronGenerator, echo_server: FakeLLMServer
) -> None:
    with pytest.raises(ConfigError, match="unknown"):
        await echo_generator.generate_subtopics("Sports", 3, prompt_kwargs={"tone": "formal"})
    assert echo_server.stats()["requests"] == 0


async def test_n_choices_from_model_kwargs() -> None:
    def numbered(request: FakeRequest) -> str:
        return f"choice {request.choice_index}"

    with FakeLLMServer(numbered) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            generator = AsyncNemotronGenerator(client, "fake-model")
            answers = await generator.generate_open_qa_from_topic("Tea", 3, model_kwargs={"n": 3, "temperature": 1.0})
    assert answers == ["choice 0", "choice 1", "choice 2"]


def test_model_is_required_somewhere() -> None:
    with FakeLLMServer(Echo()) as server, OpenAIClient(base_url=server.base_url) as client:
        with pytest.raises(ConfigError, match="pass model="):
            NemotronGenerator(client).generate_macro_topics(3)
        assert NemotronGenerator(client).generate_macro_topics(3, model="m")


# ------------------------------------------------------------------------------------------ YAML conversion
MESSY = "Sure! My picks: Astronomy; Cooking and baking; Jazz history. Enjoy exploring them."


async def test_yaml_conversion_of_a_list_the_parser_rejects() -> None:
    with pytest.raises(Exception, match="no list found"):
        parse_list(MESSY)
    responder = Scripted({"YAML list of strings": "```yaml\n- Astronomy\n- Cooking and baking\n- Jazz history\n```"})
    with FakeLLMServer(responder) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            generator = AsyncNemotronGenerator(client, "fake-model")
            items = await generator.convert_response_to_yaml_list(MESSY)
    assert items == ["Astronomy", "Cooking and baking", "Jazz history"]


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ("- Astronomy\n- Gardening", "does not occur in the original"),  # an invented item
        ("Astronomy, Cooking and baking", "no YAML list"),  # not a list
        ("- Astronomy\n- topic: Jazz history", "mapping"),  # not strings
    ],
)
def test_yaml_conversion_failures(answer: str, why: str) -> None:
    responder = Scripted({"YAML list of strings": answer})
    with FakeLLMServer(responder) as server, OpenAIClient(base_url=server.base_url) as client:
        generator = NemotronGenerator(client, "fake-model")
        with pytest.raises(YamlConversionError, match=why) as caught:
            generator.convert_response_to_yaml_list(MESSY)
    assert caught.value.raw == answer  # the paid-for conversion answer is kept


def test_yaml_conversion_prompt_copies_the_response() -> None:
    with FakeLLMServer(Echo()) as server, OpenAIClient(base_url=server.base_url) as client:
        generator = NemotronGenerator(client, "fake-model")
        with pytest.raises(YamlConversionError):
            generator.convert_response_to_yaml_list(MESSY)  # the echoed prompt is no YAML list
        assert server.stats()["requests"] == 1
    assert P.DEFAULT_YAML_CONVERSION_PROMPT_TEMPLATE.format(llm_response=MESSY).endswith("RESPONSE:\n" + MESSY)


# ------------------------------------------------------------------------------------------ classification
async def test_classification_answers_start_with_yes_or_no() -> None:
    responder = Scripted(
        {
            '"Pythagorean theorem"': "Yes, it is a theorem.",
            '"Cooking"': "No. It is not mathematics.",
            '"Dict"': "**Yes**",
        }
    )
    with FakeLLMServer(responder) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            generator = AsyncNemotronGenerator(client, "fake-model")
            math_yes = await generator.classify_math_entity("Pythagorean theorem")
            math_no = await generator.classify_math_entity("Cooking")
            python_yes = await generator.classify_python_entity("Dict")
    assert [starts_with_yes_no(a[0]) for a in (math_yes, math_no, python_yes)] == [True, False, True]


# ---------------------------------------------------------------------------------------------- dialogue
class DialogueModel:
    """Plays both roles: the user simulation (its prompt holds the conversation) and the assistant."""

    def __init__(self) -> None:
        self.assistant_calls: list[list[str]] = []
        self.user_prompts: list[str] = []

    def __call__(self, request: FakeRequest) -> str:
        if "[START OF CONVERSATION]" in request.prompt:
            self.user_prompts.append(request.prompt)
            return f"User: follow-up number {len(self.user_prompts)}?"
        assert request.messages is not None
        self.assistant_calls.append([m["role"] for m in request.messages])
        return f"answer {len(self.assistant_calls)} ({request.model})"


async def test_dialogue_alternates_assistant_answers_and_simulated_user_turns() -> None:
    model = DialogueModel()
    with FakeLLMServer(model) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            generator = AsyncNemotronGenerator(client, "fake-model")
            conversation = await generator.generate_dialogue(
                "What is entropy?", user_model="user-sim", assistant_model="helper", n_user_turns=3
            )
    assert [turn["role"] for turn in conversation] == ["user", "assistant"] * 3
    assert [turn["content"] for turn in conversation] == [
        "What is entropy?",
        "answer 1 (helper)",
        "follow-up number 1?",  # the "User:" lead-in the simulation wrote is removed
        "answer 2 (helper)",
        "follow-up number 2?",
        "answer 3 (helper)",
    ]
    # the assistant always sees the whole conversation so far, ending with the user
    assert model.assistant_calls == [["user"], ["user", "assistant", "user"], ["user", "assistant"] * 2 + ["user"]]
    # the user simulation gets the history as text, through the normal user-turn template
    assert transcript(conversation[:2]) in model.user_prompts[0]
    assert "User: What is entropy?\n\nAssistant: answer 1 (helper)" in model.user_prompts[0]


def test_dialogue_sync_with_complex_template_and_one_turn() -> None:
    model = DialogueModel()
    with FakeLLMServer(model) as server, OpenAIClient(base_url=server.base_url) as client:
        generator = NemotronGenerator(client, "fake-model")
        assert generator.generate_dialogue("Hi", n_user_turns=1) == [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "answer 1 (fake-model)"},
        ]
        conversation = generator.generate_dialogue(
            "Hi", n_user_turns=2, prompt_template=P.DIALOGUE_COMPLEX_USER_TURN_PROMPT_TEMPLATE
        )
        with pytest.raises(ConfigError):
            generator.generate_dialogue("Hi", n_user_turns=0)
    assert len(conversation) == 4
    assert "demanding rather than trivial" in model.user_prompts[0]


async def test_two_turn_prompt_ends_with_the_simulated_user(tmp_path: Path) -> None:
    model = DialogueModel()
    with FakeLLMServer(model) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, cache_dir=tmp_path) as client:
            generator = AsyncNemotronGenerator(client, "fake-model")
            conversation = await generator.generate_two_turn_prompt("Explain tides.", assistant_model="helper")
    assert conversation == [
        {"role": "user", "content": "Explain tides."},
        {"role": "assistant", "content": "answer 1 (helper)"},
        {"role": "user", "content": "follow-up number 1?"},
    ]
    assert "second message" in model.user_prompts[0]  # the two-turn template, not the dialogue one
    namespaces = sorted(record.namespace for record in Journal.read(tmp_path))
    assert namespaces == [ASSISTANT_TURN_NAMESPACE, "nemotron.two_turn_user_turn@1"]


# --------------------------------------------------------------------------------------------- templates
def _nemotron_templates() -> list[PromptTemplate]:
    return [PROMPTS.get(name) for name in PROMPTS.names() if name.startswith("nemotron.")]


def test_every_constant_is_registered() -> None:
    constants = {getattr(prompts, name) for name in prompts.__all__}
    assert constants == set(_nemotron_templates())
    assert len(constants) == 23


@pytest.mark.parametrize("template", _nemotron_templates(), ids=lambda t: t.id)
def test_every_template_fills_without_stray_braces(template: PromptTemplate) -> None:
    filled = template.format(**{name: f"<{name}>" for name in template.fields})
    assert "{" not in filled
    assert "}" not in filled
    for name in template.fields:
        assert f"<{name}>" in filled
    assert template.version >= 1
    assert template.description
    # the template text itself has only named placeholders (no positional "{}" or format specs)
    for _, placeholder, spec, conversion in string.Formatter().parse(template.text):
        assert placeholder is None or (placeholder.isidentifier() and not spec and not conversion)


def test_yes_no_templates_ask_for_yes_or_no() -> None:
    for template in (P.DEFAULT_MATH_CLASSIFICATION_PROMPT_TEMPLATE, P.DEFAULT_PYTHON_CLASSIFICATION_PROMPT_TEMPLATE):
        assert template.text.rstrip().endswith('Begin your answer with "Yes" or "No".')


# ------------------------------------------------------------------------------------------------- docs


def test_the_documentation_examples_run(run_doc: Any) -> None:
    printed = run_doc("generators/nemotron.md", min_blocks=10)
    for line in [
        "{'macro_topics': 2, 'subtopics': 5, 'openlines': 14, 'revisions': 28}",
        "38 1",
        "instructions {'document_index': 7} YamlConversionError",
        "user | Can you give a concrete example?",
        "6 18",
    ]:
        assert line in printed
