"""Prompt templates of the text transformations in NeMo Curator's synthetic-data concepts: paraphrase, web text
to educational material, structured extraction, style/tone change, context addition, translation,
simplification and explanation.

Every template takes the source as ``{text}``; some take one more value (``{style}``, ``{target_language}``,
``{audience}``, and ``{schema}``: the JSON Schema of the pydantic model to extract). Each asks for the result
alone, with no introduction, so the answer can be used as it arrives. :data:`TRANSFORM_OPS` maps the operation
names of :class:`curator_synth.generators.transforms.AsyncTransformer` to their templates.
"""

from __future__ import annotations

from curator_synth.prompts.base import PromptTemplate, register

__all__ = [
    "ADD_CONTEXT_PROMPT_TEMPLATE",
    "EDUCATIONAL_PROMPT_TEMPLATE",
    "EXPLANATION_PROMPT_TEMPLATE",
    "PARAPHRASE_PROMPT_TEMPLATE",
    "RESTYLE_PROMPT_TEMPLATE",
    "SIMPLIFICATION_PROMPT_TEMPLATE",
    "STRUCTURED_EXTRACTION_PROMPT_TEMPLATE",
    "TRANSFORM_OPS",
    "TRANSLATION_PROMPT_TEMPLATE",
]


def _only(what: str) -> str:
    """The closing rule of every text-producing template: the result alone, nothing around it."""
    return f"Reply with the {what} alone: no introduction, no notes and no closing remarks."


PARAPHRASE_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="transforms.paraphrase",
        version=1,
        description="Say the same thing in different words, keeping every fact and the length roughly equal.",
        text=(
            "Paraphrase the text below: express the same content in different words and sentence structures.\n"
            "- Keep every fact, name, number and claim; add nothing and leave nothing out.\n"
            "- Keep the meaning, the tone and roughly the length of the original.\n"
            "- Do not copy whole sentences unchanged.\n"
            f"{_only('paraphrase')}\n\n"
            "Text:\n{text}"
        ),
    )
)

EDUCATIONAL_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="transforms.to_educational",
        version=1,
        description="Turn web text into well-structured educational material (a short textbook-style section).",
        text=(
            "Rewrite the web text below as educational material, like a section of a textbook.\n"
            "- Open with what the reader will learn, then present the content in a clear, logical order.\n"
            "- Explain key terms when they first appear, and keep or add short worked examples where the text "
            "supports them.\n"
            "- Drop what has no teaching value: navigation, adverts, calls to action, personal asides.\n"
            "- Use only information found in the text; do not invent facts.\n"
            "- End with a short summary of the main points.\n"
            f"{_only('educational text')}\n\n"
            "Web text:\n{text}"
        ),
    )
)

STRUCTURED_EXTRACTION_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="transforms.extract_structured",
        version=1,
        description="Extract the information of a text into a JSON object valid against a given JSON Schema.",
        text=(
            "Extract information from the text below into a JSON object that is valid against this JSON "
            "Schema:\n{schema}\n\n"
            "- Take every value from the text; do not guess. Use null for an optional field the text does not "
            "give.\n"
            "- Keep names, numbers and dates exactly as the text gives them, converted to the type the schema "
            "asks for.\n"
            "Reply with the JSON object alone, with no code fences and no other text.\n\n"
            "Text:\n{text}"
        ),
    )
)

RESTYLE_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="transforms.restyle",
        version=1,
        description="Rewrite a text in another style or tone ({style}), keeping its content.",
        text=(
            "Rewrite the text below in this style and tone: {style}.\n"
            "- Change the wording, register and sentence rhythm to fit the style.\n"
            "- Keep the content: every fact, name, number and claim stays, and nothing is added.\n"
            f"{_only('rewritten text')}\n\n"
            "Text:\n{text}"
        ),
    )
)

ADD_CONTEXT_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="transforms.add_context",
        version=1,
        description="Make a text self-contained by adding the background a reader needs to understand it.",
        text=(
            "Rewrite the text below so that a reader who knows nothing about its subject can understand it on "
            "its own.\n"
            "- Keep all of the original content.\n"
            "- Add the background it takes for granted: say who or what the people, places, organisations and "
            "events it mentions are, define specialised terms, and spell out abbreviations.\n"
            "- Add only well-established facts; where you are unsure, add nothing.\n"
            "- Work the context into the text itself rather than into footnotes or a separate list.\n"
            f"{_only('rewritten text')}\n\n"
            "Text:\n{text}"
        ),
    )
)

TRANSLATION_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="transforms.translate",
        version=1,
        description="Translate a text into {target_language}, faithfully and naturally.",
        text=(
            "Translate the text below into {target_language}.\n"
            "- Be faithful: keep every piece of information, and the tone and register of the original.\n"
            "- Write natural {target_language}, not a word-for-word rendering.\n"
            "- Leave names, code, URLs and numbers as they are unless {target_language} writes them differently.\n"
            f"{_only('translation')}\n\n"
            "Text:\n{text}"
        ),
    )
)

SIMPLIFICATION_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="transforms.simplify",
        version=1,
        description="Rewrite a text in simpler language for a given audience ({audience}).",
        text=(
            "Rewrite the text below in simpler language for this audience: {audience}.\n"
            "- Use short sentences and everyday words; explain or replace jargon.\n"
            "- Keep the main facts and their meaning correct: simplify, do not distort.\n"
            "- Leave out details the audience does not need, but nothing essential.\n"
            f"{_only('simplified text')}\n\n"
            "Text:\n{text}"
        ),
    )
)

EXPLANATION_PROMPT_TEMPLATE = register(
    PromptTemplate(
        id="transforms.explain",
        version=1,
        description="Explain a text: what it says, the concepts it relies on, and why it matters.",
        text=(
            "Explain the text below to an interested reader.\n"
            "- Say in plain words what it states, then explain the concepts, terms and reasoning it relies on.\n"
            "- Say why the points it makes matter, or how they connect.\n"
            "- Stay faithful to the text: mark clearly anything you add that the text does not say.\n"
            f"{_only('explanation')}\n\n"
            "Text:\n{text}"
        ),
    )
)

#: Operation name → template, in the order of :class:`~curator_synth.generators.transforms.AsyncTransformer`.
TRANSFORM_OPS: dict[str, PromptTemplate] = {
    "paraphrase": PARAPHRASE_PROMPT_TEMPLATE,
    "to_educational": EDUCATIONAL_PROMPT_TEMPLATE,
    "extract_structured": STRUCTURED_EXTRACTION_PROMPT_TEMPLATE,
    "restyle": RESTYLE_PROMPT_TEMPLATE,
    "add_context": ADD_CONTEXT_PROMPT_TEMPLATE,
    "translate": TRANSLATION_PROMPT_TEMPLATE,
    "simplify": SIMPLIFICATION_PROMPT_TEMPLATE,
    "explain": EXPLANATION_PROMPT_TEMPLATE,
}
