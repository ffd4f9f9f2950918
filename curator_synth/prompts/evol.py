"""Evol-Instruct templates (Xu et al., 2023, "WizardLM"; Luo et al., 2023, "WizardCoder"), written anew.

The structure follows the papers; the wording is ours:

- **In-depth evolving** rewrites an instruction into a harder one with one of five operations: add a constraint,
  deepen the inquiry, concretize (general concepts become specific ones), ask for more reasoning steps, or
  complicate the input (the answer must use a table, code, JSON, a formula, ...). The rewrite may add only
  10 to 20 words and must stay answerable by a person.
- **In-breadth evolving** writes a brand-new, rarer instruction of the same domain and about the same length.
- **Elimination** asks a judge whether the evolved instruction equals its parent in constraints, depth and
  breadth (answer ``Equal`` or ``Not Equal``): an equal one brought no information gain and is dropped.
- **Code Evol-Instruct** makes a programming task harder: more constraints, a rarer requirement instead of a
  common one, more reasoning steps, a piece of erroneous code as misdirection, or a tighter time or space
  complexity bound.

Every rewriting template forbids its own section markers in the answer; :data:`LEAK_MARKERS` lists them
(and the original paper's) so the generator can drop evolutions that copied template text.
"""

from __future__ import annotations

from curator_synth.prompts.base import PromptTemplate, register

__all__ = [
    "BREADTH",
    "CODE_ADD_CONSTRAINTS",
    "CODE_ERRONEOUS_REFERENCE",
    "CODE_HIGHER_COMPLEXITY",
    "CODE_MORE_REASONING",
    "CODE_OPS",
    "CODE_RARER_REQUIREMENT",
    "DEPTH_ADD_CONSTRAINTS",
    "DEPTH_COMPLICATE_INPUT",
    "DEPTH_CONCRETIZE",
    "DEPTH_DEEPEN",
    "DEPTH_INCREASE_REASONING",
    "DEPTH_OPS",
    "EQUALITY",
    "LEAK_MARKERS",
    "RESPONSE",
]

_ORIGINAL = "#Original Instruction#"
_REWRITTEN = "#Rewritten Instruction#"
_NEW = "#New Instruction#"


def _depth(method: str) -> str:
    return (
        "You are an instruction rewriter. Turn the instruction below into a somewhat harder version, one that "
        "well-known AI assistants would find more demanding, while a person could still understand it and "
        "answer it.\n"
        f"Keep everything that is not plain prose in {_ORIGINAL} (tables, code, data) and keep its input.\n"
        f"Make it harder in this way: {method}\n"
        f"Do not let the rewrite become wordy: {_REWRITTEN} may add only 10 to 20 words to {_ORIGINAL}.\n"
        f"Write only the rewritten instruction. The words '{_ORIGINAL}', '{_REWRITTEN}', 'original instruction' "
        "and 'rewritten instruction' must not appear in it.\n\n"
        f"{_ORIGINAL}:\n{{instruction}}\n\n{_REWRITTEN}:\n"
    )


DEPTH_ADD_CONSTRAINTS = register(
    PromptTemplate(
        id="evol.add_constraints",
        version=1,
        description="In-depth evolving: add one more constraint or requirement.",
        text=_depth(f"add one more constraint or requirement that an answer to {_ORIGINAL} has to satisfy."),
    )
)

DEPTH_DEEPEN = register(
    PromptTemplate(
        id="evol.deepen",
        version=1,
        description="In-depth evolving: widen and deepen the inquiry.",
        text=_depth(f"if {_ORIGINAL} asks about a particular issue, make the inquiry go deeper and cover more of it."),
    )
)

DEPTH_CONCRETIZE = register(
    PromptTemplate(
        id="evol.concretize",
        version=1,
        description="In-depth evolving: replace general concepts with more specific ones.",
        text=_depth("swap general concepts for more specific, concrete ones."),
    )
)

DEPTH_INCREASE_REASONING = register(
    PromptTemplate(
        id="evol.increase_reasoning",
        version=1,
        description="In-depth evolving: ask explicitly for multi-step reasoning.",
        text=_depth(
            f"if {_ORIGINAL} can be solved with a few simple steps of thought, rewrite it so that it explicitly "
            "calls for reasoning in several steps."
        ),
    )
)

DEPTH_COMPLICATE_INPUT = register(
    PromptTemplate(
        id="evol.complicate_input",
        version=1,
        description="In-depth evolving: add structured input (table, code, JSON, XML, SQL, formula) to work on.",
        text=_depth(
            "add a piece of structured input that the answer must work with, such as a small table, a code "
            "snippet, JSON or XML data, an SQL query, a shell command or a formula, and make the task depend "
            "on it."
        ),
    )
)

