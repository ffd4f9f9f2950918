"""Templates for pairwise judging: which of two responses to one instruction is better (MT-Bench style).

- ``pairwise.compare``: the instruction and two responses labelled Assistant A and Assistant B; the judge
  explains briefly, then ends with ``[[A]]``, ``[[B]]`` or ``[[C]]`` (a tie). The system prompt tells the judge
  to ignore the order and the length of the responses; the judge is still asked in both orders
  (:class:`~curator_synth.reward.pairwise.AsyncPairwiseJudge`), because telling a model to be fair does not make
  it so.
- ``pairwise.repair``: sent after an answer in which no verdict could be found, asking for the verdict alone.
"""

from __future__ import annotations

from curator_synth.prompts.base import PromptTemplate, register

__all__ = ["PAIRWISE_COMPARE", "PAIRWISE_REPAIR", "PAIRWISE_SYSTEM_PROMPT"]

#: The judge's instructions (the system message of ``pairwise.compare``).
PAIRWISE_SYSTEM_PROMPT = (
    "You are an impartial judge of AI assistants. You will see a user's instruction and the responses of two "
    "assistants, A and B. Decide which response follows the instruction better and serves the user better: "
    "weigh helpfulness, correctness, relevance, depth and clarity. The order in which the responses are shown "
    "must not influence you, nor their length, nor the assistants' names. First compare the two responses in "
    "a few sentences. Then give your final verdict on the last line, exactly in this format: [[A]] if "
    "assistant A is better, [[B]] if assistant B is better, [[C]] if they are equally good."
)

PAIRWISE_COMPARE = register(
    PromptTemplate(
        id="pairwise.compare",
        version=1,
        description="Pairwise judgement: which of two responses to an instruction is better ([[A]]/[[B]]/[[C]]).",
        system=PAIRWISE_SYSTEM_PROMPT,
        text=(
            "[User Instruction]\n{instruction}\n\n"
            "[The Start of Assistant A's Response]\n{response_a}\n[The End of Assistant A's Response]\n\n"
            "[The Start of Assistant B's Response]\n{response_b}\n[The End of Assistant B's Response]"
        ),
    )
)

PAIRWISE_REPAIR = register(
    PromptTemplate(
        id="pairwise.repair",
        version=1,
        description="Follow-up when a pairwise answer has no readable verdict: ask for the verdict token alone.",
        text=(
            "Your reply did not end with a verdict in the required format. Reply with the verdict only, nothing "
            "else: [[A]] if assistant A's response is better, [[B]] if assistant B's response is better, [[C]] "
            "if they are equally good."
        ),
    )
)
