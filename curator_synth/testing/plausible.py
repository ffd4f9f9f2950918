"""``Plausible``: a responder that answers every built-in prompt family in the shape its parser expects.

It lets a whole recipe run against :class:`~curator_synth.testing.FakeLLMServer` (``curator-synth run
--dry-run``, integration tests): numbered task lists for Self-Instruct and list prompts, yes/no for
classification questions, Input/Output examples for instance generation, a JSON rubric score for judges,
``[[A]]`` for pairwise verdicts, and otherwise a deterministic answer built from the prompt's words. The text
is nonsense; the request count, token counts and the plumbing are real. Same prompt, same answer.
"""

from __future__ import annotations

import hashlib
import json
import random
import re

from curator_synth.testing.responders import HELPSTEER2_ATTRIBUTES, FakeRequest

__all__ = ["Plausible"]

_WORD = re.compile(r"[A-Za-z]{4,}")
_VERBS = ("Describe", "Explain", "Summarize", "Compare", "List", "Suggest", "Write", "Classify", "Plan", "Outline")


class Plausible:
    """Deterministic, parser-shaped answers for every prompt family (see the module docstring)."""

    def __call__(self, request: FakeRequest) -> str:
        prompt = request.prompt
        rng = random.Random(int(hashlib.sha256(prompt.encode()).hexdigest()[:12], 16) + request.choice_index)
        words = sorted(set(_WORD.findall(prompt))) or ["topic", "question", "answer", "example"]
        lowered = prompt.lower()
        if "numbered from" in lowered or "come up with a series of tasks" in lowered:
            start = int(match.group(1)) if (match := re.search(r"numbered from (\d+)", prompt)) else 1
            return "\n".join(f"{start + i}. {self._task(rng, words)}" for i in range(rng.randint(5, 8)))
        if "is it classification?" in lowered:
            return rng.choice(("Yes", "No"))
        if "class label:" in lowered:
            return "Class label: Positive\nInput: a first text\nClass label: Negative\nInput: another text"
        if "example 1" in lowered and "output:" in lowered:
            return (
                f"Example 1\nInput: {' '.join(rng.sample(words, min(5, len(words))))}\nOutput: {self._text(rng, words)}"
            )
        if "[[a]]" in lowered:
            return "Both answers are reasonable; the first is more complete. [[A]]"
        if "json" in lowered and "helpfulness" in lowered:
            scores = {name: rng.randint(1, 4) for name in HELPSTEER2_ATTRIBUTES}
            return json.dumps({**scores, "rationale": "Plausible reply from the simulator."})
        if '"here is a paraphrased text:"' in lowered:  # Nemotron-CC Wikipedia-style rephrasing: its lead-in
            return f"Here is a paraphrased text:\n{self._text(rng, words)}"
        if 'start your answer with "paraphrased text:"' in lowered:  # Nemotron-CC distillation: its lead-in
            return f"Paraphrased Text: {self._text(rng, words)}"
        if "here are the questions and answers based on the provided text:" in lowered:  # Nemotron-CC diverse QA
            pairs = (
                f"- Question: {self._task(rng, words)[:-1]}? Answer: {self._text(rng, words)}"
                for _ in range(rng.randint(2, 4))
            )
            return "Here are the questions and answers based on the provided text:\n" + "\n".join(pairs)
        if "bulleted list of the factual information" in lowered:  # Nemotron-CC knowledge list
            return "\n".join(f"- {self._task(rng, words)}" for _ in range(rng.randint(3, 6)))
        if "answer with exactly 'equal' or 'not equal'" in lowered:  # Evol-Instruct equality judge: mostly a gain
            return "Not Equal" if rng.random() < 0.8 else "Equal"
        if "answer with a numbered list" in lowered and (
            counts := re.findall(r"\b(?:propose|write|name|rewrite it in)\s+(\d+)\b", lowered)
        ):  # Nemotron topic pipelines: exactly the number of items asked for (the last count: after any document)
            return "\n".join(f"{i}. {self._task(rng, words)}" for i in range(1, min(int(counts[-1]), 50) + 1))
        if 'begin your answer with "yes" or "no"' in lowered:  # Nemotron math/Python topic classification
            return rng.choice(("Yes, it is.", "Yes, it is.", "Yes, it is.", "No, it is not."))
        if re.search(r"\b(list|generate|give)\b.*\b\d+\b", lowered):
            return "\n".join(f"{i}. {self._task(rng, words)}" for i in range(1, 6))
        return self._text(rng, words)

    @staticmethod
    def _task(rng: random.Random, words: list[str]) -> str:
        return f"{rng.choice(_VERBS)} the {' '.join(rng.sample(words, min(len(words), rng.randint(4, 9))))}."

    @staticmethod
    def _text(rng: random.Random, words: list[str]) -> str:
        sentences = [" ".join(rng.choices(words, k=rng.randint(6, 14))).capitalize() + "." for _ in range(3)]
        return " ".join(sentences)

    def __repr__(self) -> str:
        return "Plausible()"
