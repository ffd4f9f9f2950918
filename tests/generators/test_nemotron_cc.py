"""Nemotron-CC rephrasing against FakeLLMServer over real sockets, on real passages of the T0 sample: every
method (async and blocking), every post-processor and its rejections, long documents split, rewritten and
joined in order, fan-out with per-document failure reports; the templates; the documentation examples."""

from __future__ import annotations

import json
import random
import re
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from data_paths import T0_SAMPLE

from curator_synth.clients import AsyncOpenAIClient, Journal, OpenAIClient
from curator_synth.errors import BadRequestError, ConfigError, ResponseParseError
from curator_synth.generators.nemotron_cc import (
    NEMOTRON_CC_METHODS,
    AsyncNemotronCCGenerator,
    DocumentFailure,
    NemotronCCGenerator,
)
from curator_synth.generators.nemotron_cc_post import (
    approx_tokens,
    clean_knowledge_list,
    format_qa_pairs,
    join_chunks,
    postprocess_distill,
    postprocess_diverse_qa,
    postprocess_extract_knowledge,
    postprocess_wikipedia,
    remove_markdown,
    remove_quotes,
    require_prefix,
    sample_qa_pairs,
    split_document,
)
from curator_synth.prompts import PROMPTS, PromptTemplate
from curator_synth.prompts import nemotron_cc as prompts
from curator_synth.records import record_id
from curator_synth.testing import FakeLLMServer, FakeRequest

# file → how to cut the passage out of a T0 prompt
PASSAGE_SOURCES: dict[str, Callable[[str], str]] = {
    "quoref_Found_Context_Online.jsonl": lambda prompt: prompt.split("\n\n", 1)[1],
    "adversarial_qa_dbert_based_on.jsonl": lambda prompt: prompt.split("\nContext: ", 1)[1],
}


@pytest.fixture(scope="module")
def passages() -> list[str]:
    """Distinct real passages (Wikipedia-like prose from quoref and adversarial_qa), in file order."""
    found: dict[str, None] = {}
    for name, cut in PASSAGE_SOURCES.items():
        for line in (T0_SAMPLE / name).read_text(encoding="utf-8").splitlines():
            found.setdefault(cut(json.loads(line)["prompt"]).strip(), None)
    texts = [text for text in found if "\n\nTask:" not in text]
    assert len(texts) >= 20, f"expected at least 20 distinct passages in {T0_SAMPLE}"
    return texts


# ------------------------------------------------------------------------------------------ the fake model
def document_of(prompt: str) -> str:
    match = re.search(r"Text:\s*(.*?)(?:\n\nTask:|$)", prompt, re.S)
    assert match, prompt[:200]
    return match.group(1).strip()


def sentences_of(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s]


class CCModel:
    """Follows the Nemotron-CC templates; ``no_lead_in``/``refuse`` name substrings of documents it gets wrong
    (answer without the lead-in / the responder fails, so the server answers 400)."""

    def __init__(self, no_lead_in: tuple[str, ...] = (), refuse: tuple[str, ...] = ()) -> None:
        self.no_lead_in = no_lead_in
        self.refuse = refuse
        self.requests: list[FakeRequest] = []

    def __call__(self, request: FakeRequest) -> str:
        self.requests.append(request)
        prompt = request.prompt
        document = document_of(prompt)
        if any(marker in document for marker in self.refuse):
            raise RuntimeError("refused")
        lead_in = not any(marker in document for marker in self.no_lead_in)
        if prompt.startswith("Paraphrase the paragraph"):
            return f"Here is a paraphrased text:\n**W**: {document}" if lead_in else f"W: {document}"
        if prompt.startswith("Task: read the text below"):
            pairs = [
                f"- Question: What does sentence {i} say? Answer: {s}" for i, s in enumerate(sentences_of(document))
            ]
            return prompts.DIVERSE_QA_PREFIX + "\n" + "\n".join(pairs[:8])
        if prompt.startswith("Your task is to paraphrase"):
            return f"Paraphrased Text: D: {document}" if lead_in else f"D: {document}"
        if prompt.startswith("Your task is to rewrite the knowledge"):
            return f"Passage 1:\nK: {document}"
        assert prompt.startswith("Go through the text below"), prompt[:80]
        return "Here are the facts:\n" + "\n".join(f"- {squash(s)}" for s in sentences_of(document)) + "\n- ok"


