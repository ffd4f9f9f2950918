"""The Python API runs a recipe in this process (Dask's threads) unless a cluster is asked for: a plain script
with no ``if __name__ == "__main__":`` guard runs end to end, starting no worker process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = """
import json, multiprocessing
from curator_synth import OpenAIClient, SyntheticDataPipeline, load_config
from curator_synth.testing import FakeLLMServer, Plausible

with FakeLLMServer(responder=Plausible()) as server:
    recipe = {{
        "name": "plain", "model": "m", "client": {{"base_url": server.base_url, "check": False}},
        "report": {{"enabled": False}},
        "stages": [{{"stage": "load", "path": {data!r}}}, {{"stage": "responses"}}],
    }}
    {run}
    print(json.dumps({{"records": len(result), "children": len(multiprocessing.active_children())}}))
"""
RUNS = {
    "recipe client": "result = SyntheticDataPipeline(None, recipe).run(output_dir={out!r})",
    "client object": (
        "with OpenAIClient(base_url=server.base_url) as client:\n"
        "        result = SyntheticDataPipeline(client, recipe).run(output_dir={out!r})"
    ),
}


def test_a_plain_script_runs_a_recipe_in_this_process(tmp_path: Path) -> None:
    data = tmp_path / "instructions.jsonl"
    data.write_text("".join(json.dumps({"instruction": f"Name a colour, please ({i})."}) + "\n" for i in range(6)))
    for name, run in RUNS.items():
        out = tmp_path / name.replace(" ", "_")
        script = tmp_path / f"{out.name}.py"
        script.write_text(textwrap.dedent(SCRIPT.format(data=str(data), run=run.format(out=str(out)))))
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "Traceback" not in done.stderr, done.stderr[-3000:]
        assert "Nanny" not in done.stderr
        assert json.loads(done.stdout.strip().splitlines()[-1]) == {"records": 6, "children": 0}, name
