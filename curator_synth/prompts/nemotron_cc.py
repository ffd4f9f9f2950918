"""Prompt templates of Nemotron-CC's synthetic rephrasing (Su et al., 2024, "Nemotron-CC: Transforming Common
Crawl into a Refined Long-Horizon Pretraining Dataset"; NeMo Curator's ``NemotronCCGenerator``).

The wording is this library's own; the methods and their rules are the paper's. Low-quality web text is
rephrased in the style of Wikipedia (after WRAP, Maini et al., 2024), which cleans it up without adding
knowledge. High-quality text is turned into four new forms: diverse question/answer pairs of several kinds,
a condensed "distilled" paraphrase (with its own system prompt), a textbook-style restatement of the
knowledge it holds, and a dense list of its facts. Every template takes the text as ``{document}``.

Three templates ask the answer to open with a fixed lead-in (:data:`WIKIPEDIA_PREFIX`,
:data:`DIVERSE_QA_PREFIX`, :data:`DISTILL_PREFIX`); the post-processors in
:mod:`curator_synth.generators.nemotron_cc_post` check it and strip it, and reject answers that lack it. The
constant names are NeMo Curator 0.9's.
"""

from __future__ import annotations

from curator_synth.prompts.base import PromptTemplate, register

__all__ = [
    "DISTILL_PREFIX",
    "DISTILL_PROMPT_TEMPLATE",
    "DIVERSE_QA_PREFIX",
    "DIVERSE_QA_PROMPT_TEMPLATE",
    "EXTRACT_KNOWLEDGE_PROMPT_TEMPLATE",
    "KNOWLEDGE_LIST_PROMPT_TEMPLATE",
    "NEMOTRON_CC_DISTILL_SYSTEM_PROMPT",
    "NEMOTRON_CC_SYSTEM_PROMPT",
    "WIKIPEDIA_PREFIX",
    "WIKIPEDIA_REPHRASING_PROMPT_TEMPLATE",
]

#: The lead-in a Wikipedia-style rephrasing must start with.
WIKIPEDIA_PREFIX = "Here is a paraphrased text:"
#: The lead-in of a diverse QA answer (optional there: the pairs are found by their labels).
DIVERSE_QA_PREFIX = "Here are the questions and answers based on the provided text:"
#: The lead-in a distilled text must start with.
DISTILL_PREFIX = "Paraphrased Text:"

#: The system prompt of every Nemotron-CC method except distillation.
NEMOTRON_CC_SYSTEM_PROMPT = (
    "This is a conversation between a curious user and an artificial intelligence assistant. "
    "The assistant answers helpfully, in detail and politely."
)

#: Distillation's own system prompt: an assistant known for accurate, careful, well-reasoned answers.
NEMOTRON_CC_DISTILL_SYSTEM_PROMPT = (
    "You are an artificial intelligence assistant. Your answers are accurate, factual, well thought out and "
    "nuanced, and you reason exceptionally well."
)

WIKIPEDIA_REPHRASING_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="nemotron_cc.wikipedia",
        version=1,
        description="Rephrase (low-quality) web text as varied, high-quality English in the style of Wikipedia.",
        system=NEMOTRON_CC_SYSTEM_PROMPT,
        text=(
            "Paraphrase the paragraph below. Make the paraphrase varied, and write it in high-quality English "
            "that reads like sentences from Wikipedia. Start your answer on a line of its own with "
            f'"{WIKIPEDIA_PREFIX}"\n\n'
            "Text: {document}"
        ),
    )
)