BREADTH = register(
    PromptTemplate(
        id="evol.breadth",
        version=1,
        description="In-breadth evolving: a brand-new, rarer instruction of the same domain.",
        text=(
            "You are an instruction creator. Take inspiration from the instruction below and write a brand-new "
            "instruction of the same domain, but about something less common. It should be about as long and "
            "as complex as the one below, and a person must be able to understand it and answer it.\n"
            f"Write only the new instruction. The words '{_ORIGINAL}', '{_NEW}' and 'original instruction' must "
            "not appear in it.\n\n"
            f"{_ORIGINAL}:\n{{instruction}}\n\n{_NEW}:\n"
        ),
    )
)

EQUALITY = register(
    PromptTemplate(
        id="evol.equality",
        version=1,
        description="Elimination judge: are two instructions equal (no information gain)?",
        text=(
            "Below are two instructions for an AI assistant. Are they equal, meaning both of these hold?\n"
            "1. They have the same constraints and requirements.\n"
            "2. Their inquiry has the same depth and breadth.\n\n"
            "First instruction:\n{first}\n\n"
            "Second instruction:\n{second}\n\n"
            "Answer with exactly 'Equal' or 'Not Equal', without explaining why."
        ),
    )
)

RESPONSE = register(
    PromptTemplate(
        id="evol.response",
        version=1,
        description="The answer to an evolved instruction: the instruction itself, sent as the user turn.",
        text="{instruction}",
    )
)


def _code(method: str) -> str:
    return (
        "Make the programming task below a little more difficult. You may use, among others, this method:\n"
        f"{method}\n\n"
        f"Write only the new task. The words '{_ORIGINAL}', '{_REWRITTEN}', 'original instruction' and "
        "'rewritten instruction' must not appear in it.\n\n"
        f"{_ORIGINAL}:\n{{instruction}}\n\n{_REWRITTEN}:\n"
    )


CODE_ADD_CONSTRAINTS = register(
    PromptTemplate(
        id="evol.code_add_constraints",
        version=1,
        description="Code Evol-Instruct: add new constraints and requirements (about ten more words).",
        text=_code("Add new constraints and requirements to the task, using about ten more words."),
    )
)

CODE_RARER_REQUIREMENT = register(
    PromptTemplate(
        id="evol.code_rarer_requirement",
        version=1,
        description="Code Evol-Instruct: replace a common requirement with a rarer, more specific one.",
        text=_code("Replace a requirement that programming tasks often have with a rarer and more specific one."),
    )
)

CODE_MORE_REASONING = register(
    PromptTemplate(
        id="evol.code_more_reasoning",
        version=1,
        description="Code Evol-Instruct: add reasoning steps to a task solvable in a few logical steps.",
        text=_code("If the task can be solved with only a few logical steps, add more reasoning steps."),
    )
)

CODE_ERRONEOUS_REFERENCE = register(
    PromptTemplate(
        id="evol.code_erroneous_reference",
        version=1,
        description="Code Evol-Instruct: include a piece of erroneous code as misdirection.",
        text=_code("Include a piece of faulty code as a reference, to mislead the solver."),
    )
)

CODE_HIGHER_COMPLEXITY = register(
    PromptTemplate(
        id="evol.code_higher_complexity",
        version=1,
        description="Code Evol-Instruct: demand a tighter time or space complexity (sparingly).",
        text=_code("Require a better time or space complexity, but do not resort to this often."),
    )
)

#: In-depth operations by name (the op names recorded on every evolved record).
DEPTH_OPS: dict[str, PromptTemplate] = {
    "add_constraints": DEPTH_ADD_CONSTRAINTS,
    "deepen": DEPTH_DEEPEN,
    "concretize": DEPTH_CONCRETIZE,
    "increase_reasoning": DEPTH_INCREASE_REASONING,
    "complicate_input": DEPTH_COMPLICATE_INPUT,
}

#: Code Evol-Instruct operations by name (WizardCoder drops in-breadth evolving, deepening and complicate-input).
CODE_OPS: dict[str, PromptTemplate] = {
    "code_add_constraints": CODE_ADD_CONSTRAINTS,
    "code_rarer_requirement": CODE_RARER_REQUIREMENT,
    "code_more_reasoning": CODE_MORE_REASONING,
    "code_erroneous_reference": CODE_ERRONEOUS_REFERENCE,
    "code_higher_complexity": CODE_HIGHER_COMPLEXITY,
}

#: Template text an evolved instruction must not contain (lower-case, matched case-insensitively): our own
#: section markers and the phrases the templates forbid, and those of the original WizardLM prompts (models
#: trained on WizardLM data echo them). "new instruction" is left out: it occurs in honest tasks ("a new
#: instruction manual"); the marker ``#New Instruction#`` is in.
LEAK_MARKERS: tuple[str, ...] = (
    _ORIGINAL.lower(),
    _REWRITTEN.lower(),
    _NEW.lower(),
    "original instruction",
    "rewritten instruction",
    "#the given prompt#",
    "#rewritten prompt#",
    "#created prompt#",
    "#given prompt#",
    "given prompt",
    "rewritten prompt",
    "created prompt",
)
