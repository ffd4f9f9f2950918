"""Self-Instruct on the 175 real seed tasks against a loopback FakeLLMServer: filters, ROUGE-L novelty, stages."""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from collections import Counter
from pathlib import Path

import pytest
from data_paths import SEED_TASKS
from rouge_score import rouge_scorer

from curator_synth.clients import AsyncOpenAIClient, OpenAIClient
from curator_synth.errors import ConfigError, ResponseParseError
from curator_synth.generators.self_instruct import (
    BLACKLIST,
    AsyncSelfInstruct,
    Instance,
    RougeLIndex,
    SeedTask,
    SelfInstruct,
    SelfInstructResult,
    load_seed_tasks,
    normalize_instruction,
    parse_instances,
    parse_labelled_instances,
    passes_filters,
    rouge_l,
    rouge_tokens,
)
from curator_synth.prompts import PROMPTS, PromptTemplate
from curator_synth.prompts.self_instruct import GENERATE_TASKS
from curator_synth.testing import FakeLLMServer, FakeRequest, Faults

REFERENCE = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


@pytest.fixture(scope="module")
def seeds() -> list[SeedTask]:
    return load_seed_tasks(SEED_TASKS)


def reference_rouge(a: str, b: str) -> float:
    return float(REFERENCE.score(a, b)["rougeL"].fmeasure)


# ---------------------------------------------------------------------------------------- scripted model
_LISTED = re.compile(r"^\d+\. (.*)$", re.M)
_VERBS = ["Describe", "Explain", "Summarize", "Compare", "Suggest", "List", "Classify", "Translate", "Rewrite"]


class TaskServer:
    """Answers every Self-Instruct prompt deterministically from the prompt alone (not from arrival order).

    Task lists mix novel tasks (words drawn from a large vocabulary) with a near-duplicate of a listed task,
    a verbatim repeat of one, and blacklisted, too long, too short, "Write a program" and non-ASCII tasks.
    """

    def __init__(self, vocabulary: list[str]) -> None:
        self.vocabulary = vocabulary

    def __call__(self, request: FakeRequest) -> str:
        prompt = request.prompt
        if prompt.startswith("Come up with a series of tasks"):
            return self.tasks(prompt)
        instruction = prompt.rsplit("Task: ", 1)[-1]
        if "Is it classification?" in prompt:
            if "riddle" in instruction:
                return "Maybe, it depends."  # unparseable: reported, the record stays
            return "Yes." if instruction.startswith("Classify") else "No"
        if prompt.startswith("The task below is a classification task"):
            return "Class label: Relevant\nInput: a first text\nClass label: Irrelevant\nInput: another text"
        return f"Example 1\nInput: some input for {instruction[:20]}\nOutput: an output\n\nExample 2\nOutput: more"

    def tasks(self, prompt: str) -> str:
        digest = int(hashlib.sha256(prompt.encode()).hexdigest()[:12], 16)
        rng = random.Random(digest)
        listed = _LISTED.findall(prompt)
        assert len(listed) == 8, prompt
        start = int(re.search(r"numbered from (\d+)", prompt).group(1))  # type: ignore[union-attr]
        words = self.vocabulary
        novel = [f"{rng.choice(_VERBS)} " + " ".join(rng.sample(words, rng.randint(6, 14))) for _ in range(4)]
        if digest % 3 == 0:
            novel[0] = "Classify " + novel[0].split(" ", 1)[1]
        if digest % 7 == 0:
            novel[1] = "Solve the riddle " + novel[1].split(" ", 1)[1]
        items = [
            *novel,
            listed[rng.randrange(8)].rstrip(".?!") + " please",  # near-duplicate of a pool task
            listed[rng.randrange(8)],  # verbatim repeat
            f"Draw a picture of a {rng.choice(words)} at sunset.",
            "Explain " + " ".join(rng.choice(words) for _ in range(160)),
            "Be brief.",
            "Write a program that prints the first ten primes.",
            "Écris un poème sur la mer et le vent du soir.",
        ]
        rng.shuffle(items)
        return "\n".join(f"{start + i}. {item}" for i, item in enumerate(items))


@pytest.fixture(scope="module")
def vocabulary(seeds: list[SeedTask]) -> list[str]:
    words = {w for task in seeds for w in rouge_tokens(task.instruction) if len(w) > 3}
    words |= {w for task in seeds for i in task.instances for w in rouge_tokens(i.output) if len(w) > 3}
    return sorted(words)


async def bootstrap(server: FakeLLMServer, seeds: list[SeedTask], **options: object) -> SelfInstructResult:
    async with AsyncOpenAIClient(base_url=server.base_url, max_retries=0) as client:
        return await AsyncSelfInstruct(client, "fake-model").generate(seeds, **options)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- acceptance