DIVERSE_QA_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="nemotron_cc.diverse_qa",
        version=1,
        description="Read a text and write up to eight varied question/answer pairs about it.",
        system=NEMOTRON_CC_SYSTEM_PROMPT,
        text=(
            "Task: read the text below, then write questions about it and answer them. Rules:\n"
            "1. Vary the questions: together they should call on different cognitive skills and cover "
            "different parts of the text.\n"
            "2. Use a mix of question types, for example:\n"
            "   - yes/no questions, which ask whether a statement is true or false;\n"
            "   - open questions starting with what, how, when, where, why or who;\n"
            "   - multiple-choice questions with two or more options, the options written inside the question;\n"
            "   - comparison questions, which weigh two quantities or things against each other and ask how "
            "they relate;\n"
            "   - reading-comprehension questions, which check that the text was understood and analysed;\n"
            "   - problem-solving questions, which need a mathematical, physical or logical problem to be "
            "solved.\n"
            "3. Ask about facts, important knowledge and concrete details that the text states.\n"
            "4. Keep the language of questions and answers clear and concise.\n"
            "5. Write plain text, without any Markdown.\n"
            '6. Put each question and its answer on a line of their own, the question marked "Question:" and '
            'the answer marked "Answer:".\n\n'
            "Text: {document}\n\n"
            "Task: now that you have read the text, write at most 8 questions with their correct answers, "
            "following the rules above. Use exactly this format:\n"
            f"{DIVERSE_QA_PREFIX}\n"
            "- Question: [first question] Answer: [first answer]\n"
            "- Question: [second question] Answer: [second answer]\n"
            "..."
        ),
    )
)

DISTILL_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="nemotron_cc.distill",
        version=1,
        description="Condense a text into a shorter paraphrase that keeps its information, terms and reasoning.",
        system=NEMOTRON_CC_DISTILL_SYSTEM_PROMPT,
        text=(
            "Your task is to paraphrase the text below. Rules:\n"
            "- Make it shorter but still accurate and informative: a condensed version, not a simple summary.\n"
            "- Keep the essential information, the key concepts, the important values and the factual details, "
            "and make the text easier to read and to follow.\n"
            "- Keep technical terms, specialised vocabulary and complex ideas as they are.\n"
            "- Keep examples, explanations of how conclusions are reached, and supporting evidence, so the "
            "text keeps its depth and context.\n"
            "- Use only information the text contains; add no new or unsupported claims.\n"
            "- Write plain text with no formatting.\n\n"
            "Text:\n{document}\n\n"
            "Task: after reading the text carefully, paraphrase it in clear, high-quality English following the "
            f'rules above. Start your answer with "{DISTILL_PREFIX}"'
        ),
    )
)

EXTRACT_KNOWLEDGE_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="nemotron_cc.extract_knowledge",
        version=1,
        description="Restate the knowledge in a text as textbook/Wikipedia-style passages, dropping the rest.",
        system=NEMOTRON_CC_SYSTEM_PROMPT,
        text=(
            "Your task is to rewrite the knowledge contained in the text below. Rules:\n"
            "- Write one or more passages in plain, easy-to-follow, high-quality English, like the sentences of "
            "a textbook or of Wikipedia.\n"
            "- Concentrate on subject matter from fields such as the humanities, the social and natural "
            "sciences, technology, engineering, mathematics, law, business, management, art, education, "
            "agriculture, politics and history.\n"
            "- Leave out whatever carries no useful facts or knowledge.\n"
            "- Keep examples, explanations of reasoning and supporting evidence, so the text keeps its depth "
            "and context.\n"
            "- Do not add or change any detail: only restate what the text already says.\n"
            "- Write plain text.\n"
            "- Add no title, subtitle, note or comment.\n\n"
            "Text:\n{document}\n\n"
            "Task: rewrite the facts and the knowledge of the text above as one or more passages, following the "
            "rules."
        ),
    )
)

KNOWLEDGE_LIST_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="nemotron_cc.knowledge_list",
        version=1,
        description="Extract a text's facts, details, key concepts and numbers as a dense bulleted list.",
        system=NEMOTRON_CC_SYSTEM_PROMPT,
        text=(
            "Go through the text below and pull out its key information. Rules:\n"
            "- Read the text carefully and give a concise, well-organised bulleted list of the factual information, "
            "concrete details, key concepts and important numbers and statistics it contains.\n"
            "- Make every point clear and specific, and make sure the text supports it.\n"
            "- Pack the list with information, so that it is easier to learn from than the text.\n"
            "- Add no title or heading.\n\n"
            "Text:\n{document}\n\n"
            "Task: list the factual information, concrete details and key concepts of the text above, following "
            "the rules."
        ),
    )
)