def expected_rewrite(text: str, prefix: str, max_tokens: int | None = 512) -> str:
    chunks = split_document(text, max_tokens) if max_tokens else [text.strip()]
    return join_chunks([prefix + chunk for chunk in chunks])


def squash(text: str) -> str:
    return " ".join(text.split())


# ------------------------------------------------------------------------------------------- the methods
METHOD_CALLS = [(name, spec.call, spec.template) for name, spec in NEMOTRON_CC_METHODS.items()]


@pytest.mark.parametrize(("name", "call", "template"), METHOD_CALLS, ids=[m[0] for m in METHOD_CALLS])
async def test_every_method_sends_its_template_and_returns_the_raw_answers(
    name: str, call: str, template: PromptTemplate, passages: list[str], tmp_path: Path
) -> None:
    model = CCModel()
    document = passages[0]
    with FakeLLMServer(model) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, cache_dir=tmp_path) as client:
            generator = AsyncNemotronCCGenerator(client, "m", params={"temperature": 0.4})
            answers = await getattr(generator, call)(document)
            two = await getattr(generator, call)(document, model_kwargs={"n": 2, "temperature": 0.9})
    assert len(answers) == 1
    assert len(two) == 2
    assert document in answers[0] or name in ("diverse_qa", "knowledge_list")
    request = model.requests[0]
    system = prompts.NEMOTRON_CC_DISTILL_SYSTEM_PROMPT if name == "distill" else prompts.NEMOTRON_CC_SYSTEM_PROMPT
    assert request.messages == template.messages(document=document)
    assert request.messages[0] == {"role": "system", "content": system}
    assert request.body["temperature"] == 0.4
    assert model.requests[1].body["temperature"] == 0.9
    assert {record.namespace for record in Journal.read(tmp_path)} == {template.namespace}


@pytest.mark.parametrize(("name", "call", "template"), METHOD_CALLS, ids=[m[0] for m in METHOD_CALLS])
def test_every_method_of_the_blocking_class(
    name: str, call: str, template: PromptTemplate, passages: list[str]
) -> None:
    model = CCModel()
    with FakeLLMServer(model) as server, OpenAIClient(base_url=server.base_url) as client:
        generator = NemotronCCGenerator(client, "m")
        [answer] = getattr(generator, call)(passages[1])
    assert model.requests[0].messages == template.messages(document=passages[1])
    assert answer == CCModel()(model.requests[0])
    assert getattr(NemotronCCGenerator, call).__doc__ == getattr(AsyncNemotronCCGenerator, call).__doc__


def test_custom_templates_and_system_prompts(passages: list[str]) -> None:
    model = CCModel()
    with FakeLLMServer(model) as server, OpenAIClient(base_url=server.base_url) as client:
        generator = NemotronCCGenerator(client, "m")
        generator.rewrite_to_wikipedia_style("Text: a b c.", system_prompt="Answer as {json}, {{always}}.")
        generator.extract_knowledge(
            "x y.",
            prompt_template="Your task is to rewrite the knowledge of the {kind}. Text: {document}",
            prompt_kwargs={"kind": "essay"},
        )
        generator.distill("p q.", prompt_template="Your task is to paraphrase. Text: {document}")
        with pytest.raises(ConfigError, match=r"no \{document\} placeholder"):
            generator.distill("p", prompt_template="Summarise {text}")
        with pytest.raises(ConfigError, match="pass model="):
            NemotronCCGenerator(client).distill("p")
    first, second, third = (request.messages for request in model.requests)
    assert first[0]["content"] == "Answer as {json}, {{always}}."  # sent as written
    assert second == [
        {"role": "system", "content": prompts.NEMOTRON_CC_SYSTEM_PROMPT},  # a plain string gets the default
        {"role": "user", "content": "Your task is to rewrite the knowledge of the essay. Text: x y."},
    ]
    assert third[0]["content"] == prompts.NEMOTRON_CC_DISTILL_SYSTEM_PROMPT


