"""curator_synth against its peers on the same workload and the same simulated endpoint: the recipe of
``recipe_throughput.py`` (N distinct instructions, a response request then a judge request on (instruction,
response) for each: 2N requests, at most C in flight) against one FakeLLMServer in its own process whose latency
is lognormal (median 0.4 s, sigma 1), drawn from a hash of each request's body.

Each variant is a subprocess with its own interpreter, timed from its start to its exit:

- ``curator_synth``: ``curator-synth run`` of load -> responses -> score (llm_judge), ``max_concurrency`` C, as
  the streamed variant of ``recipe_throughput.py`` runs it (the baseline);
- ``curator_synth gathers``: the library's ``AsyncOpenAIClient(max_concurrency=C)`` written the way the NeMo
  variant is (two ``asyncio.gather`` calls, a barrier between them), to tell the client from the barrier;
- ``distilabel``: distilabel 1.5.3, ``LoadDataFromDicts >> TextGeneration >> TextGeneration`` (the second one
  the judge) with ``OpenAILLM``, each task's ``input_batch_size`` C/2 (an async LLM sends a batch at once and the
  two tasks run at the same time, so at most C requests are in flight), ``use_cache=False``;
- ``nemo semaphore``: NeMo Curator 0.9.0's ``AsyncOpenAIClient`` over ``openai.AsyncOpenAI``, as a NeMo user
  writes it: ``asyncio.gather`` of every response request under a semaphore of C, then ``asyncio.gather`` of every
  judge request;
- ``nemo max_concurrent_requests``: the same two steps bounded the way NeMo's own ``AsyncNemotronGenerator(...,
  max_concurrent_requests=C)`` bounds its ``run_*_pipeline`` methods (its ``_gather``: slices of C requests, each
  gathered before the next is sent).

The peers run in throwaway venvs (not ``--system-site-packages``) that this script creates under ``--venvs`` with
``pip install`` and reuses when they import. Each variant's bound is Little's law: the latency the server added to
its own requests, summed, divided by C (the peers' bodies differ, so their latencies differ too). Every wall time
is given as a ratio to its bound and to curator_synth's median wall time in the same invocation; in each round
the variants run in turn. ``first sent`` / ``last sent`` are when the first and the last request reached the
server, ``last answer`` when the last answer left it (seconds from the process's start, polled every 0.2 s);
``longest`` is the longest single latency the server gave and ``max in flight`` the most requests it held at once.

    python benchmarks/peers.py                                # 1,000 records, C=64, 1 run of each
    python benchmarks/peers.py --runs 3 --only curator,distilabel
    python benchmarks/peers.py --only curator,distilabel --concurrency 128  # distilabel's batches of 64
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from _workload import run_timed, write_recipe

from curator_synth.testing import FakeLLMServer, LogNormalLatency, Plausible

DEFAULT_VENVS = Path.home() / ".cache" / "curator_synth_bench" / "venvs"
JUDGE = (
    "Rate the response to the instruction below for helpfulness, correctness and clarity, from 1 (poor) to "
    "10 (excellent). Answer with the number only.\n\nInstruction: {instruction}\n\nResponse: {response}"
)

DISTILABEL_SCRIPT = """
import json
import sys

from distilabel.models import OpenAILLM
from distilabel.pipeline import Pipeline
from distilabel.steps import LoadDataFromDicts
from distilabel.steps.tasks import TextGeneration

JUDGE = JUDGE_TEMPLATE