async def test_bootstrap_on_the_175_real_seeds_keeps_only_novel_instructions(
    seeds: list[SeedTask], vocabulary: list[str]
) -> None:
    assert len(seeds) == 175
    with FakeLLMServer(TaskServer(vocabulary)) as server:
        result = await bootstrap(server, seeds, num_instructions=120, seed=3)
    assert len(result.instructions) == 120
    counts = result.discard_counts()
    expected = {"too_similar", "blacklisted", "too_long", "too_short", "write_a_program", "starts_with_non_ascii"}
    assert counts.keys() >= expected, counts
    assert all(d.instruction is not None for d in result.discarded)

    # the paper's novelty rule, checked independently with rouge-score: <= 0.7 against the pool at the time
    pool = [normalize_instruction(task.instruction) for task in seeds]
    for record in result.instructions:
        reference = sorted((reference_rouge(record.instruction, other) for other in pool), reverse=True)
        assert reference[0] <= 0.7, record.instruction
        assert [score for _, score in record.most_similar] == pytest.approx(reference[:10], abs=1e-4)
        assert all(text in pool for text, _ in record.most_similar)
        assert passes_filters(record.instruction) == (True, "")
        pool.append(record.instruction)
    for discard in result.discarded:
        if discard.reason == "too_similar":
            assert "ROUGE-L" in discard.detail

    # lineage: each record names the 8 pool tasks of its prompt (6 human and 2 machine once there are two)
    seed_ids = {task.id for task in seeds}
    kept_ids = [record.id for record in result.instructions]
    assert len(set(kept_ids)) == len(kept_ids)
    for record in result.instructions:
        parents = record.provenance["parents"]
        assert len(parents) == 8
        assert record.provenance["template"] == GENERATE_TASKS.id
        machine_parents = [p for p in parents if p not in seed_ids]
        assert set(machine_parents) <= set(kept_ids)
        if record.step > 0:
            assert len(machine_parents) == 2
    # stages: classification then instances (output-first for classification tasks)
    classified = Counter(record.is_classification for record in result.instructions)
    assert classified[True]
    assert classified[False]
    riddles = [r for r in result.instructions if r.instruction.startswith("Solve the riddle")]
    assert riddles
    assert all(r.is_classification is None for r in riddles)
    assert {f.record_id for f in result.failures} == {r.id for r in riddles}
    assert all(f.stage == "classify" and "neither Yes nor No" in f.reason for f in result.failures)
    for record in result.instructions:
        if record.is_classification:
            assert [i.output for i in record.instances] == ["Relevant", "Irrelevant"]
            assert record.provenance["instances_with"] == "self_instruct.output_first@1"
        else:
            assert record.instances[1] == Instance("", "more")
            assert record.provenance["instances_with"] == "self_instruct.input_first@1"


async def test_same_seed_same_run(seeds: list[SeedTask], vocabulary: list[str]) -> None:
    with FakeLLMServer(TaskServer(vocabulary)) as server:
        first = await bootstrap(server, seeds, num_instructions=15, seed=5, classify=False, instances=False)
    with FakeLLMServer(TaskServer(vocabulary)) as server:
        again = await bootstrap(server, seeds, num_instructions=15, seed=5, classify=False, instances=False)
    assert [r.instruction for r in first.instructions] == [r.instruction for r in again.instructions]
    assert [r.provenance["parents"] for r in first.instructions] == [
        r.provenance["parents"] for r in again.instructions
    ]


async def test_fewer_seeds_than_a_prompt_holds_still_bootstraps(seeds: list[SeedTask]) -> None:
    """7 seeds, prompts of 6 human + 2 machine tasks: the first prompts show the 7 seeds (no ValueError)."""
    from curator_synth.testing import Plausible

    with FakeLLMServer(Plausible()) as server:
        result = await bootstrap(server, seeds[:7], num_instructions=6, seed=1, classify=False, instances=False)
    assert len(result.instructions) >= 6
    assert all(len(r.provenance["parents"]) <= 8 for r in result.instructions)


