"""Prompt templates of the Nemotron-4 340B synthetic-data recipe (NeMo Curator's ``NemotronGenerator``).

The wording is this library's own; the structure follows the method the Nemotron-4 340B technical report
describes: topics are drawn from the model itself (macro topics, then subtopics), questions and tasks are
generated per topic and then revised to be more detailed, closed questions are asked about a given document,
math and coding topics are checked with a Yes/No classification, and dialogues are grown by letting a model
play the user. List-shaped answers are asked for as numbered lists; when one cannot be parsed, the YAML
conversion template asks a model to copy the items verbatim into a YAML list (checked afterwards).

The constant names are NeMo Curator 0.9's, so code written for ``nemo_curator.synthetic`` keeps working.
"""

from __future__ import annotations

from curator_synth.prompts.base import PromptTemplate, register

__all__ = [
    "DEFAULT_CLOSED_QA_PROMPT_TEMPLATE",
    "DEFAULT_MACRO_TOPICS_PROMPT_TEMPLATE",
    "DEFAULT_MATH_CLASSIFICATION_PROMPT_TEMPLATE",
    "DEFAULT_MATH_MACRO_TOPICS_PROMPT_TEMPLATE",
    "DEFAULT_MATH_SUBTOPICS_PROMPT_TEMPLATE",
    "DEFAULT_OPEN_QA_FROM_TOPICS_PROMPT_TEMPLATE",
    "DEFAULT_PYTHON_CLASSIFICATION_PROMPT_TEMPLATE",
    "DEFAULT_PYTHON_MACRO_TOPICS_PROMPT_TEMPLATE",
    "DEFAULT_PYTHON_SUBTOPICS_PROMPT_TEMPLATE",
    "DEFAULT_REVISE_OPEN_QA_PROMPT_TEMPLATE",
    "DEFAULT_REVISE_WRITING_TASK_PROMPT_TEMPLATE",
    "DEFAULT_SUBTOPICS_PROMPT_TEMPLATE",
    "DEFAULT_TWO_TURN_PROMPT_TEMPLATE",
    "DEFAULT_WRITING_TASK_PROMPT_TEMPLATE",
    "DEFAULT_YAML_CONVERSION_PROMPT_TEMPLATE",
    "DIALOGUE_COMPLEX_USER_TURN_PROMPT_TEMPLATE",
    "DIALOGUE_CONCISE_USER_TURN_PROMPT_TEMPLATE",
    "DIALOGUE_NORMAL_USER_TURN_PROMPT_TEMPLATE",
    "MATH_PROBLEM_BEGINNER_PROMPT_TEMPLATE",
    "MATH_PROBLEM_GENERAL_PROMPT_TEMPLATE",
    "PYTHON_PROBLEM_ADVANCED_PROMPT_TEMPLATE",
    "PYTHON_PROBLEM_BEGINNER_PROMPT_TEMPLATE",
    "PYTHON_PROBLEM_INTERMEDIATE_PROMPT_TEMPLATE",
]

_LIST_ONLY = "Answer with a numbered list only, one item per line, and nothing before or after it."

# ------------------------------------------------------------------------------------------ list conversion
DEFAULT_YAML_CONVERSION_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="nemotron.yaml_conversion",
        version=1,
        description="Turn a list-like answer into a YAML list of strings, copying every item verbatim.",
        text=(
            "The response below contains a list of items. Rewrite only that list as a YAML list of strings.\n"
            "Rules:\n"
            "- Copy each item word for word, exactly as written, leaving out only its number or bullet.\n"
            "- Do not reword, shorten, merge, split or add items.\n"
            "- Leave out any text that is not one of the items (introductions, headings, closing remarks).\n"
            "- Reply with the YAML list alone: no code fences, no comments, no other text.\n\n"
            "RESPONSE:\n{llm_response}"
        ),
    )
)

# -------------------------------------------------------------------------------------- open Q&A (world)
DEFAULT_MACRO_TOPICS_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="nemotron.macro_topics",
        version=1,
        description="Broad topics about everyday life, the world and science (first stage of open Q&A).",
        text=(
            "Propose {n_macro_topics} broad topics that, taken together, cover the many sides of everyday life, "
            "the world around us and science. Make them as different from one another as you can. "
            f"{_LIST_ONLY} For example:\n1. Health and medicine\n2. Travel and geography"
        ),
    )
)

DEFAULT_SUBTOPICS_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="nemotron.subtopics",
        version=1,
        description="Subtopics covering different aspects of one macro topic.",
        text=(
            "Propose {n_subtopics} topics that, taken together, cover different aspects of {macro_topic}. "
            f"Make them as different from one another as you can. {_LIST_ONLY}"
        ),
    )
)