# --------------------------------------------------------------------------------------- post-processors
def test_require_prefix() -> None:
    assert require_prefix("Here is a paraphrased text:\nBody.", prompts.WIKIPEDIA_PREFIX) == "Body."
    assert require_prefix("  **HERE IS A PARAPHRASED   TEXT:** Body.", prompts.WIKIPEDIA_PREFIX) == "Body."
    assert require_prefix("Paraphrase: x", ["Paraphrased Text:", "Paraphrase:"]) == "x"
    with pytest.raises(
        ResponseParseError, match=r"does not start with 'Here is a paraphrased text:' \(it starts 'Sure"
    ) as info:
        require_prefix("Sure! Here is a paraphrased text: Body.", prompts.WIKIPEDIA_PREFIX)
    assert info.value.raw == "Sure! Here is a paraphrased text: Body."
    with pytest.raises(ResponseParseError, match="nothing follows the lead-in"):
        require_prefix("Paraphrased Text:   \n", prompts.DISTILL_PREFIX)


def test_remove_markdown_and_quotes() -> None:
    answer = (
        "# Title\n\n## Sub heading\n**Bold**, *italic*, ***both***, __strong__ and `code` with a "
        "[link](https://x.org) and ![alt text](img.png).\n\n---\n> quoted line\n```\nprint(1)\n```\n\n\n\n"
        "- a bullet stays\n2 * 3 * 4 and snake_case_name and _single_ stay."
    )
    assert remove_markdown(answer) == (
        "Title\n\nSub heading\nBold, italic, both, strong and code with a link and alt text.\n\nquoted line\n"
        "print(1)\n\n- a bullet stays\n2 * 3 * 4 and snake_case_name and _single_ stay."
    )
    assert (
        remove_quotes('\u201cThe whole rewrite, with "inner" quotes.\u201d')
        == 'The whole rewrite, with "inner" quotes.'
    )
    assert remove_quotes('"A" and "B"') == '"A" and "B"'  # not one quotation around the whole


def test_wikipedia_and_distill_postprocessors(passages: list[str]) -> None:
    text = passages[2]
    assert postprocess_wikipedia(f"Here is a paraphrased text:\n\n\u201c**{text}**\u201d") == text
    assert postprocess_distill(f"**Paraphrased Text:** {text}") == text
    with pytest.raises(ResponseParseError, match="does not start with 'Paraphrased Text:'"):
        postprocess_distill(f"Here is a paraphrased text: {text}")
    with pytest.raises(ResponseParseError, match="does not start with 'Here is a paraphrased text:'"):
        postprocess_wikipedia(text)
    with pytest.raises(ResponseParseError, match="rephrasing is empty after clean-up"):
        postprocess_wikipedia("Here is a paraphrased text:\n---\n# \n")


def test_extract_knowledge_postprocessor() -> None:
    answer = "**Passage 1:**\nThe cone is *young*.\n\nPASSAGE 2\nIt erupted 7,200 years ago.\nPassage: none"
    assert postprocess_extract_knowledge(answer) == "The cone is young.\n\nIt erupted 7,200 years ago.\nPassage: none"
    with pytest.raises(ResponseParseError, match="extracted knowledge is empty") as info:
        postprocess_extract_knowledge("Passage 1:\n\n")
    assert info.value.raw == "Passage 1:\n\n"


