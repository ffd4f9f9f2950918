"""curator_synth.parsing: lists, YAML, JSON, Q&A pairs and text helpers, on realistic messy model output."""

from __future__ import annotations

import inspect
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

import curator_synth.parsing as parsing
from curator_synth.errors import ConfigError, ResponseParseError, YamlConversionError
from curator_synth.parsing import (
    apply_count_policy,
    check_yaml_conversion,
    clean_item,
    code_blocks,
    extract_json,
    first_line,
    format_validation_errors,
    parse_json_as,
    parse_list,
    parse_qa_pairs,
    parse_yaml_conversion,
    parse_yaml_list,
    remove_prefix,
    starts_with_yes_no,
    strip_code_fences,
)


def test_all_is_complete() -> None:
    public = {
        name
        for name, value in vars(parsing).items()
        if not name.startswith("_") and inspect.isfunction(value) and value.__module__.startswith("curator_synth")
    }
    assert public <= set(parsing.__all__)
    assert all(hasattr(parsing, name) for name in parsing.__all__)


# ---------------------------------------------------------------------------------------------------- lists
LISTS = {
    "numbered with preamble and remark": (
        "Here are 5 topics:\n\n1. Quantum computing\n2. Climate change\n3. Space exploration\n"
        "4. Renewable energy\n5. Artificial intelligence\n\nI hope these help!",
        ["Quantum computing", "Climate change", "Space exploration", "Renewable energy", "Artificial intelligence"],
    ),
    "paren numbers": ("1) alpha\n2) beta", ["alpha", "beta"]),
    "both parens": ("(1) alpha\n(2) beta", ["alpha", "beta"]),
    "number dash": ("1 - alpha\n2 - beta", ["alpha", "beta"]),
    "number colon": ("1: alpha\n2: beta", ["alpha", "beta"]),
    "dash bullets": ("- alpha\n- beta", ["alpha", "beta"]),
    "star bullets": ("* alpha\n* beta", ["alpha", "beta"]),
    "dot bullets": ("• alpha\n• beta", ["alpha", "beta"]),
    "plus bullets": ("+ alpha\n+ beta", ["alpha", "beta"]),
    "quotes and bold stripped": (
        '1. "Quantum computing"\n2. **Climate change**\n3. *Space*\n4. **"Oceans"**\n5. \u201cForests\u201d',
        ["Quantum computing", "Climate change", "Space", "Oceans", "Forests"],
    ),
    "partial bold kept": ("1. **Oceans**: deep water\n2. Forests", ["**Oceans**: deep water", "Forests"]),
    "inner quotes kept": ('1. "a" and "b"\n2. c', ['"a" and "b"', "c"]),
    "bold numbers": ("**1.** Alpha\n**2.** Beta", ["Alpha", "Beta"]),
    "bold whole line": ("**1. Alpha**\n**2. Beta**", ["Alpha", "Beta"]),
    "heading items": ("### 1. Alpha\n### 2. Beta", ["Alpha", "Beta"]),
    "wrapped lines join": (
        "1. Write a story about a dog\nwho learns to fly.\n2. Describe a city\n   at night.",
        ["Write a story about a dog who learns to fly.", "Describe a city at night."],
    ),
    "sub-bullets stay with their item": (
        "1. Topic A\n   - detail one\n   - detail two\n2. Topic B\n   - detail",
        ["Topic A\n- detail one\n- detail two", "Topic B\n- detail"],
    ),
    "letter sub-items": ("1. Apples\n   a. red\n   b) green\n2. Pears", ["Apples\na. red\nb) green", "Pears"]),
    "nested numbers": ("- Fruit\n  1. apple\n  2. pear\n- Veg", ["Fruit\n1. apple\n2. pear", "Veg"]),
    "blank lines between items": ("1. a\n\n2. b\n\n3. c\n", ["a", "b", "c"]),
    "indented paragraph belongs to item": ("1. a\n\n   more on a\n2. b", ["a\n\nmore on a", "b"]),
    "heading list with paragraphs": (
        "### 1. Title one\n\nDescription one.\n\n### 2. Title two\n\nDescription two.",
        ["Title one\n\nDescription one.", "Title two\n\nDescription two."],
    ),
    "consistent step labels": ("Step 1: Preheat\nStep 2: Mix\nStep 3: Bake", ["Preheat", "Mix", "Bake"]),
    "bold labels": ("**Topic 1:** Oceans\n**Topic 2:** Forests", ["Oceans", "Forests"]),
    "labels with body on next line": ("Topic 1:\nOceans\nTopic 2:\nForests", ["Oceans", "Forests"]),
    "step labels inside a numbered list are text": (
        "1. Step 1: preheat\n2. Step 2: bake",
        ["Step 1: preheat", "Step 2: bake"],
    ),
    "json array": ('["alpha", "beta"]', ["alpha", "beta"]),
    "json array in fence": ('Sure!\n```json\n[\n  "alpha",\n  "beta"\n]\n```\nEnjoy.', ["alpha", "beta"]),
    "json array after preamble": ('Here you go:\n["alpha", "beta"]\nThat is all.', ["alpha", "beta"]),
    "yaml flow list": ("[alpha, beta, gamma]", ["alpha", "beta", "gamma"]),
    "yaml list in fence": ("```yaml\n- alpha\n- 'beta: b'\n```", ["alpha", "beta: b"]),
    "numbered list in plain fence": ("```\n1. alpha\n2. beta\n```", ["alpha", "beta"]),
    "code after a blank line in the last item": (
        "1. a\n2. Write f:\n\n```python\nf()\n```\n\nGood luck!",
        ["a", "Write f:\n```python\nf()\n```"],
    ),
    "code inside item": (
        "1. Write f:\n```python\ndef f():\n    return 1\n```\n2. Write g",
        ["Write f:\n```python\ndef f():\n    return 1\n```", "Write g"],
    ),
    "horizontal rule is not a bullet": ("- a\n- b\n\n---\n\nThanks", ["a", "b"]),
    "italic line is not a bullet": ("*Note:* these are ideas\n- a\n- b", ["a", "b"]),
    "crlf line ends": ("1. a\r\n2. b\r\n", ["a", "b"]),
    "single item": ("1. only one", ["only one"]),
    "year is not a marker": ("In\n2020. Things happened.\n- a", ["a"]),
}


