"""Persona-driven generation templates, after Persona Hub (Ge et al., 2024, "Scaling Synthetic Data Creation
with 1,000,000,000 Personas"); the wording is our own.

1. **Text to persona** — from any text (a web page, a forum post, a manual), infer one specific person who
   would write it, read it closely or care about it. Varied texts give varied personas.
2. **Persona to task** — the persona goes into an otherwise fixed request, so each persona steers the
   model towards a different corner of the task space:

   - ``persona.math_problem``: a math problem set in the persona's world;
   - ``persona.knowledge_question``: a question that takes real knowledge of the persona's field to answer;
   - ``persona.writing_task``: a concrete writing request the persona would give an assistant.

Each template asks for the result alone; :mod:`curator_synth.generators.persona` strips common lead-ins.
"""

from __future__ import annotations

from curator_synth.prompts.base import PromptTemplate, register

__all__ = ["KNOWLEDGE_QUESTION", "MATH_PROBLEM", "PERSONA_TASKS", "TEXT_TO_PERSONA", "WRITING_TASK"]

TEXT_TO_PERSONA = register(
    PromptTemplate(
        id="persona.text_to_persona",
        version=1,
        description="Infer one specific person who would write, read or care about a text.",
        text=(
            "Here is a text:\n\n"
            "<text>\n{text}\n</text>\n\n"
            "Think of one particular person who would plausibly have written this text, who would read it "
            "closely, or who would feel strongly about it, for or against. Describe that person in one "
            'sentence: what they do, what they know well and what they care about. Be specific ("a night-shift '
            'nurse who trains new staff on infusion pumps") rather than generic ("someone interested in '
            'health"). Write only the description, beginning with "A" or "An".'
        ),
    )
)

_PERSONA = "<persona>\n{persona}\n</persona>\n\n"

MATH_PROBLEM = register(
    PromptTemplate(
        id="persona.math_problem",
        version=1,
        description="Persona to task: a challenging math problem from the persona's world.",
        text=(
            "Here is a description of a person:\n\n"
            + _PERSONA
            + "Write a challenging math problem that this person could meet in their work, studies or daily "
            "life, or would enjoy setting for others. Take the setting and the quantities from their world, "
            "give every number the problem needs, and make it solvable in several steps of reasoning. "
            "Write only the problem: no solution, no hints and no title."
        ),
    )
)

KNOWLEDGE_QUESTION = register(
    PromptTemplate(
        id="persona.knowledge_question",
        version=1,
        description="Persona to task: a question that needs real knowledge of the persona's field.",
        text=(
            "Here is a description of a person:\n\n"
            + _PERSONA
            + "Write a question this person would really want answered, one whose good answer takes real "
            "knowledge of their field or interests (facts, mechanisms, history, trade-offs), not an opinion "
            "or a search for a single number. Phrase it the way they would ask it. "
            "Write only the question."
        ),
    )
)

WRITING_TASK = register(
    PromptTemplate(
        id="persona.writing_task",
        version=1,
        description="Persona to task: a concrete writing request the persona would give an assistant.",
        text=(
            "Here is a description of a person:\n\n"
            + _PERSONA
            + "Write a request this person might send to an AI writing assistant: a specific piece of writing "
            "they need (for example an email, a speech, a story, a report section, a product description or "
            "a post), with its audience, purpose, tone and any constraints such as length or format. Write it "
            "in their voice, as the request itself. Write only the request."
        ),
    )
)

#: The persona-to-task templates by task kind.
PERSONA_TASKS: dict[str, PromptTemplate] = {
    "math": MATH_PROBLEM,
    "knowledge": KNOWLEDGE_QUESTION,
    "writing": WRITING_TASK,
}