DEFAULT_OPEN_QA_FROM_TOPICS_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="nemotron.open_qa_from_topic",
        version=1,
        description="Open questions or requests a user might ask about a topic.",
        text=(
            "Write {n_openlines} questions or requests that a person might bring to an AI assistant about {topic}. "
            f"Vary them as much as possible, both in what they ask and in how they ask it. {_LIST_ONLY}"
        ),
    )
)

DEFAULT_REVISE_OPEN_QA_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="nemotron.revise_open_qa",
        version=1,
        description="Rewrite an open question with more context or detail, several ways.",
        text=(
            "Here is a question:\n{openline}\n\n"
            "Rewrite it in {n_revisions} different ways, each adding context or detail. A rewrite may, for instance:\n"
            "1. give background, such as why the question matters, what the asker already knows, or other "
            "plausible circumstances;\n"
            "2. change the form or style, for example turn it into an instruction or ask for an answer of a "
            "given length;\n"
            "3. ask for a deeper treatment of one particular aspect or point;\n"
            "4. turn into another closely related question or request.\n"
            "Each rewrite should be two to four sentences long. Make the rewrites as different from one another as "
            "you can. Answer with a numbered list of the rewrites only."
        ),
    )
)

# ------------------------------------------------------------------------------------------------ writing
DEFAULT_WRITING_TASK_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="nemotron.writing_tasks",
        version=1,
        description="Writing tasks asking for one type of text (essay, poem, email, ...) about a topic.",
        text=(
            'Write {n_tasks} different tasks, each asking for a "{text_material_type}" about {topic}. State each '
            "task in one or two short sentences. Make the tasks as different from one another as you can. "
            f"{_LIST_ONLY}"
        ),
    )
)

DEFAULT_REVISE_WRITING_TASK_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="nemotron.revise_writing_task",
        version=1,
        description="Rewrite a writing task with more specific requirements, several ways.",
        text=(
            "Here is a writing task:\n{openline}\n\n"
            "Rewrite it in {n_revisions} different ways, each with more specific requirements. A rewrite may, "
            "for instance:\n"
            "1. ask to expand on one particular aspect or to argue a specific point;\n"
            "2. ask to include examples, figures or references;\n"
            "3. set constraints of form or style, such as a word limit, a structure, or words that must appear;\n"
            "4. add any other sensible requirement that makes the task more precise.\n"
            "Each rewritten task should be two to four sentences long. Make them as different from one another as "
            "you can. Answer with a numbered list of the rewritten tasks only."
        ),
    )
)

# ------------------------------------------------------------------------------------------ closed Q&A
DEFAULT_CLOSED_QA_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="nemotron.closed_qa",
        version=1,
        description="Questions or instructions that can only be answered with a given document.",
        text=(
            "Read the text below.\n\nTEXT:\n{document}\n\n"
            "Write {n_openlines} questions or instructions about this text. They may, for instance:\n"
            "1. ask for a piece of information the text contains;\n"
            "2. ask to summarize, paraphrase or explain the text;\n"
            "3. ask to write something similar to the text;\n"
            "4. make any other reasonable request that depends on the text.\n"
            f"Vary them as much as possible. {_LIST_ONLY}"
        ),
    )
)

# ---------------------------------------------------------------------------------------------------- math
DEFAULT_MATH_MACRO_TOPICS_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="nemotron.math_macro_topics",
        version=1,
        description="Broad mathematics topics taught at one school level.",
        text=(
            "Propose {n_macro_topics} broad topics that, taken together, cover the mathematics taught in "
            f"{{school_level}}. Make them as different from one another as you can. {_LIST_ONLY}"
        ),
    )
)

DEFAULT_MATH_SUBTOPICS_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="nemotron.math_subtopics",
        version=1,
        description="Mathematics subtopics of one math macro topic.",
        text=(
            'Propose {n_subtopics} mathematics topics that cover different aspects of "{macro_topic}". '
            f"Make them as different from one another as you can. {_LIST_ONLY}"
        ),
    )
)

DEFAULT_MATH_CLASSIFICATION_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="nemotron.math_classification",
        version=1,
        description="Is an entity a mathematical concept worth generating problems about? Answer starts Yes/No.",
        text=(
            'Is "{entity}" a mathematical entity of one of the following kinds?\n'
            "- a concept taught in mathematics at elementary school, middle school, high school or university;\n"
            "- a notable axiom, theorem, algorithm, equation or inequality;\n"
            "- a typical mathematics problem, function or application.\n\n"
            'Begin your answer with "Yes" or "No".'
        ),
    )
)

MATH_PROBLEM_GENERAL_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="nemotron.math_problem_general",
        version=1,
        description="Math problems about, or solvable with, a topic (any difficulty).",
        text=(
            'Write {n_openlines} mathematics problems that are about "{topic}" or can be solved with "{topic}". '
            f"Make the problems as different from one another as you can. {_LIST_ONLY}"
        ),
    )
)

