"""A filter for HTML pages that are mostly markup (NeMo Curator 0.9's ``HTMLBoilerplateFilter``).

The visible text is what the standard library's HTML parser yields outside ``<script>`` and ``<style>``
(declarations, comments and tags left out). Indentation between tags is layout, not content: a run of white space
alone between two tags counts as one line break (one space if it holds none), except inside ``<pre>`` and
``<textarea>``.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from curator_synth.filters.base import register_filter
from curator_synth.filters.thresholds import _AtLeast

__all__ = ["HTMLBoilerplateFilter", "visible_text"]

_HIDDEN = frozenset({"script", "style"})
_PRESERVED = frozenset({"pre", "textarea"})


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0
        self._preserved = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._hidden += tag in _HIDDEN
        self._preserved += tag in _PRESERVED

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN and self._hidden:
            self._hidden -= 1
        if tag in _PRESERVED and self._preserved:
            self._preserved -= 1

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if not self._preserved and data.isspace():
            data = "\n" if "\n" in data else " "
        self.parts.append(data)


def visible_text(html: str) -> str:
    """The text of ``html`` a reader sees: its character data outside ``<script>`` and ``<style>``."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    return "".join(collector.parts)


@register_filter
class HTMLBoilerplateFilter(_AtLeast):
    """Keep HTML whose visible text is at least 20% of its characters, and at least ``min_lang_content_num_chars``
    characters long (a page with less text scores 0)."""

    name = "html_boilerplate"

    def __init__(self, min_lang_content_ratio: float = 0.2, min_lang_content_num_chars: int = 100) -> None:
        super().__init__()
        self.min_lang_content_ratio = self._limit = min_lang_content_ratio
        self.min_lang_content_num_chars = min_lang_content_num_chars

    def score_document(self, text: Any) -> float:
        source = str(text)
        content = visible_text(source)
        if not source or len(content) < self.min_lang_content_num_chars:
            return 0.0
        return len(content) / len(source)