# ------------------------------------------------------------------------------------------ filters alone
def test_filters_on_real_seed_text(seeds: list[SeedTask]) -> None:
    verdicts = {task.id: passes_filters(normalize_instruction(task.instruction)) for task in seeds}
    failing = {task_id: why for task_id, (ok, why) in verdicts.items() if not ok}
    by_text = {task.id: task.instruction for task in seeds}
    assert failing == {
        next(i for i, t in by_text.items() if t == "Explain human's behavior."): "too_short",
        next(i for i, t in by_text.items() if t == "Complete the lyrics."): "too_short",
        next(i for i, t in by_text.items() if t.startswith("Write a program to compute")): "write_a_program",
    }
    # variants crafted from real seeds
    text = by_text["seed_task_1"]  # "What is the relation between the given pairs?"
    assert passes_filters(text) == (True, "")
    assert passes_filters(text.replace("pairs", "images")) == (False, "blacklisted:images")
    assert passes_filters(text + " Go to the library first.") == (False, "blacklisted:go to")
    assert passes_filters(text.replace("given", "mapped")) == (True, "")  # whole words only: "mapped" is fine
    assert passes_filters("- " + text) == (False, "starts_with_punctuation")
    assert passes_filters("¿" + text) == (False, "starts_with_non_ascii")
    assert passes_filters(" ".join([text] * 20)) == (False, "too_long")
    assert passes_filters("write a program " + text.lower()) == (False, "write_a_program")
    for word in BLACKLIST:
        assert passes_filters(f"Please find the {word} in the text below.")[1] == f"blacklisted:{word}"
    assert passes_filters("Summarize the Mapping section below.")[0]  # case-insensitive, whole words
    assert passes_filters("One two three four") == (True, "")
    assert passes_filters("One two three", min_words=3) == (True, "")
    assert normalize_instruction("  classify   the\n text:  ") == "Classify the text"


def test_load_seed_tasks_reads_the_real_format(seeds: list[SeedTask], tmp_path: Path) -> None:
    first = seeds[0]
    assert first.id == "seed_task_0"
    assert first.name == "breakfast_suggestion"
    assert first.instances
    assert first.instances[0].input == ""
    assert first.instances[0].output
    assert sum(bool(task.is_classification) for task in seeds) == 26
    broken = tmp_path / "seeds.jsonl"
    broken.write_text(json.dumps({"id": "a", "instruction": "ok"}) + "\n\n{not json\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"seeds.jsonl:3"):
        load_seed_tasks(broken)


def test_instance_parsers() -> None:
    answer = (
        "Example 1\nInput: 25 C\nOutput: 77 F\nExample 2\n**Input:** -10 C\n**Output:** 14 F\n\nExample 3\nOutput: x"
    )
    assert parse_instances(answer) == [Instance("25 C", "77 F"), Instance("-10 C", "14 F"), Instance("", "x")]
    multi = "Input: a poem\nwith two lines\nOutput: first\nsecond\nInput: b\nOutput: c\nOutput: d"
    assert parse_instances(multi) == [
        Instance("a poem\nwith two lines", "first\nsecond"),
        Instance("b", "c"),
        Instance("", "d"),
    ]
    assert parse_instances("Example 1: Input: 2+2\nOutput: 4\nExample 2: Output: 5") == [
        Instance("2+2", "4"),
        Instance("", "5"),
    ]
    assert parse_instances("Input: same\nOutput: same\nInput: q\nOutput: r\nInput: q\nOutput: r") == [
        Instance("q", "r")
    ]
    labelled = "Class label: Yes\nInput: 13\nClass label: No\nInput: 21\nClass label: Unsure"
    assert parse_labelled_instances(labelled) == [Instance("13", "Yes"), Instance("21", "No"), Instance("", "Unsure")]
    with pytest.raises(ResponseParseError):
        parse_instances("I cannot think of any examples.")
    with pytest.raises(ResponseParseError):
        parse_labelled_instances("Input: orphan input")


# ----------------------------------------------------------------------------------------------- ROUGE-L
def test_rouge_l_matches_rouge_score_on_real_text(seeds: list[SeedTask]) -> None:
    texts = [task.instruction for task in seeds] + ["", "!!!", "Café crème, s'il vous plaît", "a a a b"]
    index = RougeLIndex(texts)
    rng = random.Random(0)
    queries = [*rng.sample(texts, 30), "the the of", "Naïve question about the given pairs?", ""]
    for query in queries:
        assert index.scores(query) == pytest.approx([reference_rouge(query, t) for t in texts], abs=1e-12)
    assert rouge_l("the cat sat", "the cat sat on the mat") == pytest.approx(2 * 3 / 9)
    assert len(index) == len(texts)


def test_rouge_l_index_is_fast_and_exact_on_a_large_pool(vocabulary: list[str]) -> None:
    rng = random.Random(1)
    pool = [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(4, 40))) for _ in range(3000)]
    started = time.perf_counter()
    index = RougeLIndex(pool)
    queries = pool[:200]
    all_scores = [index.scores(query) for query in queries]
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0, f"3000-text pool, 200 queries took {elapsed:.2f} s"
    for query, scores in zip(queries[:3], all_scores, strict=False):
        assert scores == pytest.approx([reference_rouge(query, t) for t in pool], abs=1e-12)
    assert all(scores[i] == 1.0 for i, scores in enumerate(all_scores))