MATH_PROBLEM_BEGINNER_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="nemotron.math_problem_beginner",
        version=1,
        description="Math problems about a topic, pitched at someone who has just learned it.",
        text=(
            'Write {n_openlines} mathematics problems that are about "{topic}" or can be solved with "{topic}". '
            'Pitch them at a learner who has only just been introduced to "{topic}". '
            f"Make the problems as different from one another as you can. {_LIST_ONLY}"
        ),
    )
)

# -------------------------------------------------------------------------------------------------- python
DEFAULT_PYTHON_MACRO_TOPICS_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="nemotron.python_macro_topics",
        version=1,
        description="Key concepts of the Python language.",
        text=f"Name {{n_macro_topics}} key concepts of the Python programming language. {_LIST_ONLY}",
    )
)

DEFAULT_PYTHON_SUBTOPICS_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="nemotron.python_subtopics",
        version=1,
        description="Python concepts related to one Python macro topic.",
        text=f'Name {{n_subtopics}} key Python concepts related to "{{macro_topic}}". {_LIST_ONLY}',
    )
)

DEFAULT_PYTHON_CLASSIFICATION_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="nemotron.python_classification",
        version=1,
        description="Is an entity a programming concept worth generating Python problems about? Starts Yes/No.",
        text=(
            'Is "{entity}" a programming entity of one of the following kinds?\n'
            "- a programming concept in Python, such as loops, functions or data structures;\n"
            "- a notable Python function, object or library;\n"
            "- a mathematical concept, such as linear algebra, that can be implemented in Python;\n"
            "- a basic algorithm or problem of computer science, such as greedy search or dynamic programming, "
            "that can be solved in Python.\n\n"
            'Begin your answer with "Yes" or "No".'
        ),
    )
)


def _coding_problems(level: str, audience: str) -> PromptTemplate:
    return register(
        PromptTemplate(
            id=f"nemotron.python_problem_{level}",
            version=1,
            description=f"Coding problems in a given programming language about a topic, for {level} programmers.",
            text=(
                'Write {n_openlines} {language} programming problems about "{topic}", suited to '
                f"{audience}. Make the problems as different from one another as you can. {_LIST_ONLY}"
            ),
        )
    )


PYTHON_PROBLEM_BEGINNER_PROMPT_TEMPLATE = _coding_problems("beginner", 'beginners who have just learned "{topic}"')
PYTHON_PROBLEM_INTERMEDIATE_PROMPT_TEMPLATE = _coding_problems(
    "intermediate", 'programmers with some working experience of "{topic}"'
)
PYTHON_PROBLEM_ADVANCED_PROMPT_TEMPLATE = _coding_problems(
    "advanced", 'experienced programmers with a thorough, practical knowledge of "{topic}"'
)

# ------------------------------------------------------------------------------------------------ dialogue
_CONVERSATION = (
    "Below is a conversation between a user and an AI assistant.\n\n"
    "[START OF CONVERSATION]\n{conversation_history}\n[END OF CONVERSATION]\n\n"
)
_JUST_THE_MESSAGE = "Reply with that message alone, without any introduction, quotes or explanation."


def _user_turn(style: str, instruction: str) -> PromptTemplate:
    return register(
        PromptTemplate(
            id=f"nemotron.dialogue_user_turn_{style}",
            version=1,
            description=f"Play the user: the next user message of a dialogue ({style}).",
            text=_CONVERSATION + instruction + " " + _JUST_THE_MESSAGE,
        )
    )


DIALOGUE_NORMAL_USER_TURN_PROMPT_TEMPLATE = _user_turn(
    "normal",
    "Write the user's next message: a follow-up question or request that the user could naturally send now, "
    "in the user's own voice.",
)
DIALOGUE_COMPLEX_USER_TURN_PROMPT_TEMPLATE = _user_turn(
    "complex",
    "Write the user's next message: a follow-up question or request in the user's own voice that builds on the "
    "conversation, is demanding rather than trivial, and differs from what was already asked.",
)
DIALOGUE_CONCISE_USER_TURN_PROMPT_TEMPLATE = _user_turn(
    "concise",
    "Write the user's next message: a short follow-up question or request in the user's own voice. Be critical "
    "of the last answer where it deserves it, and make the message sound like a real person typing.",
)

DEFAULT_TWO_TURN_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="nemotron.two_turn_user_turn",
        version=1,
        description="Play the user: the second user message after one user/assistant exchange.",
        text=(
            "Below is the beginning of a conversation: a user's first message and the AI assistant's reply.\n\n"
            "[START OF CONVERSATION]\n{conversation_history}\n[END OF CONVERSATION]\n\n"
            "Take the role of the user and write their second message, one that reacts to the reply: it may ask "
            "for clarification, question or push back on part of the answer, or take the subject further. "
            + _JUST_THE_MESSAGE
        ),
    )
)
