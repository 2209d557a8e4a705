"""Input highlighting, derived from the command table."""

from __future__ import annotations

from collections.abc import Callable

from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.lexers import Lexer

from vss_shell.commands.parser import classify, words
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
    """Colours known commands, options, values and unknown words."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def line_tokens(self, line: str) -> StyleAndTextTuples:
        found = words(line)
        walk = classify(self.table, [w.value for w in found])
        out: StyleAndTextTuples = []
        last = 0
        for word, role in zip(found, walk.roles, strict=True):
            out.append(("", line[last : word.start]))
            out.append((ROLE_STYLE.get(role, ""), line[word.start : word.end]))
            last = word.end
        rest = line[last:]
        hash_at = rest.find("#")
        if hash_at >= 0:
            out += [("", rest[:hash_at]), ("class:comment", rest[hash_at:])]
        else:
            out.append(("", rest))
        return [t for t in out if t[1]]

    def lex_document(self, document: Document) -> Callable[[int], StyleAndTextTuples]:
        lines = document.lines
        return lambda lineno: self.line_tokens(lines[lineno]) if lineno < len(lines) else []
