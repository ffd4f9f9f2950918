"""The comments of source code, by MIME type: a small scanner that knows each language's comment markers and
string quotes (so ``"http://x"`` is no comment), for the languages NeMo Curator's ``comment_parser`` knows.

:func:`comments` returns the text of each comment without its markers (``// note`` gives ``" note"``); a block
comment or string that is never closed raises :class:`UnparseableSourceError`. Python's comments and docstrings
(:func:`python_comments_and_docstrings`) come from the standard tokenizer and parser instead.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass

from curator_synth.errors import ConfigError

__all__ = ["COMMENT_SYNTAX", "UnparseableSourceError", "comments", "python_comments_and_docstrings"]


class UnparseableSourceError(ValueError):
    """The source cannot be split into code and comments (an unclosed comment or string, a syntax error)."""


@dataclass(frozen=True)
class _Syntax:
    line: tuple[str, ...] = ()
    block: tuple[tuple[str, str], ...] = ()
    quotes: tuple[str, ...] = ()


_C = _Syntax(line=("//",), block=(("/*", "*/"),), quotes=('"', "'"))
_JS = _Syntax(line=("//",), block=(("/*", "*/"),), quotes=('"', "'", "`"))
_HASH = _Syntax(line=("#",), quotes=('"', "'"))
_PYTHON = _Syntax(line=("#",), quotes=('"""', "'''", '"', "'"))
_MARKUP = _Syntax(block=(("<!--", "-->"),))

#: Comment syntax by MIME type.
COMMENT_SYNTAX: dict[str, _Syntax] = {
    "text/x-c": _C,
    "text/x-c++": _C,
    "text/x-java": _C,
    "text/x-java-source": _C,
    "text/x-go": _Syntax(line=("//",), block=(("/*", "*/"),), quotes=('"', "'", "`")),
    "text/javascript": _JS,
    "text/x-javascript": _JS,
    "application/javascript": _JS,
    "text/x-python": _PYTHON,
    "text/x-script.python": _PYTHON,
    "text/x-ruby": _HASH,
    "text/x-shellscript": _HASH,
    "text/x-sh": _HASH,
    "text/html": _MARKUP,
    "text/xml": _MARKUP,
}


def syntax_for(mime: str) -> _Syntax:
    """The comment syntax of ``mime``, or :class:`~curator_synth.errors.ConfigError` listing the known types."""
    if mime not in COMMENT_SYNTAX:
        raise ConfigError(f"no comment syntax known for {mime!r}; known MIME types: {sorted(COMMENT_SYNTAX)}")
    return COMMENT_SYNTAX[mime]


def comments(source: str, mime: str) -> list[str]:
    """The text of every comment of ``source`` (in ``mime``'s language), markers left out, in order."""
    syntax = syntax_for(mime)
    found: list[str] = []
    i, size = 0, len(source)
    while i < size:
        quote = next((q for q in syntax.quotes if source.startswith(q, i)), None)
        if quote is not None:
            i = _string_end(source, i, quote)
            continue
        line = next((m for m in syntax.line if source.startswith(m, i)), None)
        if line is not None:
            end = source.find("\n", i)
            end = size if end < 0 else end
            found.append(source[i + len(line) : end])
            i = end
            continue
        block = next((b for b in syntax.block if source.startswith(b[0], i)), None)
        if block is not None:
            opener, closer = block
            end = source.find(closer, i + len(opener))
            if end < 0:
                raise UnparseableSourceError(f"a {opener} comment at offset {i} is never closed")
            found.append(source[i + len(opener) : end])
            i = end + len(closer)
            continue
        i += 1
    return found


def _string_end(source: str, start: int, quote: str) -> int:
    """Where the string literal opened by ``quote`` at ``start`` ends (after its closing quote)."""
    i = start + len(quote)
    while i < len(source):
        if source[i] == "\\":
            i += 2
            continue
        if source.startswith(quote, i):
            return i + len(quote)
        if source[i] == "\n" and len(quote) == 1 and quote != "`":
            break  # a one-line string ends at its line
        i += 1
    raise UnparseableSourceError(f"a string opened with {quote} at offset {start} is never closed")


def python_comments_and_docstrings(source: str) -> tuple[list[str], list[str]]:
    """``(comments, docstrings)`` of Python ``source``: every ``#`` comment as the tokenizer gives it, and the
    docstring of the module and of each class and function; :class:`UnparseableSourceError` on a syntax error."""
    try:
        tree = ast.parse(source)
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (SyntaxError, tokenize.TokenError, ValueError) as error:
        raise UnparseableSourceError(f"not valid Python: {error}") from error
    found = [token.string for token in tokens if token.type == tokenize.COMMENT]
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    docstrings = [doc for node in ast.walk(tree) if isinstance(node, kinds) if (doc := ast.get_docstring(node))]
    return found, docstrings