def test_clean_knowledge_list() -> None:
    answer = (
        "Here is the list of key facts:\n\n"
        "- **George Berkeley** (1685\u20131753) was an Irish Anglican bishop.\n"
        "  - He published the *Treatise* in 1710.\n"
        "* Subjective idealism: things exist only when perceived.\n"
        "- ok\n"
        "- \n"
        "\u2022 Berkeley wrote Alciphron as a dialogue.\n\n"
        "I hope this helps!"
    )
    assert clean_knowledge_list(answer) == (
        "George Berkeley (1685\u20131753) was an Irish Anglican bishop.\n"
        "He published the Treatise in 1710.\n"
        "Subjective idealism: things exist only when perceived.\n"
        "Berkeley wrote Alciphron as a dialogue."
    )
    assert (
        clean_knowledge_list("1. One fact here.\n2. Two\n3. Three facts here.") == "One fact here.\nThree facts here."
    )
    assert clean_knowledge_list("- a\n- b", min_words=0) == "a\nb"
    with pytest.raises(ResponseParseError, match="no item of the knowledge list has 3 words"):
        clean_knowledge_list("- ok\n- fine")
    with pytest.raises(ResponseParseError):  # no list at all: parse_list says why
        clean_knowledge_list("Berkeley was a bishop. He wrote books.")
    with pytest.raises(ConfigError):
        clean_knowledge_list("- a b c", min_words=-1)


QA_ANSWER = (
    prompts.DIVERSE_QA_PREFIX
    + "\n"
    + "\n".join(f"- Question: Q{i}? Answer: **A{i}**." for i in range(1, 9))
    + "\n- Question: dangling with no answer"
)


