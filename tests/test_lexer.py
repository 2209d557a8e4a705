"""Input highlighting, derived from the command table."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prompt_toolkit.document import Document

from vss_shell.commands import table
from vss_shell.commands.parser import INTERACTIVE_LIMIT
from vss_shell.lexer import ROLE_STYLE, STYLE, ShellLexer

T = table()
LEXER = ShellLexer(T)


def styles(line: str) -> dict[str, str]:
    """Text of each styled (non-blank) token -> its style."""
    return {text: style for style, text in LEXER.line_tokens(line) if style}


def test_command_subcommand_value_option() -> None:
    got = styles("mfa mk SMS --phone 4165550123")
    assert got == {"mfa": "class:command", "mk": "class:subcommand", "SMS": "class:value",
                   "--phone": "class:option", "4165550123": "class:value"}


def test_every_command_of_the_table_is_known() -> None:
    for command in T.commands():
        tokens = [t for t in LEXER.line_tokens(command.name) if t[0]]
        assert tokens[0] == ("class:command", command.path[0])
        if len(command.path) > 1:
            assert tokens[1] == ("class:subcommand", command.path[1])


@pytest.mark.parametrize("alias", ["status", "quit", ":q", "QUIT"])
def test_aliases_are_commands(alias: str) -> None:
    assert LEXER.line_tokens(alias) == [("class:command", alias)]


def test_unknown_words() -> None:
    assert LEXER.line_tokens("mfz") == [("class:unknown", "mfz")]
    got = styles("mfa mk SMS --bogus extra more")
    assert got["--bogus"] == "class:unknown"
    assert got["extra"] == "class:unknown"
    assert styles("mfa nope")["nope"] == "class:unknown"
    assert styles("whoami surplus")["surplus"] == "class:unknown"


@pytest.mark.parametrize(("line", "word"), [
    ("mfa mk EMIAL", "EMIAL"), ("set output jsn", "jsn"), ("set autosuggest json", "json"),
    ("mfa status -o xml", "xml"), ("mfa status --output=xml", "--output=xml"),
    ("mfa mk SMS --qr=1", "--qr=1"),
])
def test_values_outside_their_choices_are_unknown(line: str, word: str) -> None:
    assert styles(line)[word] == "class:unknown"


def test_values_among_their_choices() -> None:
    assert styles("set output JSON")["JSON"] == "class:value"
    assert styles("set autosuggest off")["off"] == "class:value"
    assert styles("help mfa mk")["mk"] == "class:value"
    assert styles("help mfa mkk")["mkk"] == "class:unknown"
    assert styles("mfa status --output=json")["--output=json"] == "class:option"


def test_secrets() -> None:
    assert styles("mfa verify 123456")["123456"] == "class:secret"
    got = styles("mfa rm --token abc")
    assert got["--token"] == "class:option"
    assert got["abc"] == "class:secret"
    assert styles("mfa rm --token=abc")["--token=abc"] == "class:secret"


def test_help_options() -> None:
    assert styles("mfa -h")["-h"] == "class:option"
    assert styles("mfa mk --help")["--help"] == "class:option"


def test_comment() -> None:
    tokens = LEXER.line_tokens("mfa status # a note --bogus")
    assert tokens[-1] == ("class:comment", "# a note --bogus")
    assert ("class:subcommand", "status") in tokens
    assert LEXER.line_tokens("# all comment") == [("class:comment", "# all comment")]
    assert LEXER.line_tokens("  #x") == [("", "  "), ("class:comment", "#x")]


def test_quoted_hash_is_not_a_comment() -> None:
    tokens = LEXER.line_tokens("mfa mk SMS --phone '#1 2'")
    assert ("class:value", "'#1 2'") in tokens
    assert all(style != "class:comment" for style, _ in tokens)


def test_whitespace_kept_unstyled() -> None:
    assert LEXER.line_tokens("  mfa   status  ") == [
        ("", "  "), ("class:command", "mfa"), ("", "   "), ("class:subcommand", "status"),
        ("", "  ")]


def test_quoted_value_is_one_token() -> None:
    assert styles('mfa mk SMS --phone "416 555 0123"')['"416 555 0123"'] == "class:value"


def test_no_empty_tokens() -> None:
    for line in ["", " ", "mfa", "mfa  mk", "mfa status #", "#"]:
        assert all(text for _, text in LEXER.line_tokens(line))


def test_styles_exist_for_every_role_class() -> None:
    for style in ROLE_STYLE.values():
        assert style.removeprefix("class:") in STYLE
    assert "comment" in STYLE


def test_lex_document_lines() -> None:
    document = Document("mfa status\nmfz\n# c")
    get_line = LEXER.lex_document(document)
    assert get_line(0)[0] == ("class:command", "mfa")
    assert get_line(1) == [("class:unknown", "mfz")]
    assert get_line(2) == [("class:comment", "# c")]
    assert get_line(3) == []
    assert get_line(99) == []


@pytest.mark.parametrize("line", ["'\"", "mfa rm --token \"C:\\", "login 'o\"brien"])
def test_lexer_survives_any_unclosed_quote(line: str) -> None:
    assert "".join(text for _, text in LEXER.line_tokens(line)) == line


VOCAB = ["mfa", "mk", "verify", "rm", "--token", "--token=", "SMS", "--phone", "-o", "json",
         "#", "=", "--", "-h", "123", "profile", "use", "\t", " ", "  ", "x"]


def _roundtrip(line: str) -> None:
    tokens = LEXER.line_tokens(line)
    assert "".join(text for _, text in tokens) == line
    assert all(text for _, text in tokens)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.lists(st.sampled_from(VOCAB), max_size=10).map(" ".join),
                 st.lists(st.sampled_from(VOCAB), max_size=10).map("".join)))
def test_tokens_concatenate_to_the_line_vocab(line: str) -> None:
    _roundtrip(line)


# One kind of quote per alphabet: see test_lexer_survives_any_unclosed_quote.
@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="'\\\n\r"), max_size=30))
def test_tokens_concatenate_to_the_line_double_quotes(line: str) -> None:
    _roundtrip(line)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="\"\n\r"), max_size=30))
def test_tokens_concatenate_to_the_line_single_quotes(line: str) -> None:
    _roundtrip(line)


# --- one grammar: each command of a line, continuations, bounded --------------------------


def test_each_command_after_a_semicolon_is_coloured() -> None:
    got = styles("mfa status; whoami;bogus ; mfa verify 123456")
    assert got["mfa"] == "class:command" and got["status"] == "class:subcommand"
    assert got["whoami"] == "class:command"
    assert got["bogus"] == "class:unknown"
    assert got["123456"] == "class:secret"
    assert got["verify"] == "class:subcommand"


def test_a_continued_command_is_coloured_over_its_lines() -> None:
    get_line = LEXER.lex_document(Document("mfa mk \\\n  SMS --phone \\\n 416 # note"))
    assert get_line(0)[0] == ("class:command", "mfa")
    assert ("class:value", "SMS") in get_line(1)
    assert ("class:option", "--phone") in get_line(1)
    assert ("class:value", "416") in get_line(2)
    assert ("class:comment", "# note") in get_line(2)


def test_a_comment_ends_at_its_line() -> None:
    get_line = LEXER.lex_document(Document("whoami # c; mfa\nmfa status"))
    assert get_line(0)[-1] == ("class:comment", "# c; mfa")
    assert get_line(1)[0] == ("class:command", "mfa")


def test_a_very_long_line_stays_plain() -> None:
    line = "mfa status " + "x" * INTERACTIVE_LIMIT
    assert LEXER.line_tokens(line) == [("", line)]
    assert LEXER.lex_document(Document(line + "\nmfa"))(1) == [("", "mfa")]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*VOCAB, ";", "\\\n", "\n", "'", '"', "\\"]), max_size=14)
       .map("".join))
def test_lines_of_fragments_are_the_lines_of_the_text(text: str) -> None:
    get_line = LEXER.lex_document(Document(text))
    for number, line in enumerate(text.split("\n")):
        fragments = get_line(number)
        assert "".join(t for _, t in fragments) == line
        assert all(t for _, t in fragments)