def main() -> None:
    base_url, data, concurrency, cache_dir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    rows = [{"instruction": json.loads(line)["instruction"]} for line in open(data)]
    batch = max(1, concurrency // 2)  # the two tasks run at once, each sending a whole batch concurrently
    with Pipeline(name="peers-bench", cache_dir=cache_dir) as pipeline:
        load = LoadDataFromDicts(data=rows, batch_size=batch)
        respond = TextGeneration(
            llm=OpenAILLM(model="fake-model", base_url=base_url, api_key="x", max_retries=2,
                          generation_kwargs={"max_new_tokens": 128}),
            input_batch_size=batch,
        )
        judge = TextGeneration(
            llm=OpenAILLM(model="fake-model", base_url=base_url, api_key="x", max_retries=2,
                          generation_kwargs={"max_new_tokens": 64}),
            template=JUDGE,
            columns=["instruction", "generation"],
            output_mappings={"generation": "judgement", "model_name": "judge_model"},
            input_batch_size=batch,
        )
        load >> respond >> judge
    distiset = pipeline.run(use_cache=False)
    train = distiset["default"]["train"]
    judged = sum(1 for text in train["judgement"] if text)
    print(json.dumps({"records": len(train), "judged": judged}))


if __name__ == "__main__":
    main()
""".replace("JUDGE_TEMPLATE", repr(JUDGE.format(instruction="{{ instruction }}", response="{{ generation }}")))

GATHERS_SCRIPT = """
import asyncio
import json
import sys

CLIENT_IMPORT

JUDGE = JUDGE_TEMPLATE


async def main() -> None:
    base_url, data, concurrency, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    instructions = [json.loads(line)["instruction"] for line in open(data)]
    client = MAKE_CLIENT
    semaphore = asyncio.Semaphore(concurrency)

    async def ask(prompt: str, max_tokens: int) -> list[str]:
        return await client.query_model(messages=[{"role": "user", "content": prompt}], model="fake-model",
                                        max_tokens=max_tokens)

    async def bounded(prompt: str, max_tokens: int) -> list[str]:
        async with semaphore:
            return await ask(prompt, max_tokens)

    async def gather(prompts: list[str], max_tokens: int) -> list[str]:
        if mode == "slices":  # NeMo's own bound, as its run_*_pipeline methods use it: slices of C, one after another
            from nemo_curator.synthetic import AsyncNemotronGenerator

            generator = AsyncNemotronGenerator(client, logger=".", max_concurrent_requests=concurrency)
            answers = await generator._gather([ask(prompt, max_tokens) for prompt in prompts])
        else:
            answers = await asyncio.gather(*(bounded(prompt, max_tokens) for prompt in prompts))
        return [answer[0] for answer in answers]

    responses = await gather(instructions, 128)
    judgements = await gather([JUDGE.format(instruction=text, response=response)
                               for text, response in zip(instructions, responses)], 64)
    if hasattr(client, "aclose"):  # curator_synth's client holds a connection pool; NeMo's has no close
        await client.aclose()
    print(json.dumps({"records": len(responses), "judged": sum(1 for text in judgements if text)}))


if __name__ == "__main__":
    asyncio.run(main())
""".replace("JUDGE_TEMPLATE", repr(JUDGE))

NEMO_SCRIPT = GATHERS_SCRIPT.replace("CLIENT_IMPORT", "import openai\nfrom nemo_curator import AsyncOpenAIClient")
NEMO_SCRIPT = NEMO_SCRIPT.replace(
    "MAKE_CLIENT", 'AsyncOpenAIClient(openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=2))'
)
CURATOR_GATHERS_SCRIPT = GATHERS_SCRIPT.replace("CLIENT_IMPORT", "from curator_synth import AsyncOpenAIClient").replace(
    "MAKE_CLIENT", 'AsyncOpenAIClient(base_url=base_url, api_key="x", max_concurrency=concurrency, max_retries=2)'
)


@dataclass(frozen=True)
class Peer:
    """A library installed into its own venv: the pip requirements, the import that proves the venv usable (it
    prints the version) and the script its variants run."""

    venv: str
    requirements: list[str]
    check: str
    script: str


@dataclass(frozen=True)
class Variant:
    """One row of the table: a peer's script (or curator_synth's, ``peer=None``) and its last argument."""

    peer: str | None
    mode: str = ""


PEERS = {
    "distilabel": Peer(
        venv="distilabel-1.5.3",
        # distilabel 1.5.3 imports requests without declaring it (the datasets releases of its time pulled it in)
        requirements=["distilabel==1.5.3", "openai", "requests"],
        check="import distilabel.models, distilabel.pipeline; print(distilabel.__version__)",
        script=DISTILABEL_SCRIPT,
    ),
    "nemo": Peer(
        venv="nemo-curator-0.9.0",
        # nemo-curator 0.9.0 pins numpy<2, and pyarrow 21+ refuses numpy 1.x at import
        requirements=["nemo-curator==0.9.0", "openai", "pyarrow<21"],
        check="from nemo_curator import AsyncOpenAIClient; import importlib.metadata as m; "
        "print(m.version('nemo-curator'))",
        script=NEMO_SCRIPT,
    ),
}
VARIANTS = {
    "curator_synth": Variant(None),
    "curator_synth gathers": Variant(None, "semaphore"),
    "distilabel": Variant("distilabel"),
    "nemo semaphore": Variant("nemo", "semaphore"),
    "nemo max_concurrent_requests": Variant("nemo", "slices"),
}
ONLY = {
    "curator": ["curator_synth", "curator_synth gathers"],
    "distilabel": ["distilabel"],
    "nemo": ["nemo semaphore", "nemo max_concurrent_requests"],
}


def ensure_venv(peer: Peer, venvs: Path) -> tuple[Path | None, str]:
    """The venv's python and the installed version, creating the venv when it does not import; (None, reason)
    when it cannot be made."""
    home = venvs / peer.venv
    python = home / "bin" / "python"
    if python.exists():
        probe = subprocess.run([str(python), "-W", "ignore", "-c", peer.check], capture_output=True, text=True)
        if probe.returncode == 0:
            print(f"reusing {home} ({probe.stdout.strip()})", file=sys.stderr)
            return python, probe.stdout.strip()
        print(f"{home} does not import ({probe.stderr.strip().splitlines()[-1:]}); rebuilding", file=sys.stderr)
        shutil.rmtree(home)
    venvs.mkdir(parents=True, exist_ok=True)
    print(f"creating {home}: pip install {' '.join(peer.requirements)} (this can take minutes)", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
    install = subprocess.Popen([str(python), "-m", "pip", "install", *peer.requirements],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    tail: list[str] = []
    assert install.stdout is not None
    for line in install.stdout:
        tail = [*tail[-30:], line.rstrip()]
        if line.startswith(("Collecting", "Building wheel", "Installing collected", "Successfully", "ERROR")):
            print(f"  [{peer.venv}] {line.rstrip()[:150]}", file=sys.stderr)
    if install.wait() != 0:
        return None, "pip install failed: " + " | ".join(line for line in tail if "ERROR" in line or "error" in line)
    probe = subprocess.run([str(python), "-W", "ignore", "-c", peer.check], capture_output=True, text=True)
    if probe.returncode != 0:
        return None, f"installed but does not import: {probe.stderr.strip().splitlines()[-1:]}"
    return python, probe.stdout.strip()


def command_for(name: str, python: Path, scripts: Path, server: FakeLLMServer, concurrency: int) -> list[str]:
    """The command line of one variant (run with its output directory as working directory)."""
    variant = VARIANTS[name]
    if name == "curator_synth":
        return [sys.executable, "-m", "curator_synth.cli", "run", str(scripts / "recipe.yaml"), "--output-dir", ".",
                "--base-url", server.base_url, "--model", "any"]  # fmt: skip
    script = scripts / f"run_{variant.peer or 'curator_synth'}.py"  # not named like the package it imports
    command = [str(python), "-W", "ignore", str(script), server.base_url, str(scripts / "instructions.jsonl")]
    return [*command, str(concurrency), variant.mode or "."]


def print_table(results: dict[str, list[dict[str, float | str]]], failed: dict[str, str], concurrency: int) -> None:
    """The medians over the runs, each wall time as a ratio to its own bound and to curator_synth's."""
    header = ("variant", "wall s", "requests seen", "max in flight", "first sent", "last sent", "last answer",
              "longest", "bound s", "wall / bound", "wall / curator_synth")  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    baseline = statistics.median(float(run["wall"]) for run in results.get("curator_synth", [{"wall": 0.0}]))

    def median(runs: list[dict[str, float | str]], key: str) -> float:
        return statistics.median(float(run[key]) for run in runs)

    for name, runs in results.items():
        wall, bound = median(runs, "wall"), median(runs, "latency") / concurrency
        cells = [
            name,
            f"{wall:.1f}",
            f"{int(median(runs, 'requests')):,}",
            str(max(int(run["max_in_flight"]) for run in runs)),
        ]
        cells += [f"{median(runs, key):.1f}" for key in ("first_sent", "last_sent", "last_answer", "longest")]
        cells += [f"{bound:.1f}", f"{wall / bound:.2f}", f"{wall / baseline:.2f}" if baseline else "-"]
        print("| " + " | ".join(cells) + " |")
    for name, reason in failed.items():
        print(f"| {name} | could not run: {reason} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--venvs", type=Path, default=DEFAULT_VENVS)
    parser.add_argument("--only", default=",".join(ONLY), help="comma-separated, of: " + ", ".join(ONLY))
    args = parser.parse_args()
    keys = [key.strip() for key in args.only.split(",")]
    if unknown := [key for key in keys if key not in ONLY]:
        parser.error(f"--only: unknown {', '.join(unknown)} (choose from {', '.join(ONLY)})")
    chosen = [name for key in keys for name in ONLY[key]]
    failed: dict[str, str] = {}
    versions: dict[str, str] = {}
    pythons: dict[str | None, Path] = {None: Path(sys.executable)}
    for key in dict.fromkeys(VARIANTS[name].peer for name in chosen):
        if key is not None:
            python, version = ensure_venv(PEERS[key], args.venvs)
            if python is None:
                failed.update({name: version for name in chosen if VARIANTS[name].peer == key})
            else:
                pythons[key], versions[key] = python, version
    latency = LogNormalLatency(median=0.4, sigma=1.0, seed=0)
    results: dict[str, list[dict[str, float | str]]] = {name: [] for name in chosen if name not in failed}
    # the peers' interpreters must not see this one's environment (PYTHONPATH, a virtualenv)
    isolated = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    with tempfile.TemporaryDirectory() as temp, FakeLLMServer(Plausible(), latency=latency, mode="process") as server:
        scripts = Path(temp)
        write_recipe(scripts, args.records, args.concurrency)
        (scripts / "run_curator_synth.py").write_text(CURATOR_GATHERS_SCRIPT)
        for key, spec in PEERS.items():
            (scripts / f"run_{key}.py").write_text(spec.script)
        for round_number in range(args.runs):
            for name in list(results):
                peer = VARIANTS[name].peer
                command = command_for(name, pythons[peer], scripts, server, args.concurrency)
                with tempfile.TemporaryDirectory() as out:
                    try:
                        result = run_timed(command, server, isolated if peer else dict(os.environ), Path(out))
                    except RuntimeError as error:
                        print(f"  {name} failed: {error}", file=sys.stderr)
                        failed[name] = str(error).strip().splitlines()[-1][:300]
                        del results[name]
                        continue
                results[name].append(result)
                print(f"  round {round_number + 1}, {name}: {result}", file=sys.stderr)
    print(f"response + judge per record, {args.records:,} records ({2 * args.records:,} requests), "
          f"C={args.concurrency}, lognormal latency median {latency.median} s, sigma {latency.sigma}; "
          f"{args.runs} run(s) of each")  # fmt: skip
    print_table(results, failed, args.concurrency)
    for key, version in versions.items():
        print(f"{key} {version} (venv {args.venvs / PEERS[key].venv})")


if __name__ == "__main__":
    main()