def test_qa_sampling_is_seeded_and_sized_by_document_length(passages: list[str]) -> None:
    short = "One sentence only."  # 5 tokens: always one pair
    assert all(len(sample_qa_pairs(QA_ANSWER, short, rng=seed)) == 1 for seed in range(20))
    long = " ".join(passages[:4])
    upper = min(8, approx_tokens(long) // 150)
    assert upper >= 3
    sizes = {len(sample_qa_pairs(QA_ANSWER, long, rng=seed)) for seed in range(60)}
    assert sizes == set(range(1, upper + 1))  # uniform from 1 to the length-based bound
    assert sample_qa_pairs(QA_ANSWER, long, rng=5) == sample_qa_pairs(QA_ANSWER, long, rng=random.Random(5))
    for seed in range(20):
        pairs = sample_qa_pairs(QA_ANSWER, long, rng=seed, max_pairs=2)
        assert 1 <= len(pairs) <= 2
        numbers = [int(q[1:-1]) for q, _ in pairs]
        assert numbers == sorted(numbers)  # the answer's order is kept
        assert all(
            a == f"A{n}." for n, (_, a) in zip(numbers, pairs, strict=True)
        )  # markdown removed, dangling pair skipped
    words = sample_qa_pairs(
        QA_ANSWER, "w " * 450, rng=0, count_tokens=lambda text: len(text.split()), tokens_per_pair=50
    )
    assert 1 <= len(words) <= 8
    with pytest.raises(ResponseParseError, match="no Question/Answer pairs"):
        sample_qa_pairs("I cannot write questions about this.", long)
    with pytest.raises(ConfigError):
        sample_qa_pairs(QA_ANSWER, long, tokens_per_pair=0)
    with pytest.raises(ConfigError):
        sample_qa_pairs(QA_ANSWER, long, max_pairs=0)


def test_diverse_qa_postprocessor_appends_the_pairs_to_the_document(passages: list[str]) -> None:
    text = passages[3]
    out = postprocess_diverse_qa(QA_ANSWER, text, rng=2)
    document, _, pairs = out.partition("\n\nQuestion: ")
    assert document == text.strip()
    assert ("Question: " + pairs).startswith(format_qa_pairs(sample_qa_pairs(QA_ANSWER, text, rng=2))[:20])
    assert postprocess_diverse_qa(QA_ANSWER, text, rng=2, include_document=False) == format_qa_pairs(
        sample_qa_pairs(QA_ANSWER, text, rng=2)
    )
    assert format_qa_pairs([("Q?", "A."), ("R?", "B.")]) == "Question: Q?\nAnswer: A.\n\nQuestion: R?\nAnswer: B."


# ---------------------------------------------------------------------------------------- long documents
def test_approx_tokens() -> None:
    assert approx_tokens("") == 0
    assert approx_tokens("a b c d e") == 5  # words beat chars / 4 (9 chars)
    assert approx_tokens("antidisestablishmentarianism") == 7  # 28 chars / 4 beat one word


@pytest.mark.parametrize("budget", [40, 120, 300, 700])
def test_split_document_respects_the_budget_and_keeps_the_text(passages: list[str], budget: int) -> None:
    text = "\n\n".join(passages[:6])
    chunks = split_document(text, budget)
    assert all(approx_tokens(chunk) <= budget for chunk in chunks)
    assert squash(join_chunks(chunks)) == squash(text)
    fits = [p for p in passages[:6] if approx_tokens(p) <= budget]
    for paragraph in fits:  # a paragraph under the budget is never cut
        assert any(paragraph in chunk for chunk in chunks)


def test_split_document_edges() -> None:
    paragraphs = ["Alpha one. Alpha two.", "Beta one.", "Gamma one. Gamma two. Gamma three."]
    text = "\n\n".join(paragraphs)
    assert split_document(text, 1000) == [text]
    by_words = split_document(text, 5, count_tokens=lambda t: len(t.split()))
    assert by_words == ["Alpha one. Alpha two.", "Beta one.\n\nGamma one.", "Gamma two. Gamma three."]
    assert join_chunks(split_document(text, 12)) == text  # cuts only between paragraphs here
    words = split_document("one two three four five six seven", 3, count_tokens=lambda t: len(t.split()))
    assert words == ["one two three", "four five six", "seven"]
    assert split_document("x" * 100 + " tail", 5) == ["x" * 100, "tail"]  # a word over the budget stands alone
    assert split_document(" \n\n \n", 10) == []
    with pytest.raises(ConfigError):
        split_document(text, 0)


# ------------------------------------------------------------------------------------- process_documents
async def test_process_documents_keeps_the_good_and_reports_the_bad(passages: list[str]) -> None:
    documents = passages[:6]
    model = CCModel(no_lead_in=(documents[1][:40],), refuse=(documents[3][:40],))
    with FakeLLMServer(model, latency=(0.0, 0.02)) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, max_retries=0) as client:
            generator = AsyncNemotronCCGenerator(client, "m", params={"temperature": 0.2})
            result = await generator.process_documents(documents)
    assert [record["source_id"] for record in result.items] == [record_id(documents[i]) for i in (0, 2, 4, 5)]
    for record, index in zip(result.items, (0, 2, 4, 5), strict=True):
        assert record["text"] == expected_rewrite(documents[index], "W: ")
        assert record["method"] == "wikipedia"
        assert record["id"] == record_id("wikipedia", record["source_id"], record["text"])
        provenance = record["provenance"]
        assert provenance["parents"] == [record["source_id"]]
        assert provenance["generator"] == "AsyncNemotronCCGenerator"
        assert provenance["method"] == "rewrite_to_wikipedia_style"
        assert (provenance["template"], provenance["template_version"]) == ("nemotron_cc.wikipedia", 1)
        assert provenance["params"] == {"temperature": 0.2, "n": 1}
        assert provenance["chunks"] == record["chunks"] == len(split_document(documents[index], 512))
    assert [failure.index for failure in result.failures] == [1, 3]
    rejected, refused = result.failures
    assert isinstance(rejected, DocumentFailure)
    assert rejected.input == documents[1]
    assert isinstance(rejected.error, ResponseParseError)
    assert "does not start with 'Here is a paraphrased text:'" in rejected.reason
    assert (rejected.raw or "").startswith("W: ")
    assert isinstance(refused.error, BadRequestError)
    assert "FakeLLMServer responder failed" in refused.reason