# -------------------------------------------------------------------------------------- failures and twin
async def test_failed_and_truncated_answers_are_reported_not_fatal(
    seeds: list[SeedTask], vocabulary: list[str]
) -> None:
    faults = Faults(script=["500", "truncate"])
    with FakeLLMServer(TaskServer(vocabulary), faults=faults) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, max_retries=0, on_truncated="raise") as client:
            generator = AsyncSelfInstruct(client, "fake-model", max_pending=1)
            result = await generator.bootstrap(seeds, 10, batch_size=3, max_steps=4)
    whole = [d for d in result.discarded if d.instruction is None]
    assert [(d.step, d.request_index, d.reason) for d in whole] == [(0, 0, "request_failed"), (0, 1, "truncated")]
    assert "ServerError" in whole[0].detail
    assert "TruncatedResponseError" in whole[1].detail
    assert len(result.instructions) == 10
    assert result.steps <= 4


async def test_stage_failures_keep_the_records(seeds: list[SeedTask], vocabulary: list[str]) -> None:
    with FakeLLMServer(TaskServer(vocabulary)) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, max_retries=0) as client:
            generator = AsyncSelfInstruct(client, "fake-model")
            result = await generator.bootstrap(seeds, 4, batch_size=1)
            server.set_faults(Faults(server_error=1.0))
            await generator.identify_classification(result)
            await generator.generate_instances(result)
    assert len(result.instructions) == 4
    assert [f.stage for f in result.failures] == ["classify"] * 4 + ["instances"] * 4
    assert all(r.is_classification is None and r.instances == [] for r in result.instructions)


def test_max_steps_and_bad_arguments(seeds: list[SeedTask]) -> None:
    with (
        FakeLLMServer(lambda request: "No list here at all.") as server,
        OpenAIClient(base_url=server.base_url) as client,
    ):
        generator = SelfInstruct(client, "fake-model")
        result = generator.bootstrap(seeds, 5, max_steps=2, batch_size=2)
        assert result.steps == 2
        assert result.instructions == []
        assert result.discard_counts() == {"unparseable": 4}
        with pytest.raises(ConfigError, match="num_human"):
            generator.bootstrap(["only one seed task here"], 5)
        with pytest.raises(ConfigError, match="pass model="):
            SelfInstruct(client).bootstrap(seeds, 5)


def test_sync_twin(seeds: list[SeedTask], vocabulary: list[str]) -> None:
    with FakeLLMServer(TaskServer(vocabulary)) as server, OpenAIClient(base_url=server.base_url) as client:
        generator = SelfInstruct(client, "fake-model")
        result = generator.generate(seeds[:20], 6, batch_size=2, seed=1)
    assert len(result.instructions) == 6
    assert all(record.instances for record in result.instructions if record.is_classification is not None)
    assert getattr(SelfInstruct, "generate").__doc__ == AsyncSelfInstruct.generate.__doc__  # noqa: B009 (a generated class)


# --------------------------------------------------------------------------------------------- templates
SELF_INSTRUCT_TEMPLATES = [PROMPTS.get(name) for name in PROMPTS.names() if name.startswith("self_instruct.")]


def test_the_four_templates_are_registered() -> None:
    assert {t.id for t in SELF_INSTRUCT_TEMPLATES} == {
        "self_instruct.generate_tasks",
        "self_instruct.is_classification",
        "self_instruct.input_first",
        "self_instruct.output_first",
    }


@pytest.mark.parametrize("template", SELF_INSTRUCT_TEMPLATES, ids=lambda t: t.id)
def test_templates_fill_without_stray_braces(template: PromptTemplate) -> None:
    assert template.version >= 1
    assert template.description
    filled = template.format(**{name: f"<{name}>" for name in template.fields})
    assert "{" not in filled
    assert "}" not in filled
    assert all(f"<{name}>" in filled for name in template.fields)


def test_few_shot_examples_parse_with_our_own_parsers() -> None:
    """The formats the templates demonstrate are the formats the generator parses."""
    input_first = PROMPTS.get("self_instruct.input_first").text
    demo = input_first.split("Two tasks done this way:")[1].split("Task: {instruction}")[0]
    assert Instance("25 °C", "77 °F") in parse_instances(demo)
    output_first = PROMPTS.get("self_instruct.output_first").text
    demo = output_first.split("Two tasks done this way:")[1].split("Task: {instruction}")[0]
    assert Instance("13", "Yes") in parse_labelled_instances(demo)
