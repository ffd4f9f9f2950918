"""Self-Instruct templates (Wang et al., 2023, "Self-Instruct: Aligning Language Models with Self-Generated
Instructions"), written anew for chat models; the structure follows the paper:

1. **Instruction generation** — the model sees 8 tasks from the pool (6 written by people, 2 generated
   earlier), numbered 1 to 8, and continues the numbered list with new tasks.
2. **Classification identification** — a few-shot prompt: is the task a classification task (its answer
   is one label of a small fixed set)? Answer Yes or No.
3. **Instance generation, input first** — for non-classification tasks: write an input, then its output
   (or the output alone when the task takes no input), several examples when possible.
4. **Instance generation, output first** — for classification tasks: name each class label first, then
   write an input of that class, so the labels are not all the same.

The few-shot examples are our own. The answer formats (``Example k`` / ``Input:`` / ``Output:`` and
``Class label:`` / ``Input:``) are what :mod:`curator_synth.generators.self_instruct` parses.
"""

from __future__ import annotations

from curator_synth.prompts.base import PromptTemplate, register

__all__ = ["GENERATE_TASKS", "INPUT_FIRST", "IS_CLASSIFICATION", "OUTPUT_FIRST"]

GENERATE_TASKS = register(
    PromptTemplate(
        id="self_instruct.generate_tasks",
        version=1,
        description="Bootstrap step: 8 numbered tasks from the pool, continue the list with new tasks.",
        text=(
            "Come up with a series of tasks that people could ask an AI assistant to do. "
            "Here are the first {num_examples}:\n\n"
            "{tasks}\n\n"
            "Continue the list with {num_new} more tasks, numbered from {next_number}. Make each one new: vary "
            "the topic, the wording and the kind of task, and do not repeat the tasks above. "
            "Write only the numbered tasks, one per item."
        ),
    )
)

IS_CLASSIFICATION = register(
    PromptTemplate(
        id="self_instruct.is_classification",
        version=1,
        description="Few-shot: is the task a classification task with a finite set of output labels?",
        text=(
            "Decide whether a task is a classification task: one whose answer is a label taken from a small, "
            "fixed set (for example yes or no, true or false, a sentiment, a category, or one of the options "
            "it offers).\n\n"
            "Task: Tell whether the review below is positive or negative.\n"
            "Is it classification? Yes\n\n"
            "Task: Suggest three names for a bakery that sells only gluten-free bread.\n"
            "Is it classification? No\n\n"
            "Task: Does the email below look like a phishing attempt?\n"
            "Is it classification? Yes\n\n"
            "Task: Rewrite the paragraph so that a ten-year-old can follow it.\n"
            "Is it classification? No\n\n"
            "Task: Which of these animals is a mammal: shark, dolphin or trout?\n"
            "Is it classification? Yes\n\n"
            "Task: Explain how a bill becomes a law in the United States.\n"
            "Is it classification? No\n\n"
            "Task: Label the topic of the headline as sports, politics, business or science.\n"
            "Is it classification? Yes\n\n"
            "Task: Compute the average of the numbers in the list.\n"
            "Is it classification? No\n\n"
            "Task: {instruction}\n"
            "Is it classification? Answer Yes or No."
        ),
    )
)

INPUT_FIRST = register(
    PromptTemplate(
        id="self_instruct.input_first",
        version=1,
        description="Instance generation for non-classification tasks: input first, then output.",
        text=(
            "Write examples for the task below. When the task needs an input (a text to work on, a question, "
            "some data), write the input first and then the output for it; when it needs no input, write the "
            "output alone. Give several different examples when you can.\n\n"
            "Use this format:\n"
            "Example 1\n"
            "Input: <the input; leave this line out when the task needs none>\n"
            "Output: <the output>\n\n"
            "Two tasks done this way:\n\n"
            "Task: Convert the temperature from Celsius to Fahrenheit.\n"
            "Example 1\n"
            "Input: 25 °C\n"
            "Output: 77 °F\n"
            "Example 2\n"
            "Input: -10 °C\n"
            "Output: 14 °F\n\n"
            "Task: Suggest a name for a podcast about gardening in the city.\n"
            "Example 1\n"
            "Output: Concrete Roots\n\n"
            "Task: {instruction}"
        ),
    )
)

OUTPUT_FIRST = register(
    PromptTemplate(
        id="self_instruct.output_first",
        version=1,
        description="Instance generation for classification tasks: class label first, then an input of it.",
        text=(
            "The task below is a classification task. Go through its possible class labels and, for each "
            "label, write an input that belongs to it. When the task needs no input, just list the possible "
            "labels.\n\n"
            "Use this format:\n"
            "Class label: <a label>\n"
            "Input: <an input of that class>\n\n"
            "Two tasks done this way:\n\n"
            "Task: Classify the sentiment of the sentence as positive or negative.\n"
            "Class label: Positive\n"
            "Input: The staff went out of their way to make our stay pleasant.\n"
            "Class label: Negative\n"
            "Input: The battery died after two days and support never answered.\n\n"
            "Task: Is the given number prime?\n"
            "Class label: Yes\n"
            "Input: 13\n"
            "Class label: No\n"
            "Input: 21\n\n"
            "Task: {instruction}"
        ),
    )
)