@pytest.mark.parametrize(("text", "expected"), LISTS.values(), ids=LISTS.keys())
def test_parse_list(text: str, expected: list[str]) -> None:
    assert parse_list(text) == expected


NOT_LISTS = {
    "plain paragraph": "Quantum computing, climate change and space exploration are all interesting topics.",
    "lone step label": "I tried it. Step 1: preheat the oven, then wait.",
    "inconsistent labels": "Step 1: preheat\nStep 3: bake",
    "empty": "   \n ",
    "only a fence": "```\n```",
}


@pytest.mark.parametrize("text", NOT_LISTS.values(), ids=NOT_LISTS.keys())
def test_parse_list_rejects(text: str) -> None:
    with pytest.raises(ResponseParseError) as info:
        parse_list(text)
    assert info.value.raw == text


def test_parse_list_truncated_json_array_says_so() -> None:
    text = '["alpha", "beta",'
    with pytest.raises(ResponseParseError, match="not a valid JSON array") as info:
        parse_list(text)
    assert info.value.raw == text


def test_parse_list_json_array_of_non_strings() -> None:
    with pytest.raises(ResponseParseError, match=r"item 2 of the array is int \(3\)"):
        parse_list('["a", 3]')
    with pytest.raises(ResponseParseError, match="item 2 of the array is an empty string"):
        parse_list('["a", " "]')


def test_three_when_five_asked() -> None:
    text = "Here are the topics:\n1. a\n2. b\n3. c"
    with pytest.raises(ResponseParseError) as info:
        parse_list(text, expected=5)
    assert "expected 5 items, found 3" in str(info.value)
    assert info.value.raw == text
    with pytest.raises(ResponseParseError, match="expected 5 items, found 3"):
        parse_list(text, expected=5, policy="trim")
    assert parse_list(text, expected=5, policy="accept") == ["a", "b", "c"]


def test_count_policy_on_too_many() -> None:
    text = "- a\n- b\n- c\n- d"
    with pytest.raises(ResponseParseError, match="expected 2 items, found 4"):
        parse_list(text, expected=2)
    assert parse_list(text, expected=2, policy="trim") == ["a", "b"]
    assert parse_list(text, expected=2, policy="accept") == ["a", "b", "c", "d"]
    assert parse_list(text, expected=4) == ["a", "b", "c", "d"]


