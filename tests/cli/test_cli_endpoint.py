"""Pointing a recipe at an endpoint without editing it (issue 16, point 3): ``--base-url``, ``--model``,
``--api-key-env`` and ``--set key.path=value`` on run / inspect / check; shipped recipes copied anywhere keep
their data (``package:`` paths); a keyless local endpoint needs no key variable; a refused key names the
variable to set; every mistake in a recipe's keys reported at once, with "did you mean"."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

import curator_synth
from curator_synth.cli import app
from curator_synth.testing import FakeLLMServer, Plausible

RECIPES = Path(curator_synth.__file__).parent / "prompt_templates" / "recipes"
SECRET = "sk-endpoint-flags-5151"


def invoke(*args: object) -> Result:
    return CliRunner().invoke(app, [str(arg) for arg in args])


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(responder=Plausible()) as fake:
        yield fake


def test_a_copied_shipped_recipe_runs_against_a_keyless_endpoint_given_by_flags(
    server: FakeLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    recipe = tmp_path / "elsewhere" / "mine.yaml"
    recipe.parent.mkdir()
    shutil.copy(RECIPES / "self_instruct.yaml", recipe)  # its seeds are package data: found from anywhere
    out = tmp_path / "run"
    args = ["run", recipe, "--base-url", server.base_url, "--model", "any", "--output-dir", out,
            "--set", "stages.self_instruct.num_instructions=6", "--set", "stages.sample.n=4"]  # fmt: skip
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    final = pd.read_parquet(out / "final")
    assert 0 < len(final) <= 4
    assert server.stats()["requests"] > 0
    bodies = [json.loads(line) for line in (out / "exports" / "messages.jsonl").read_text().splitlines()]
    assert len(bodies) == len(final)


def test_inspect_applies_the_flags_and_reports_every_key_problem_at_once(tmp_path: Path) -> None:
    shown = invoke("inspect", RECIPES / "self_instruct.yaml", "--base-url", "http://127.0.0.1:9/v1", "--model",
                   "mine", "--set", "stages.0.num_instructions=7", "--set", "client.max_concurrency=3")  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert "model mine at http://127.0.0.1:9/v1" in shown.output
    assert "00 self_instruct: num_instructions=7" in shown.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmodle: m\nclient: {max_concurency: 2}\nstages:\n  - stage: sample\n    nn: 3\n"
                   "  - stage: filter\n    filterz: []\n")  # fmt: skip
    failed = invoke("inspect", bad)
    assert failed.exit_code == 2, failed.output
    for line in ("bad.yaml:2: modle: unknown key; did you mean 'model'?",
                 "bad.yaml:3: client.max_concurency: unknown key; did you mean 'max_concurrency'?",
                 "bad.yaml:6: stages[0].nn: unknown key; did you mean 'n'?",
                 "bad.yaml:8: stages[1].filterz: unknown key; did you mean 'filters'?"):  # fmt: skip
        assert line in failed.output, failed.output
    typo = invoke("inspect", RECIPES / "self_instruct.yaml", "--set", "stages.smaple.n=3")
    assert typo.exit_code == 2
    assert "--set stages.smaple.n: 'smaple' names no single stage" in typo.output


def test_a_new_base_url_does_not_take_the_recipes_key_variable_along(tmp_path: Path) -> None:
    recipe = tmp_path / "named.yaml"
    recipe.write_text((RECIPES / "self_instruct.yaml").read_text().replace(
        "client:\n", "client:\n  api_key_env: CURATOR_SYNTH_TEST_UNSET_KEY\n"))  # fmt: skip
    assert invoke("inspect", recipe).exit_code == 2  # the recipe's endpoint needs its key
    moved = invoke("inspect", recipe, "--base-url", "http://127.0.0.1:9/v1")
    assert moved.exit_code == 0, moved.output  # another endpoint: the recipe's key is not sent there


def test_a_refused_key_says_which_variable_to_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("WRONG_KEY", "sk-not-the-one")
    with FakeLLMServer(responder=Plausible(), api_key=SECRET) as server:
        base = ["run", RECIPES / "self_instruct.yaml", "--base-url", server.base_url, "--model", "m"]
        none = invoke(*base, "--output-dir", tmp_path / "a")
        assert none.exit_code == 1, none.output
        assert "Check the API key: none was sent; set $OPENAI_API_KEY" in none.output
        wrong = invoke(*base, "--api-key-env", "WRONG_KEY", "--output-dir", tmp_path / "b")
        assert wrong.exit_code == 1, wrong.output
        assert "Check the API key: the endpoint refused the key in $WRONG_KEY" in wrong.output
        assert SECRET not in wrong.output
        assert "sk-not-the-one" not in wrong.output


def test_every_stage_runs_as_a_step(server: FakeLLMServer, tmp_path: Path) -> None:
    instructions = tmp_path / "instructions.jsonl"
    rows = [{"instruction": f"Name a colour ({i}).", "response": f"Red, mail a{i}@example.com"} for i in range(4)]
    instructions.write_text("".join(json.dumps(row) + "\n" for row in rows))
    endpoint = ["--model", "m", "--base-url", server.base_url]
    pairs = tmp_path / "pairs.jsonl"
    result = invoke("generate", "preference", instructions, "-o", pairs, *endpoint)
    assert result.exit_code == 0, result.output
    assert {"prompt", "chosen", "rejected"} <= set(pd.read_json(pairs, lines=True).columns)
    answered = tmp_path / "answered.jsonl"
    result = invoke("generate", "responses", instructions, "-o", answered, *endpoint, "--set", "overwrite=true")
    assert result.exit_code == 0, result.output
    redacted = tmp_path / "redacted.jsonl"
    result = invoke("stage", "redact_pii", instructions, "-o", redacted)
    assert result.exit_code == 0, result.output
    assert not pd.read_json(redacted, lines=True)["response"].str.contains("@example.com").any()
    missing = invoke("generate", "preference", "-o", tmp_path / "x.jsonl", *endpoint)
    assert missing.exit_code == 2
    assert "stage 'preference' works on records: give INPUT" in missing.output
    unknown = invoke("stage", "redact", instructions, "-o", tmp_path / "x.jsonl")
    assert unknown.exit_code == 2
    assert "unknown stage 'redact'" in unknown.output


def test_max_concurrency_auto_on_the_command_line(server: FakeLLMServer, tmp_path: Path) -> None:
    instructions = tmp_path / "instructions.jsonl"
    instructions.write_text("".join(json.dumps({"instruction": f"Name a colour ({i})."}) + "\n" for i in range(20)))
    endpoint = ["--model", "m", "--base-url", server.base_url]
    answered = tmp_path / "answered.jsonl"
    result = invoke("generate", "responses", instructions, "-o", answered, *endpoint, "--max-concurrency", "auto")
    assert result.exit_code == 0, result.output
    assert pd.read_json(answered, lines=True)["response"].str.len().gt(0).all()
    assert server.stats()["max_in_flight"] <= 8  # autotune starts at 2 and grows per round of answers
    bad = invoke("generate", "responses", instructions, "-o", answered, *endpoint, "--max-concurrency", "many")
    assert bad.exit_code == 2
    said = " ".join(bad.output.replace("│", " ").split())  # rich wraps the message in a box
    assert "must be an int >= 1 or 'auto', got 'many'" in said
