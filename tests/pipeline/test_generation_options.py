"""Every LLM stage takes the same generation options (max_tokens, temperature, top_p, seed, stop, extra_body)
and the finish-reason policy: an answer cut at max_tokens or filtered is asked once more, then rejected with
reason ``truncated`` / ``content_filter`` (issue 14). Against FakeLLMServer, through the real pipeline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from curator_synth.errors import StageError
from curator_synth.pipeline import SyntheticDataPipeline
from curator_synth.testing import FakeLLMServer, Faults, Fixed, Plausible, Recording


def _recipe(tmp_path: Path, base_url: str, stage: dict[str, Any], n: int = 10, **top: Any) -> dict[str, Any]:
    records = tmp_path / "records.jsonl"
    records.write_text("".join(json.dumps({"instruction": f"Question {i}?", "response": "An answer."}) + "\n"
                               for i in range(n)))  # fmt: skip
    return {
        "name": "generation", "model": "m", "client": {"base_url": base_url, "max_retries": 0},
        "dask": {"cluster": "threads"}, "report": {"enabled": False},
        "stages": [{"stage": "load", "path": str(records)}, stage], **top,
    }  # fmt: skip


def _run(recipe: dict[str, Any], out: Path) -> Any:
    return SyntheticDataPipeline(None, recipe).run(output_dir=out)


def test_a_truncated_answer_is_asked_once_more_then_rejected_as_truncated(tmp_path: Path) -> None:
    with FakeLLMServer(Fixed("a full answer"), faults=Faults(truncate=0.4, seed=1)) as server:
        result = _run(
            _recipe(tmp_path, server.base_url, {"stage": "responses", "overwrite": True}, n=30), tmp_path / "r"
        )
        stats = server.stats()
    truncated = stats["faults"]["truncate"]
    rejected = result.stages[1]["rejections"].get("responses", {}).get("truncated", 0)
    assert 0 < rejected < truncated  # some second answers finished, some did not
    assert len(result) == 30 - rejected
    assert stats["requests"] == 30 + (truncated - rejected)  # one more ask per first truncated answer... and no more
    assert (result.dataset.to_pandas()["response"] == "a full answer").all()  # nothing cut entered the data


def test_a_stage_can_keep_every_answer(tmp_path: Path) -> None:
    with FakeLLMServer(Fixed("a full answer"), faults=Faults(truncate=1.0)) as server:
        stage = {"stage": "responses", "overwrite": True, "invalid_finish_reasons": []}
        result = _run(_recipe(tmp_path, server.base_url, stage), tmp_path / "r")
        assert server.stats()["requests"] == 10
    assert len(result) == 10
    with FakeLLMServer(Fixed("a full answer"), faults=Faults(truncate=1.0)) as server:
        with pytest.raises(StageError, match=r"all 10 records failed \(TruncatedResponseError 10\).*raise max_tokens"):
            _run(_recipe(tmp_path, server.base_url, {"stage": "responses", "overwrite": True}), tmp_path / "r2")
        assert server.stats()["requests"] == 20  # each asked twice
        # the recipe-wide setting applies to every stage
        result = _run(_recipe(tmp_path, server.base_url, {"stage": "responses", "overwrite": True},
                              invalid_finish_reasons=[]), tmp_path / "r3")  # fmt: skip
    assert len(result) == 10


def test_generation_options_reach_every_request(tmp_path: Path) -> None:
    recorder = Recording(Fixed("ok"))
    with FakeLLMServer(recorder) as server:
        stage = {"stage": "responses", "overwrite": True, "max_tokens": 33, "temperature": 0.3, "top_p": 0.9,
                 "stop": ["###"], "seed": 11, "extra_body": {"top_k": 5, "repetition_penalty": 1.1}}  # fmt: skip
        _run(_recipe(tmp_path, server.base_url, stage, n=3), tmp_path / "r")
    assert len(recorder.bodies) == 3
    for body in recorder.bodies:
        assert {k: body[k] for k in ("max_tokens", "temperature", "top_p", "stop", "seed", "top_k")} == {
            "max_tokens": 33, "temperature": 0.3, "top_p": 0.9, "stop": ["###"], "seed": 11, "top_k": 5,
        }  # fmt: skip
        assert body["repetition_penalty"] == 1.1


def test_requests_get_seeds_derived_from_their_content_and_the_recipe_seed(tmp_path: Path) -> None:
    def seeds(out: str, **top: Any) -> list[int]:
        recorder = Recording(Fixed("ok"))
        with FakeLLMServer(recorder) as server:
            _run(_recipe(tmp_path, server.base_url, {"stage": "responses", "overwrite": True}, n=4, **top),
                 tmp_path / out)  # fmt: skip
        return sorted(body["seed"] for body in recorder.bodies)

    first, again, other = seeds("a"), seeds("b"), seeds("c", seed=1)
    assert len(set(first)) == 4  # distinct prompts, distinct seeds
    assert first == again  # reproducible
    assert first != other  # another recipe seed, other seeds


def test_the_judge_takes_the_stage_options_and_a_default_max_tokens(tmp_path: Path) -> None:
    recorder = Recording(Plausible())
    with FakeLLMServer(recorder) as server:
        _run(_recipe(tmp_path, server.base_url, {"stage": "score", "mode": "llm_judge"}, n=2), tmp_path / "a")
        assert all(body["max_tokens"] == 512 for body in recorder.bodies)
        recorder.bodies.clear()
        stage = {"stage": "score", "mode": "llm_judge", "max_tokens": 200, "temperature": 0.0}
        _run(_recipe(tmp_path, server.base_url, stage, n=2), tmp_path / "b")
    assert all(body["max_tokens"] == 200 for body in recorder.bodies)
    assert all(body["temperature"] == 0.0 for body in recorder.bodies)