def test_apply_count_policy() -> None:
    assert apply_count_policy(["a"], None) == ["a"]
    assert apply_count_policy(("a", "b"), 1, "trim") == ["a"]
    with pytest.raises(ResponseParseError) as info:
        apply_count_policy(["a"], 2, raw="the answer")
    assert info.value.raw == "the answer"
    with pytest.raises(ConfigError, match="policy"):
        apply_count_policy(["a"], 1, "drop")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="expected"):
        apply_count_policy(["a"], 0)
    with pytest.raises(ConfigError):
        parse_list("- a", expected=-1)


single_line = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=40
).filter(lambda s: s.strip() == s and s and clean_item(s) == s and "\x85" not in s and "\u2028" not in s)


@given(st.lists(single_line, min_size=1, max_size=12))
def test_numbered_round_trip(items: list[str]) -> None:
    text = "\n".join(f"{number}. {item}" for number, item in enumerate(items, start=1))
    assert parse_list(text, expected=len(items)) == items


@given(st.lists(single_line, min_size=1, max_size=12))
def test_json_round_trip(items: list[str]) -> None:
    assert parse_list("Here they are:\n" + json.dumps(items)) == items


# ----------------------------------------------------------------------------------------------------- YAML
def test_parse_yaml_list_variants() -> None:
    assert parse_yaml_list("- a\n- b") == ["a", "b"]
    assert parse_yaml_list("```yaml\n- a\n- b\n```") == ["a", "b"]
    assert parse_yaml_list("```yml\n- a\n```") == ["a"]
    assert parse_yaml_list("Here is the YAML list you asked for:\n- a\n- 'b: c'\n\nLet me know!") == ["a", "b: c"]
    assert parse_yaml_list("Sure:\n```\n- a\n```\nDone.") == ["a"]
    assert parse_yaml_list("topics:\n  - a\n  - b") == ["a", "b"]
    assert parse_yaml_list('["a", "b"]') == ["a", "b"]
    assert parse_yaml_list("The list: \n[a, b]\nThat's it.") == ["a", "b"]
    assert parse_yaml_list("- a long item\n  that wraps\n- b") == ["a long item that wraps", "b"]


def test_parse_yaml_list_coerce() -> None:
    text = "```yaml\n- 1.50\n- yes\n- 2024-01-01\n- plain\n```"
    with pytest.raises(ResponseParseError, match=r"item 1 of the YAML list is a number \('1.50'\)") as info:
        parse_yaml_list(text)
    assert info.value.raw == text
    assert parse_yaml_list(text, coerce=True) == ["1.50", "yes", "2024-01-01", "plain"]
    with pytest.raises(ResponseParseError, match="item 1 of the YAML list is a boolean"):
        parse_yaml_list("- true")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- Topic: description\n- b", "item 1 of the YAML list is a mapping, not a string \\(starting 'Topic: desc"),
        ("- a\n- b: c", r"item 2 .* \(starting 'b: c'; quote"),
        ("- a\n-\n- b", "item 2 of the YAML list is empty"),
        ("- a\n- [b, c]", "item 2 of the YAML list is a nested list"),
        ("- ''", "item 1 of the YAML list is an empty string"),
        ("[]", "the YAML list is empty"),
        ("just a sentence", "the YAML is a string, not a list"),
        ("key: value", "the YAML is a mapping, not a list"),
        ('- "unterminated', "invalid YAML"),
        ("", "empty"),
    ],
)
def test_parse_yaml_list_errors(text: str, message: str) -> None:
    with pytest.raises(ResponseParseError, match=message) as info:
        parse_yaml_list(text, coerce=True)
    assert info.value.raw == text


def test_check_yaml_conversion() -> None:
    original = "Here are some topics:\n1. **Quantum   computing**\n2. Climate\n   change"
    assert check_yaml_conversion(["Quantum computing", "Climate change"], original) == [
        "Quantum computing",
        "Climate change",
    ]
    cases: list[tuple[object, str]] = [
        ({"a": 1}, "is dict"),
        ("Quantum computing", "is str"),
        ([], "empty list"),
        (["Climate", 3], r"item 2 \(3\) is int, not a string"),
        (["Climate", "Oceans"], r"item 2 \('Oceans'\) does not occur in the original"),
        (["quantum computing"], "does not occur"),  # case-sensitive, like NeMo Curator
        ([" "], "item 1 is an empty string"),
    ]
    for items, message in cases:
        with pytest.raises(YamlConversionError, match=message) as info:
            check_yaml_conversion(items, original)
        assert info.value.raw == original
    with pytest.raises(YamlConversionError) as info:
        check_yaml_conversion(["x"], original, raw="- x")
    assert info.value.raw == "- x"


