"""The seed README's quick start, end to end and offline.

    python examples/quickstart.py                         # the tiny test model: no download, well under a minute
    python examples/quickstart.py --model-dir ~/models/qwen2.5-0.5b-instruct --max-tokens 256 --num-samples 50

1. One call: ``run_simple_pipeline(model, tokenizer, seeds, num_samples=...)`` grows instructions from the seeds
   (Self-Instruct), answers them and the seeds, scores, filters, deduplicates and samples; it writes Parquet, an
   Alpaca JSONL export with provenance and an HTML report.
2. The same steps by hand: ``SyntheticDataGenerator`` -> ``RewardModel`` (LLM judge) -> ``CombinedFilter`` ->
   ``save``.

By default the model is the tiny random-weight test model of ``curator_synth.testing.tiny_lm``: its answers are
gibberish, so Self-Instruct parses no new instruction, the judge's rubric does not fit its 512-token context and
the quality filter rejects most answers — every one of them counted, with its reason. With a real instruction
model (``--model-dir``, a local Hugging Face directory; nothing is downloaded) the same script makes a data set.
Needs the ``transformers`` extra.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach the Hugging Face Hub

SEEDS = [
    "Write a short poem about the sea and the wind.",
    "Explain why the sky is blue in simple words.",
    "Give me three ideas for a healthy breakfast.",
    "List five questions a student might ask about history.",
    "Rewrite this email so that it sounds more polite: 'Send me the report now.'",
    "Summarize the water cycle in two sentences.",
    "Write a Python function that returns the sum of two numbers.",
    "Describe your favourite book and why you like it.",
]


def load_model(model_dir: str | None) -> tuple[Any, Any]:
    """``(model, tokenizer)``: the tiny test model, or a causal LM from a local directory (never downloaded)."""
    if model_dir is None:
        from curator_synth.testing.tiny_lm import tiny_causal_lm

        return tiny_causal_lm(seed=0)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(model_dir).expanduser()
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True).eval()
    return model, AutoTokenizer.from_pretrained(path, local_files_only=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", help="a local Hugging Face model directory (default: the tiny test model)")
    parser.add_argument("--num-samples", type=int, default=8, help="new instructions to ask for (default 8)")
    parser.add_argument("--max-tokens", type=int, default=32, help="tokens per answer (default 32)")
    parser.add_argument("--output-dir", default="runs/quickstart", help="where to write (default runs/quickstart)")
    args = parser.parse_args(argv)
    out = Path(args.output_dir)

    from curator_synth import CombinedFilter, SyntheticDataGenerator
    from curator_synth.filters import rejection_counts
    from curator_synth.pipeline import run_simple_pipeline
    from curator_synth.reward import RewardModel

    model, tokenizer = load_model(args.model_dir)

    # 1. The one call of the seed README.
    # invalid_finish_reasons=(): keep answers cut at max_tokens (a random test model never ends one; with a real
    # model leave the default, which rejects them).
    result = run_simple_pipeline(
        model, tokenizer, SEEDS, num_samples=args.num_samples, max_tokens=args.max_tokens, output_dir=out / "simple",
        invalid_finish_reasons=(),
    )  # fmt: skip
    generated = result.stages[0]
    print(f"run_simple_pipeline: {generated['records_out']} instructions ({len(SEEDS)} seeds + new ones); "
          f"Self-Instruct dropped {generated['rejections'].get('self_instruct', {})}")  # fmt: skip
    print(f"  {len(result)} curated records -> {result.exports['alpaca']}  (report: {result.report_path})")

    # 2. The same, step by step: generate -> score -> filter -> save.
    params = {"max_tokens": args.max_tokens, "temperature": 0.7}
    generator = SyntheticDataGenerator(model, tokenizer, params=params)
    samples = generator.generate(SEEDS, num_samples=args.num_samples, evolve=True, max_steps=2)
    report = generator.last_report
    print(f"SyntheticDataGenerator: {len(samples)} samples ({report.seeds} seeds, {report.instructions} new, "
          f"{report.evolved} evolved); dropped: {report.discarded or {}} {report.eliminated or {}}")  # fmt: skip

    judge = RewardModel(model, tokenizer, mode="llm_judge", params=params, max_repairs=1)
    scored = judge.evaluate_many([(sample.instruction, sample.response) for sample in samples])
    failed = {failure.index for failure in scored.failures}
    for sample, scores in zip([s for i, s in enumerate(samples) if i not in failed], scored.items, strict=True):
        sample.scores = {name: float(value) for name, value in scores.attributes().items()}
        sample.scores["overall"] = scores.overall
    reasons = Counter(type(failure.error).__name__ for failure in scored.failures)
    print(f"RewardModel (llm_judge): {len(scored.items)} scored, {len(scored.failures)} failed {dict(reasons)}")

    kept, rejected = CombinedFilter(quality=True, safety=True, diversity=True).filter(samples)
    print(f"CombinedFilter: kept {len(kept)} of {len(samples)}; rejected {rejection_counts(rejected)}")

    path = generator.save(kept, out / "dataset.jsonl")
    print(f"dataset: {path} ({len(kept)} samples with provenance)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