def test_long_documents_are_split_rewritten_and_joined_in_order(passages: list[str]) -> None:
    long_text = "\n\n".join(passages[:8])
    chunks = split_document(long_text, 150)
    assert len(chunks) >= 8
    short = passages[9]
    model = CCModel()
    with FakeLLMServer(model, latency=(0.0, 0.03), seed=1) as server, OpenAIClient(base_url=server.base_url) as client:
        generator = NemotronCCGenerator(client, "m")
        result = generator.process_documents([long_text, short], max_chunk_tokens=150)
        assert server.stats()["requests"] == len(chunks) + len(split_document(short, 150))
        distilled = generator.process_documents([long_text], method="distill", max_chunk_tokens=150)
    long_record, short_record = result.items
    assert long_record["chunks"] == len(chunks)
    assert long_record["text"] == join_chunks(["W: " + chunk for chunk in chunks])  # in order, despite jitter
    assert short_record["text"] == expected_rewrite(short, "W: ", 150)
    assert distilled.items[0]["text"] == join_chunks(["D: " + chunk for chunk in chunks])
    assert distilled.items[0]["provenance"]["generator"] == "NemotronCCGenerator"


def test_a_failed_chunk_drops_its_document_and_says_which_chunk(passages: list[str]) -> None:
    long_text = "\n\n".join(passages[:5])
    chunks = split_document(long_text, 200)
    bad = len(chunks) // 2
    model = CCModel(no_lead_in=(chunks[bad][:40],))
    with FakeLLMServer(model) as server, OpenAIClient(base_url=server.base_url) as client:
        result = NemotronCCGenerator(client, "m").process_documents([passages[7], long_text], max_chunk_tokens=200)
    assert [record["source_id"] for record in result.items] == [record_id(passages[7])]
    [failure] = result.failures
    assert isinstance(failure, DocumentFailure)
    assert (failure.index, failure.chunk, failure.chunks) == (1, bad, len(chunks))
    assert failure.reason.startswith(f"chunk {bad + 1}/{len(chunks)}: ResponseParseError: the answer does not start")