def test_parse_yaml_conversion() -> None:
    original = "Some ideas: first, the ocean; second, the forest."
    assert parse_yaml_conversion("```yaml\n- the ocean\n- the forest\n```", original) == ["the ocean", "the forest"]
    for bad in ("- the ocean\n- the desert", "not yaml list", "- 1"):
        with pytest.raises(YamlConversionError) as info:
            parse_yaml_conversion(bad, original)
        assert info.value.raw == bad
    assert issubclass(YamlConversionError, ResponseParseError)


# ----------------------------------------------------------------------------------------------------- JSON
JSON_OK = {
    "bare object": ('{"a": 1}', {"a": 1}),
    "bare scalar": ("42", 42),
    "fenced": ('Here:\n```json\n{"a": [1, 2]}\n```\nDone.', {"a": [1, 2]}),
    "unlabelled fence": ("```\n[1, 2]\n```", [1, 2]),
    "tilde fence": ('~~~json\n{"a": 1}\n~~~', {"a": 1}),
    "prose around": ('Sure! The answer is {"name": "Ada", "age": 36} as requested.', {"name": "Ada", "age": 36}),
    "multi-line after preamble": (
        'Result:\n{\n  "a": {"b": [1, {"c": null}]}\n}\nThanks',
        {"a": {"b": [1, {"c": None}]}},
    ),
    "braces inside strings": ('x {"a": "} ] {"} y', {"a": "} ] {"}),
    "line start beats citation": ('As shown in [1], we get:\n{"a": 1}', {"a": 1}),
    "first of two": ('{"a": 1}\n{"b": 2}', {"a": 1}),
    "mid-line only": ("the list [1, 2] is short", [1, 2]),
    "skips broken prose braces": ('Use {name} here.\n{"a": 1}', {"a": 1}),
    "interval notation": ('for x in [0, 1) we have\n{"a": 1}', {"a": 1}),
}


@pytest.mark.parametrize(("text", "expected"), JSON_OK.values(), ids=JSON_OK.keys())
def test_extract_json(text: str, expected: object) -> None:
    assert extract_json(text) == expected


JSON_BAD = {
    "empty": ("  ", "empty"),
    "no json": ("I cannot help with that.", "no JSON object or array"),
    "truncated": ('{"items": [{"a": 1}, {"b": 2}, {"c":', "ends inside the JSON value starting at line 1 column 1"),
    "truncated after prose": ('Here:\n[\n  {"a": 1},\n  {"b"', "line 2 column 1"),
    "trailing comma": ('{"a": 1,}', "line 1 column 9"),
    "single quotes": ("{'a': [1, 2]}", "double quotes"),
    "broken fence": ('```json\n{"a": 1,,}\n```', "json code block is invalid"),
    "unclosed fence": ('```json\n{"a": 1', "not closed"),
}


@pytest.mark.parametrize(("text", "message"), JSON_BAD.values(), ids=JSON_BAD.keys())
def test_extract_json_errors(text: str, message: str) -> None:
    with pytest.raises(ResponseParseError, match=message) as info:
        extract_json(text)
    assert info.value.raw == text


def test_truncated_json_never_returns_an_inner_fragment() -> None:
    with pytest.raises(ResponseParseError, match="truncated"):
        extract_json('```\n{"people": [{"name": "Ada"}, {"name": "Al')
    with pytest.raises(ResponseParseError, match="truncated"):
        extract_json('{"people": [{"name": "Ada"}, {"name": "Al')


class Person(BaseModel):
    name: str
    age: int
    tags: list[str] = []


def test_parse_json_as_model() -> None:
    person = parse_json_as('Here:\n```json\n{"name": "Ada", "age": 36}\n```', Person)
    assert person == Person(name="Ada", age=36)
    assert parse_json_as('["a", "b"]', list[str]) == ["a", "b"]
    assert parse_json_as('{"x": 1}', dict[str, int]) == {"x": 1}


