"""Templates for answering instructions and for simulating the user of a multi-turn dialogue.

- ``responses.answer``: the instruction as the user message, nothing added. Pass ``system_prompt=`` to the
  response generator to put a system prompt before it (:data:`ASSISTANT_SYSTEM_PROMPT` is a sensible one).
- ``responses.user_turn``: the model plays the *user*. It reads the conversation so far (rendered by
  :func:`transcript`) and writes the next user message: a natural follow-up, in the same user's voice.

The assistant turns of a dialogue are the conversation itself (no template): they are sent under the
journal namespace :data:`ASSISTANT_TURN_NAMESPACE`.
"""

from __future__ import annotations

from curator_synth.prompts.base import PromptTemplate, register, transcript

__all__ = ["ANSWER", "ASSISTANT_SYSTEM_PROMPT", "ASSISTANT_TURN_NAMESPACE", "USER_TURN", "transcript"]

#: An optional system prompt for answering instructions (not sent unless asked for).
ASSISTANT_SYSTEM_PROMPT = (
    "You are a knowledgeable and careful assistant. Answer the user's request directly and completely. "
    "When it has several parts, address each one; when it is ambiguous, say how you read it. Prefer "
    "correct, specific statements to vague ones, show the steps of any calculation or reasoning that the "
    "answer depends on, and say plainly when you are unsure or when something cannot be known."
)

#: Journal namespace of a dialogue's assistant turns (each is the conversation so far, sent as chat).
ASSISTANT_TURN_NAMESPACE = "responses.assistant_turn@1"

ANSWER = register(
    PromptTemplate(
        id="responses.answer",
        version=1,
        description="The instruction itself as the user message (a system prompt may be added).",
        text="{instruction}",
    )
)

USER_TURN = register(
    PromptTemplate(
        id="responses.user_turn",
        version=1,
        description="User simulation: write the user's next message of a conversation with an assistant.",
        text=(
            "You are playing the human user in the conversation below between a user and an AI assistant.\n\n"
            "<conversation>\n{conversation}\n</conversation>\n\n"
            "Write the message this user would most naturally send next. Build on the assistant's last reply: "
            "for instance, ask to go deeper into one point, apply the answer to the user's own situation, "
            "question something that looks wrong or unclear, or move on to a closely related need. Stay the "
            "same person with the same goal, keep their tone and their usual message length, and do not thank "
            "the assistant, say goodbye or answer on the assistant's behalf. Write only the message itself, "
            "with no role label, quotation marks or comments."
        ),
    )
)
