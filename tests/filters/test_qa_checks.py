"""AnswerabilityFilter (an LLM judge on loopback) and EasinessFilter (the packaged offline embedding model) on
(passage, question) pairs: what is kept, the reasons of what is not, and failures that are never taken for a
verdict."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from curator_synth import AsyncOpenAIClient, OpenAIClient
from curator_synth.clients import RetryPolicy
from curator_synth.dataset import DocumentDataset
from curator_synth.errors import ConfigError, ServerError
from curator_synth.filters import ScoreFilter
from curator_synth.filters.qa_checks import AnswerabilityFilter, EasinessFilter, judged_criteria
from curator_synth.testing import FakeLLMServer, FakeRequest, Faults, Fixed, Recording

PASSAGE = "The Danube flows through ten countries, more than any other river in the world, and ends in the Black Sea."
ROWS = pd.DataFrame(
    {
        "id": [1, 2, 3, 4],
        "text": [PASSAGE] * 4,
        "question": [
            "Into which sea does the Danube flow?",
            "What is the population of Vienna?",  # not in the passage: criterion 1 fails
            "How many countries does it flow through?",  # needs the passage: criterion 2 fails
            "Which river crosses the most countries?",  # the judge rambles: no verdict
        ],
    }
)
VERDICTS = {
    "Into which": '```json\n{"criterion_1": "Y", "criterion_2": "Y"}\n```',
    "What is the population": '{"criterion_1": "N", "criterion_2": "Y"}',
    "How many": '{"criterion_1": "Y", "criterion_2": "N"}',
    "Which river": "I would say it is answerable.",
}
FAST = RetryPolicy(max_retries=3, initial_backoff=0.001, max_backoff=0.01)


def judge(request: FakeRequest) -> str:
    asked = request.body["messages"][-1]["content"]
    return next(answer for start, answer in VERDICTS.items() if f"Question:\n{start}" in asked)


def test_the_judge_keeps_answerable_questions_and_says_why_it_drops_the_others() -> None:
    with FakeLLMServer(responder=judge) as server, OpenAIClient(base_url=server.base_url, api_key="k") as client:
        step = ScoreFilter(AnswerabilityFilter(client, "judge"), text_field=("text", "question"), score_field="verdict")
        result = step(DocumentDataset.from_pandas(ROWS, npartitions=2)).persist()
        kept, report = result.compute_with_report()
        assert server.stats()["requests"] == 4  # one per pair; Dask's trial rows asked nothing
    assert kept["id"].tolist() == [1]
    assert json.loads(kept["verdict"].iloc[0].split("\n")[1]) == {"criterion_1": "Y", "criterion_2": "Y"}
    rejected = result.rejected().df.compute().set_index("id")["filter_reason"].to_dict()
    assert rejected == {
        2: "answerability:criterion_1", 3: "answerability:criterion_2", 4: "answerability:unparseable",
    }  # fmt: skip
    assert (report.total, report.kept) == (4, 1)


def test_the_prompt_carries_the_pair_and_the_criteria() -> None:
    record = Recording(Fixed('{"criterion_1": "Y", "criterion_2": "Y", "criterion_3": "Y"}'))
    template = "Passage: {context}\nQuestion: {question}\n3. It is one question."
    with FakeLLMServer(responder=record) as server, OpenAIClient(base_url=server.base_url, api_key="k") as client:
        f = AnswerabilityFilter(client, "judge", "SYSTEM", template, num_criteria=3, temperature=0.0)
        assert f.keep_document(f.score_document(("a passage", "a question?")))
    messages = record.bodies[0]["messages"]
    assert messages[0] == {"role": "system", "content": "SYSTEM"}
    assert messages[1]["content"].startswith("Passage: a passage\nQuestion: a question?")
    assert record.bodies[0]["temperature"] == 0.0


async def test_a_failed_request_raises_instead_of_keeping_or_dropping() -> None:
    with FakeLLMServer(responder=judge, faults=Faults(script=["500", "500"])) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, api_key="k", retry=FAST) as client:
            answers = await AnswerabilityFilter(client, "judge").ajudge([(PASSAGE, ROWS["question"][0])])
        assert answers == [VERDICTS["Into which"]]  # two 500s retried by the engine, then the answer
        server.set_faults(Faults(server_error=1.0))
        async with AsyncOpenAIClient(base_url=server.base_url, api_key="k", retry=FAST) as client:
            with pytest.raises(ServerError):
                await AnswerabilityFilter(client, "judge").ajudge([(PASSAGE, ROWS["question"][0])])


def test_bad_configuration_is_refused() -> None:
    with FakeLLMServer() as server, OpenAIClient(base_url=server.base_url, api_key="k") as client:
        with pytest.raises(ConfigError, match=r"exactly \{context\} and \{question\}"):
            AnswerabilityFilter(client, "judge", user_prompt_template="{passage} {question}")
        with pytest.raises(ConfigError, match="num_criteria"):
            AnswerabilityFilter(client, "judge", num_criteria=0)
    with pytest.raises(ConfigError, match="max_similarity"):
        EasinessFilter(1.5)


@pytest.mark.parametrize(
    ("answer", "met"),
    [
        ('{"criterion_1": "y", "criterion_2": "N"}', [True, False]),
        ('Sure: {"criterion_1": "Y", "criterion_2": "Y"}', [True, True]),
        ('{"criterion_1": "Y"}', None),  # a criterion left out is no verdict
        ('{"criterion_1": "Y", "criterion_2": "maybe"}', None),
        ("[1, 2]", None),
    ],
)
def test_judged_criteria(answer: str, met: list[bool] | None) -> None:
    assert judged_criteria(answer, 2) == met


def test_easiness_drops_questions_that_copy_their_passage() -> None:
    rows = pd.DataFrame(
        {
            "text": [PASSAGE, PASSAGE],
            "question": [PASSAGE.replace("The Danube flows", "Does the Danube flow") + "?", "Where does it end?"],
        }
    )
    f = EasinessFilter(max_similarity=0.9)  # the packaged offline all-MiniLM-L6-v2
    scores = f.score_batch(rows[["text", "question"]])
    assert scores.iloc[0] > 0.9 > scores.iloc[1]
    kept = ScoreFilter(f, text_field=("text", "question"))(DocumentDataset.from_pandas(rows, npartitions=1))
    assert kept.df.compute()["question"].tolist() == ["Where does it end?"]
    assert f.reason_batch(scores[:1]).tolist() == ["too_easy"]


def test_nemos_answerability_filter_sends_nemos_request_through_the_native_client() -> None:
    from curator_synth.nemo.filters.synthetic import AnswerabilityFilter as NemoAnswerability
    from curator_synth.nemo.filters.synthetic import EasinessFilter as NemoEasiness

    record = Recording(Fixed('{"criterion_1": "Y", "criterion_2": "N"}'))
    with FakeLLMServer(responder=record, faults=Faults(script=["429"], retry_after=0.01)) as server:
        f = NemoAnswerability(server.base_url, "k", "judge", "SYS", "C: {context} Q: {question}", 2)
        step = ScoreFilter(f, text_field=f.text_fields, score_field="answerability_score")
        kept = step(DocumentDataset.from_pandas(ROWS.iloc[:1], npartitions=1)).df.compute()
    assert kept.empty  # criterion 2 failed
    seen = record.bodies
    assert seen[0]["messages"] == [{"role": "user", "content": f"SYS\n\nC: {PASSAGE} Q: {ROWS['question'][0]}"}]
    assert (seen[0]["temperature"], seen[0]["top_p"], seen[0]["max_tokens"]) == (0.5, 1, 1024)
    with pytest.raises(ConfigError, match=r"qa_checks\.EasinessFilter"):
        NemoEasiness("http://localhost:8000/v1", "k", "embed-model")