def test_parse_json_as_errors_are_compact() -> None:
    text = '{"age": "old", "tags": ["a", 3]}'
    with pytest.raises(ResponseParseError) as info:
        parse_json_as(text, Person)
    message = str(info.value)
    assert message.startswith("the JSON does not match Person: ")
    assert "name: Field required" in message
    assert "age: Input should be a valid integer" in message
    assert "(got 'old')" in message
    assert "tags[1]: Input should be a valid string (got 3)" in message
    assert "\n" not in message
    assert info.value.raw == text
    assert info.value.__cause__ is not None
    with pytest.raises(ResponseParseError, match=r"list\[int\]: \[0\]: Input should be a valid integer"):
        parse_json_as('["x"]', list[int])
    with pytest.raises(ResponseParseError, match="no JSON"):
        parse_json_as("nothing", Person)


def test_format_validation_errors_limit() -> None:
    class Many(BaseModel):
        values: list[int]

    try:
        Many.model_validate({"values": ["x"] * 12})
    except ValidationError as exc:
        text = format_validation_errors(exc, limit=3)
    assert text.count("Input should be") == 3
    assert text.endswith("(+9 more)")
    assert "values[0]:" in text
    long_input = format_validation_errors(_error_for({"name": "n", "age": "x" * 100}))
    assert "..." in long_input
    assert "x" * 40 not in long_input


def _error_for(data: object) -> ValidationError:
    try:
        Person.model_validate(data)
    except ValidationError as exc:
        return exc
    raise AssertionError("expected a validation error")


# ---------------------------------------------------------------------------------------------------- Q & A
QA_OK = {
    "plain": ("Question: What is 2+2?\nAnswer: 4", [("What is 2+2?", "4")]),
    "short labels": ("Q: Why?\nA: Because.\nQ: How?\nA: Like this.", [("Why?", "Because."), ("How?", "Like this.")]),
    "numbered bold with preamble and remark": (
        "Here are two pairs:\n\n1. **Question:** What is X?\n   **Answer:** X is Y.\n   More about X.\n\n"
        "2. **Question:** Why?\n   **Answer:** Because.\n\nI hope these help!",
        [("What is X?", "X is Y.\nMore about X."), ("Why?", "Because.")],
    ),
    "numbered labels": ("Question 1: a?\nAnswer 1: b\n\nQuestion 2: c?\nAnswer 2: d", [("a?", "b"), ("c?", "d")]),
    "q1 a1": ("Q1: a?\nA1: b\nQ2: c?\nA2: d", [("a?", "b"), ("c?", "d")]),
    "bold around label and body": ("**Question: What is X?**\n**Answer:** Y", [("What is X?", "Y")]),
    "bold label outside colon": ("**Question**: a?\n**Answer**: b", [("a?", "b")]),
    "same line": ("Question: What? Answer: That.", [("What?", "That.")]),
    "label on its own line": ("Question:\nWhat is X?\nAnswer:\nX is Y.", [("What is X?", "X is Y.")]),
    "multi-paragraph single answer kept": (
        "Question: What is photosynthesis?\nAnswer: A process.\n\nIn summary, plants make food.",
        [("What is photosynthesis?", "A process.\n\nIn summary, plants make food.")],
    ),
    "multi-paragraph answers between pairs": (
        "Q: a?\nA: one.\n\nmore one.\n\nQ: b?\nA: two.\n\nmore two.",
        [("a?", "one.\n\nmore one."), ("b?", "two.\n\nmore two.")],
    ),
    "answer with list and code": (
        "Q: How to sort?\nA: Steps:\n- call sorted\n- done\n```python\nsorted(x)\n    # indented\n```",
        [("How to sort?", "Steps:\n- call sorted\n- done\n```python\nsorted(x)\n    # indented\n```")],
    ),
    "code block after a blank line in the last answer": (
        "Q: a?\nA: b\nQ: How?\nA: Like this:\n\n```py\nx = 1\n```\n\nHope it helps.",
        [("a?", "b"), ("How?", "Like this:\n\n```py\nx = 1\n```")],
    ),
    "separators between pairs": (
        "### Pair 1\nQ: a?\nA: b\n\n---\n\n### Pair 2\nQ: c?\nA: d",
        [("a?", "b"), ("c?", "d")],
    ),
    "bold title between pairs": ("Q: a?\nA: b\n\n**Pair 2**\nQ: c?\nA: d", [("a?", "b"), ("c?", "d")]),
    "numbered short labels with dots": ("**Q1.** What?\n**A1.** That.", [("What?", "That.")]),
    "lowercase words": ("question: a?\nanswer: b", [("a?", "b")]),
}


@pytest.mark.parametrize(("text", "expected"), QA_OK.values(), ids=QA_OK.keys())
def test_parse_qa_pairs(text: str, expected: list[tuple[str, str]]) -> None:
    assert parse_qa_pairs(text) == expected