def test_process_documents_for_the_high_quality_methods(passages: list[str]) -> None:
    documents = passages[10:13]
    with FakeLLMServer(CCModel(), latency=(0.0, 0.02)) as server, OpenAIClient(base_url=server.base_url) as client:
        generator = NemotronCCGenerator(client, "m")
        runs = {
            method: generator.process_documents(documents, method=method, max_chunk_tokens=None)
            for method in ("diverse_qa", "distill", "extract_knowledge", "knowledge_list")
        }
        again = generator.process_documents(documents, method="diverse_qa", max_chunk_tokens=None)
        raw = generator.process_documents(documents[:1], method="knowledge_list", post_process=False)
    assert all(run.ok and len(run.items) == 3 for run in runs.values())
    for document, qa, distilled, knowledge, facts in zip(documents, *(run.items for run in runs.values()), strict=True):
        assert qa["text"].startswith(document + "\n\nQuestion: ")
        kept = qa["text"].count("\nQuestion: ")
        assert 1 <= kept <= max(1, min(8, len(sentences_of(document)), approx_tokens(document) // 150))
        assert distilled["text"] == "D: " + document
        assert knowledge["text"] == "K: " + document
        assert facts["text"] == "\n".join(squash(s) for s in sentences_of(document) if len(s.split()) >= 3)
        assert facts["provenance"]["method"] == "generate_knowledge_list"
    assert [r["text"] for r in again.items] == [r["text"] for r in runs["diverse_qa"].items]  # seeded per document
    assert raw.items[0]["text"].startswith("Here are the facts:\n- ")
    assert raw.items[0]["provenance"]["post_processed"] is False


def test_document_inputs_ids_and_empty_documents(passages: list[str]) -> None:
    model = CCModel()
    documents: list[Any] = [{"id": "doc-a", "body": passages[0]}, " \n\n ", {"body": passages[1]}]
    with FakeLLMServer(model) as server, OpenAIClient(base_url=server.base_url) as client:
        generator = NemotronCCGenerator(client, "m")
        result = generator.process_documents(iter(documents), text_field="body", max_chunk_tokens=None)
        requests = server.stats()["requests"]
        with pytest.raises(ConfigError, match="method must be one of"):
            generator.process_documents(passages[:1], method="summary")
        with pytest.raises(ConfigError, match="'n'"):
            generator.process_documents(passages[:1], model_kwargs={"n": 2})
        with pytest.raises(ConfigError, match="max_chunk_tokens"):
            generator.process_documents(passages[:1], max_chunk_tokens=0)
        with pytest.raises(ConfigError, match="string under 'text'"):
            generator.process_documents([{"id": 1}])
        with pytest.raises(ConfigError, match="pass model="):
            NemotronCCGenerator(client).process_documents(passages[:1])
        assert server.stats()["requests"] == requests  # nothing sent for any of these
    assert requests == 2
    assert [record["source_id"] for record in result.items] == ["doc-a", record_id(passages[1])]
    [empty] = result.failures
    assert (empty.index, empty.input, empty.chunk) == (1, " \n\n ", None)
    assert isinstance(empty.error, ConfigError)
    assert "is empty" in empty.reason


# --------------------------------------------------------------------------------------------- templates
def _cc_templates() -> list[PromptTemplate]:
    return [PROMPTS.get(name) for name in PROMPTS.names() if name.startswith("nemotron_cc.")]


def test_every_template_is_registered_and_used_by_a_method() -> None:
    constants = {getattr(prompts, name) for name in prompts.__all__ if name.endswith("_TEMPLATE")}
    assert constants == set(_cc_templates())
    assert {spec.template for spec in NEMOTRON_CC_METHODS.values()} == constants
    assert len(constants) == 5


@pytest.mark.parametrize("template", _cc_templates(), ids=lambda t: t.id)
def test_every_template_fills_without_stray_braces(template: PromptTemplate) -> None:
    assert template.fields == {"document"}
    assert template.version >= 1
    assert template.description
    for message in template.messages(document="<document>"):
        assert "{" not in message["content"]
        assert "}" not in message["content"]
    assert "<document>" in template.format(document="<document>")
    for _, placeholder, spec, conversion in string.Formatter().parse(template.text):
        assert placeholder is None or (placeholder == "document" and not spec and not conversion)


def test_templates_ask_for_the_lead_ins_the_postprocessors_check() -> None:
    assert f'"{prompts.WIKIPEDIA_PREFIX}"' in prompts.WIKIPEDIA_REPHRASING_PROMPT_TEMPLATE.text
    assert f'"{prompts.DISTILL_PREFIX}"' in prompts.DISTILL_PROMPT_TEMPLATE.text
    assert prompts.DIVERSE_QA_PREFIX in prompts.DIVERSE_QA_PROMPT_TEMPLATE.text
    assert "at most 8 questions" in prompts.DIVERSE_QA_PROMPT_TEMPLATE.text
    assert prompts.DISTILL_PROMPT_TEMPLATE.system == prompts.NEMOTRON_CC_DISTILL_SYSTEM_PROMPT
    others = set(_cc_templates()) - {prompts.DISTILL_PROMPT_TEMPLATE}
    assert {template.system for template in others} == {prompts.NEMOTRON_CC_SYSTEM_PROMPT}


# ------------------------------------------------------------------------------------------------- docs


def test_the_documentation_examples_run(run_doc: Any) -> None:
    printed = run_doc("generators/nemotron_cc.md", min_blocks=8)
    for line in [
        "Here is a paraphrased text:",
        "2 The Nazko cone is a small volcano in British Columbia.",
        "the answer does not start with 'Here is a paraphrased text:' (it starts 'Sure! The cone is small.')",
        "Bold and italic with a link.",
        "[4, 2, 1, 2, 2, 3, 1, 3]",
        "447 [179, 179, 89]",
        "lava 3 ['lava'] In short: Paragraph 1",
        "True True",
        "3 4",
    ]:
        assert line in printed
