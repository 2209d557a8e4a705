"""Input highlighting, derived from the command table."""

from __future__ import annotations

from collections.abc import Callable

from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.lexers import Lexer

from vss_shell.commands.parser import INTERACTIVE_LIMIT, classify, pieces, words
from vss_shell.commands.table import Table

#: Style class by the role :func:`classify` gives a word.
ROLE_STYLE = {
    "command": "class:command",
    "group": "class:command",
    "sub": "class:subcommand",
    "option": "class:option",
    "option-secret": "class:secret",
    "help": "class:option",
    "value": "class:value",
    "arg": "class:value",
    "secret": "class:secret",
    "invalid": "class:unknown",
    "unknown": "class:unknown",
}

STYLE = {
    "command": "bold ansicyan",
    "subcommand": "ansicyan",
    "option": "ansiyellow",
    "value": "ansigreen",
    "secret": "ansimagenta",
    "unknown": "ansired",
    "comment": "italic ansibrightblack",
}


class ShellLexer(Lexer):
    """Colours known commands, options, values and unknown words, in each command of
    the text (after a ``;``, over ``\\`` continuations); a text longer than
    :data:`INTERACTIVE_LIMIT` stays plain."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def styles(self, text: str) -> list[str]:
        """The style of each character of ``text``."""
        out = [""] * len(text)
        if len(text) > INTERACTIVE_LIMIT:
            return out
        for piece in pieces(text):
            found = words(piece.text)
            walk = classify(self.table, [w.value for w in found])
            for word, role in zip(found, walk.roles, strict=True):
                style = ROLE_STYLE.get(role, "")
                start, end = piece.span(word.start, word.end)
                out[start:end] = [style] * (end - start)
            if piece.comment is not None:
                start, end = piece.comment
                out[start:end] = ["class:comment"] * (end - start)
        return out

    def text_lines(self, text: str) -> list[StyleAndTextTuples]:
        """``text``'s lines, each as styled fragments (none empty)."""
        if len(text) > INTERACTIVE_LIMIT:
            return [[("", line)] if line else [] for line in text.split("\n")]
        styles = self.styles(text)
        lines: list[StyleAndTextTuples] = [[]]
        start = 0
        for index in range(1, len(text) + 1):
            if index < len(text) and styles[index] == styles[start] and text[index] != "\n" \
                    and text[index - 1] != "\n":
                continue
            chunk = text[start:index]
            if chunk == "\n":
                lines.append([])
            else:
                lines[-1].append((styles[start], chunk))
            start = index
        return lines

    def line_tokens(self, line: str) -> StyleAndTextTuples:
        """The fragments of a one-line text."""
        return self.text_lines(line)[0]

    def lex_document(self, document: Document) -> Callable[[int], StyleAndTextTuples]:
        lines = self.text_lines(document.text)
        return lambda lineno: lines[lineno] if lineno < len(lines) else []
