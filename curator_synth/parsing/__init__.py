"""Format adaptation, response side: deterministic parsers that turn model answers into data.

Every parser raises :class:`~curator_synth.errors.ResponseParseError` (or its subclass
:class:`~curator_synth.errors.YamlConversionError`) with the answer in ``.raw``, so a failed parse never loses
a paid-for answer. See ``docs/parsing.md``.

- lists: :func:`parse_list`, :func:`apply_count_policy`
- YAML: :func:`parse_yaml_list`, :func:`check_yaml_conversion`, :func:`parse_yaml_conversion`
- JSON: :func:`extract_json`, :func:`parse_json_as`, :func:`format_validation_errors`
- question/answer pairs: :func:`parse_qa_pairs`
- text helpers: :func:`strip_code_fences`, :func:`code_blocks`, :func:`first_line`, :func:`starts_with_yes_no`,
  :func:`remove_prefix`, :func:`clean_item`
"""

from curator_synth.parsing.json_values import extract_json, format_validation_errors, parse_json_as
from curator_synth.parsing.lists import CountPolicy, apply_count_policy, parse_list
from curator_synth.parsing.qa import parse_qa_pairs
from curator_synth.parsing.text import (
    clean_item,
    code_blocks,
    first_line,
    remove_prefix,
    starts_with_yes_no,
    strip_code_fences,
)
from curator_synth.parsing.yaml_lists import check_yaml_conversion, parse_yaml_conversion, parse_yaml_list

__all__ = [
    "CountPolicy",
    "apply_count_policy",
    "check_yaml_conversion",
    "clean_item",
    "code_blocks",
    "extract_json",
    "first_line",
    "format_validation_errors",
    "parse_json_as",
    "parse_list",
    "parse_qa_pairs",
    "parse_yaml_conversion",
    "parse_yaml_list",
    "remove_prefix",
    "starts_with_yes_no",
    "strip_code_fences",
]