QA_INCOMPLETE = {
    "question without answer": ("Q: a?\nA: b\nQ: c?", "line 3 ('c?') has no answer", [("a?", "b")]),
    "answer without question": ("A: lonely\nQ: a?\nA: b", "line 1 ('lonely') has no question", [("a?", "b")]),
    "two answers": ("Q: a?\nA: b\nA: again", "line 3 ('again') has no question", [("a?", "b")]),
    "empty answer": ("Q: a?\nA:\nQ: c?\nA: d", "the answer on line 2 is empty", [("c?", "d")]),
    "empty question": ("Q:\nA: b\nQ: c?\nA: d", "the question on line 1 is empty", [("c?", "d")]),
}


@pytest.mark.parametrize(("text", "message", "lenient"), QA_INCOMPLETE.values(), ids=QA_INCOMPLETE.keys())
def test_parse_qa_pairs_incomplete(text: str, message: str, lenient: list[tuple[str, str]]) -> None:
    with pytest.raises(ResponseParseError) as info:
        parse_qa_pairs(text)
    assert message in str(info.value)
    assert "strict=False" in str(info.value)
    assert info.value.raw == text
    assert parse_qa_pairs(text, strict=False) == lenient


@pytest.mark.parametrize("text", ["", "No questions here, sorry.", "Q: only a question?"])
def test_parse_qa_pairs_none(text: str) -> None:
    with pytest.raises(ResponseParseError) as info:
        parse_qa_pairs(text, strict=False)
    assert info.value.raw == text


# ------------------------------------------------------------------------------------------------ helpers
def test_strip_code_fences_and_blocks() -> None:
    assert strip_code_fences('Sure!\n```json\n{"a": 1}\n```\nMore?') == '{"a": 1}'
    assert strip_code_fences("  no fences  ") == "no fences"
    assert strip_code_fences("```python\nprint(1)") == "print(1)"  # truncated: runs to the end
    assert strip_code_fences("````\n```\ninner\n```\n````") == "```\ninner\n```"
    text = "```python\na = 1\n```\ntext\n```json\n{}\n```\n```\nplain\n```"
    assert code_blocks(text) == ["a = 1", "{}", "plain"]
    assert code_blocks(text, language="JSON") == ["{}"]
    assert code_blocks(text, language="") == ["plain"]
    assert code_blocks("inline ```code``` only") == []


def test_first_line() -> None:
    assert first_line("\n\n  Title here  \nbody") == "Title here"
    assert first_line("   \n") == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes", True),
        ("yes, it is", True),
        ("YES.", True),
        ("**Yes** - because", True),
        ('"No," he said', False),
        ("> No.", False),
        ("  - no", False),
        ("No\nbecause", False),
        ("Not sure", None),
        ("Nope", None),
        ("Yesterday", None),
        ("No-one knows", None),
        ("Answer: Yes", None),
        ("", None),
        ("Maybe", None),
    ],
)
def test_starts_with_yes_no(text: str, expected: bool | None) -> None:
    assert starts_with_yes_no(text) is expected


def test_remove_prefix() -> None:
    prefixes = ["Here is the paraphrased text:", "Paraphrase:", "Here is"]
    assert remove_prefix("Here is the paraphrased text: The cat sat.", prefixes) == "The cat sat."
    assert remove_prefix("  here is  the\nparaphrased TEXT:\n\nThe cat sat.", prefixes) == "The cat sat."
    assert remove_prefix("**Here is the paraphrased text:** The cat sat.", prefixes) == "The cat sat."
    assert remove_prefix("Here is a cat.", prefixes) == "a cat."  # the longest matching prefix wins, once
    assert remove_prefix("Paraphrased by me", ["Paraphrase"]) == "Paraphrased by me"
    assert remove_prefix("  The cat sat.  ", prefixes) == "The cat sat."
    assert remove_prefix("Paraphrase: x", "Paraphrase:") == "x"  # one prefix as a plain string


def test_clean_item() -> None:
    assert clean_item('  **"Quantum computing"**  ') == "Quantum computing"
    assert clean_item("***both***") == "both"
    assert clean_item("*one* or *two*") == "*one* or *two*"
    assert clean_item("__init__") == "__init__"
    assert clean_item("'quoted'") == "quoted"
    assert clean_item('""') == '""'
