"""Tab completion, derived from the command table."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prompt_toolkit.completion import CompleteEvent, Completion
from prompt_toolkit.document import Document

from vss_shell.commands import table
from vss_shell.commands.builtin import help_text
from vss_shell.commands.parser import split
from vss_shell.commands.table import Arg, Command, Group, Opt, Table, When, choice_help
from vss_shell.completion import ShellCompleter
from vss_shell.errors import UsageError

T = table()
PROFILES = ["cloud-api", "vss-api", "lab"]


def fake_ctx(*, demo: object = None) -> SimpleNamespace:
    return SimpleNamespace(store=SimpleNamespace(names=lambda: list(PROFILES)), demo=demo,
                           table=T)


def complete(text: str, ctx: object = None) -> list[Completion]:
    completer = ShellCompleter(T, lambda: ctx)
    return list(completer.get_completions(Document(text), CompleteEvent()))


def texts(text: str, ctx: object = None) -> list[str]:
    return [c.text for c in complete(text, ctx)]


def applied(text: str, completion: Completion) -> str:
    """The line after accepting ``completion`` at the end of ``text``."""
    return text[: len(text) + completion.start_position] + completion.text


# --- top level -------------------------------------------------------------------------


def test_empty_line_offers_every_top_word_with_help() -> None:
    found = complete("")
    expected = {f"{word} ": help for word, help in T.top_words()}
    assert {c.text: c.display_meta_text for c in found} == expected
    assert all(c.start_position == 0 for c in found)
    # display drops the trailing space
    assert {c.display_text for c in found} == {w for w, _ in T.top_words()}


def test_top_words_include_aliases() -> None:
    offered = texts("")
    for alias in ("status ", "quit ", ":q "):
        assert alias in offered


@pytest.mark.parametrize("typed", ["mf", "MF", "Mf", "mfa"])
def test_prefix_completes_the_group(typed: str) -> None:
    found = complete(typed)
    assert [c.text for c in found] == ["mfa "]
    assert found[0].start_position == -len(typed)
    assert found[0].display_meta_text == T.lookup("mfa").help
    assert applied(typed, found[0]) == "mfa "


def test_prefix_with_several_matches() -> None:
    assert sorted(texts("lo")) == ["login ", "logout "]
    assert texts("zz") == []


def test_outbox_hidden_outside_demo_mode() -> None:
    assert "outbox " not in texts("", fake_ctx())
    assert texts("ou", fake_ctx()) == []
    assert "outbox " in texts("", fake_ctx(demo=object()))
    assert texts("ou", fake_ctx(demo=object())) == ["outbox "]


# --- groups and commands -----------------------------------------------------------------


def test_group_offers_subcommands_with_help() -> None:
    group = T.lookup("mfa")
    assert isinstance(group, Group)
    found = complete("mfa ")
    assert [c.text for c in found] == ["mk ", "verify ", "token ", "rm ", "status "]
    for completion in found:
        child = group.children[completion.text.strip()]
        assert completion.display_meta_text == child.help


def test_every_group_offers_its_children() -> None:
    for name, entry in T.top.items():
        if isinstance(entry, Group):
            assert texts(f"{name} ") == [f"{child} " for child in entry.children]


@pytest.mark.parametrize(("typed", "expected"), [
    ("mfa s", ["status "]), ("MFA ST", ["status "]), ("mfa m", ["mk "]),
    ("profile s", ["show ", "set "]),
])
def test_subcommand_prefix(typed: str, expected: list[str]) -> None:
    assert texts(typed) == expected


def test_nothing_after_an_unknown_subcommand_or_command() -> None:
    assert texts("mfa nope ") == []
    assert texts("nope ") == []
    assert texts("nope --") == []


def test_method_choices() -> None:
    found = complete("mfa mk ")
    assert [c.text for c in found] == ["EMAIL ", "AUTHENTICATOR ", "SMS "]
    method = T.lookup("mfa").children["mk"].args[0]
    helps = choice_help(method.choices, None, default=method.help)
    assert [c.display_meta_text for c in found] == list(helps.values())


@pytest.mark.parametrize("typed", ["mfa mk e", "mfa mk E", "MFA MK em"])
def test_method_prefix_case_insensitive(typed: str) -> None:
    assert texts(typed) == ["EMAIL "]


def test_options_after_the_argument() -> None:
    found = {c.text: c.display_meta_text for c in complete("mfa mk SMS --")}
    assert "phone number" in found["--phone "]
    assert found["--output "] == "print as a table or as JSON"
    assert "--no-qr " not in found  # an authenticator app's option
    assert "-o " not in found  # short spellings are not offered
    mk = T.lookup("mfa").children["mk"]
    expected = {s for o in mk.all_opts for s in o.spellings if s.startswith("--")
                if o.when is None or o.when.holds("SMS")}
    assert {t.strip() for t in found} == expected
    app = {c.text for c in complete("mfa mk AUTHENTICATOR --")}
    assert "--no-qr " in app and "--phone " not in app


def test_options_prefix() -> None:
    assert sorted(texts("mfa mk AUTHENTICATOR --qr")) == ["--qr ", "--qr-file "]
    assert texts("mfa mk AUTHENTICATOR --no-q") == ["--no-qr "]


def test_options_offered_when_no_argument_is_left() -> None:
    offered = texts("mfa mk SMS ")
    assert "--phone " in offered
    assert "EMAIL " not in offered


def test_option_values() -> None:
    for typed in ("mfa mk SMS --output ", "mfa status -o ", "whoami --output "):
        found = complete(typed)
        assert [c.text for c in found] == ["table ", "json "], typed
        # Each value says what it does (not the option's help again).
        assert found[0].display_meta_text == "aligned columns, for people"
        assert found[1].display_meta_text.startswith("JSON, for programs")
    assert texts("mfa status -o j") == ["json "]


def test_free_option_value_offers_nothing() -> None:
    assert texts("mfa mk SMS --phone ") == []
    assert texts("mfa rm --token ") == []


def test_options_already_given_are_not_offered_again() -> None:
    offered = texts("mfa mk SMS --phone 4165550123 --save-codes f --")
    assert "--phone " not in offered
    assert "--save-codes " not in offered
    assert "--no-verify " in offered
    offered = texts("mfa mk AUTHENTICATOR --qr --")
    assert "--qr " not in offered
    assert "--no-qr " not in offered  # the same option, other spelling
    assert "--show-key " in offered
    assert "--output " not in texts("mfa status -o json --")
    assert "--output " not in texts("mfa status --output=json --")
    assert "--qr " not in texts("mfa mk AUTHENTICATOR --no-qr --")


def test_profile_names_from_the_store() -> None:
    found = complete("profile use ", fake_ctx())
    assert [c.text for c in found] == [f"{name} " for name in PROFILES]
    assert {c.display_meta_text for c in found} == {"a profile name"}
    assert texts("profile use v", fake_ctx()) == ["vss-api "]
    assert texts("profile rm cl", fake_ctx()) == ["cloud-api "]


def test_profile_names_need_a_context() -> None:
    assert texts("profile use ", None) == []


def test_profile_set_offers_names_and_keys() -> None:
    offered = texts("profile set ", fake_ctx())
    assert "cloud-api " in offered
    assert "endpoint " in offered
    assert texts("profile set cloud-api ", fake_ctx())[0] == "endpoint "


def test_help_topics() -> None:
    offered = texts("help ", fake_ctx())
    assert "mfa " in offered
    assert "profile " in offered
    assert texts("help m", fake_ctx()) == ["mfa "]


@pytest.mark.parametrize("demo", [None, object()])
def test_help_topics_each_with_its_help_as_help_lists_them(demo: object) -> None:
    found = {c.text.strip(): c.display_meta_text for c in complete("help ", fake_ctx(demo=demo))}
    assert found == {name: entry.help for name, entry in T.top.items()
                     if demo is not None or not getattr(entry, "demo_only", False)}
    listed = help_text(T, None, demo=demo is not None).split("\n\n")[0].splitlines()[1:]
    assert [line.split()[0].rstrip(",") for line in listed] == list(found)
    assert ("outbox" in found) is (demo is not None)


def test_help_group_offers_its_subcommands_with_help() -> None:
    for name, entry in T.top.items():
        if isinstance(entry, Group):
            found = complete(f"help {name} ")
            assert {c.text.strip(): c.display_meta_text for c in found} == {
                child: command.help for child, command in entry.children.items()}
    assert texts("help MFA s") == ["status "]
    assert texts("help profile s") == ["show ", "set "]
    assert texts("help login ") == []  # a command: no subcommands
    assert texts("help nope ") == []


@pytest.mark.parametrize(("typed", "expected"), [
    ("set ", ["output ", "autosuggest "]),
    ("set output ", ["table ", "json "]),
    ("set OUTPUT j", ["json "]),
    ("set autosuggest ", ["on ", "off "]),
    ("set autosuggest of", ["off "]),
    ("set output json ", ["--output "]),  # nothing left but the options
])
def test_set_value_choices_follow_the_key(typed: str, expected: list[str]) -> None:
    assert texts(typed) == expected


def test_set_value_completion_gives_a_setting() -> None:
    found = complete("set output ")
    assert applied("set output ", found[0]) == "set output table "
    assert [c.display_meta_text for c in found] == ["aligned columns, for people",
                                                    "JSON, for programs (one document a line "
                                                    "in pipes)"]


def test_rest_argument_keeps_completing_options() -> None:
    rest = Table()
    rest.add(Command(("code",), "a code", lambda ctx, a: None,
                     args=(Arg("code", "the code", secret=True, rest=True),)))
    completer = ShellCompleter(rest, lambda: None)
    for typed in ("code 123 ", "code 123 456 "):
        found = completer.get_completions(Document(typed), CompleteEvent())
        assert [c.text for c in found] == ["--output "]


def test_demo_only_hidden_with_its_aliases() -> None:
    demo = Table()
    demo.add(Command(("box",), "the outbox", lambda ctx, a: None, aliases=("b",),
                     demo_only=True))
    demo.add(Command(("go",), "go", lambda ctx, a: None))
    completer = ShellCompleter(demo, lambda: fake_ctx())
    found = completer.get_completions(Document(""), CompleteEvent())
    assert [c.text for c in found] == ["go "]
    completer = ShellCompleter(demo, lambda: fake_ctx(demo=object()))
    found = completer.get_completions(Document(""), CompleteEvent())
    assert [c.text for c in found] == ["box ", "go ", "b "]


# --- comments and quoting ------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["# ", "#mf", "mfa status # ", "mfa status #x", "mfa # mk ",
                                   "mfa mk SMS # --"])
def test_nothing_inside_a_comment(typed: str) -> None:
    assert texts(typed) == []


def test_hash_inside_quotes_is_not_a_comment() -> None:
    assert "--no-verify " in texts("mfa mk SMS --phone '#1' --")


@pytest.mark.parametrize(("typed", "words"), [
    ('mfa mk "e', ["mfa", "mk", "EMAIL"]),
    ("profile use 'cl", ["profile", "use", "cloud-api"]),
    ("mfa mk 'SM", ["mfa", "mk", "SMS"]),
    ('m"fa"', ["mfa"]),
])
def test_completing_a_quoted_word_gives_a_parseable_line(typed: str, words: list[str]) -> None:
    found = complete(typed, fake_ctx())
    assert len(found) == 1
    assert split(applied(typed, found[0])) == words


def test_quoted_word_is_matched_by_its_value() -> None:
    assert texts('mfa mk "e') == ["EMAIL "]


def test_completion_uses_text_before_the_cursor() -> None:
    completer = ShellCompleter(T, lambda: None)
    document = Document("mf status", cursor_position=2)
    assert [c.text for c in completer.get_completions(document, CompleteEvent())] == ["mfa "]


# --- property ---------------------------------------------------------------------------------

# No quotes: see test_completing_a_quoted_word_gives_a_parseable_line.
VOCAB = ["mfa", "mk", "verify", "rm", "profile", "use", "--", "-o", "--output", "--token=",
         "--qr", "#", "=", "EMAIL", "help", " ", "  ", "x"]


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.lists(st.sampled_from(VOCAB), max_size=8).map("".join),
                 st.lists(st.sampled_from(VOCAB), max_size=8).map(" ".join),
                 st.text(alphabet="mfa k-o#=x ", max_size=20)))
def test_completions_replace_only_what_was_typed(text: str) -> None:
    for completion in complete(text, fake_ctx()):
        assert completion.start_position <= 0
        assert -completion.start_position <= len(text)
        assert completion.text.endswith(" ")
        typed = text[len(text) + completion.start_position:]
        assert completion.text.lower().startswith(typed.lower())
        assert split(applied(text, completion))  # the line still parses


@pytest.mark.parametrize(("typed", "expected"), [
    ("profile set output ", ["table", "json"]),  # KEY VALUE on the active profile
    ("profile set work output ", ["table", "json"]),  # NAME KEY VALUE
    ("profile set work verify_tls ", ["true", "false"]),
    ("profile set work mfa_method ", ["EMAIL", "AUTHENTICATOR", "SMS"]),
    ("profile set work timeout ", []),  # any number: nothing to offer
])
def test_profile_set_values_complete_after_their_key(typed: str, expected: list[str]) -> None:
    assert [t.strip() for t in texts(typed)] == expected


def test_profile_set_keys_complete_with_their_help() -> None:
    found = {c.text.strip(): c.display_meta_text for c in complete("profile set work ")}
    assert "timeout" in found and "output" in found
    assert found["timeout"] != found["output"]  # each its own help, not one for all


@pytest.mark.parametrize(("typed", "expected"), [
    ("mfa status --output=js", ["--output=json"]),
    ("mfa status --output=", ["--output=table", "--output=json"]),
    ("mfa mk --phone=4", []),  # a value with no choices
    ("mfa status --bogus=x", []),
])
def test_option_values_after_equals_complete(typed: str, expected: list[str]) -> None:
    assert [t.strip() for t in texts(typed)] == expected


# --- one grammar: the command under the cursor ---------------------------------------------


def test_after_a_semicolon_the_commands_are_offered_again() -> None:
    assert texts("mfa status; ") == texts("")
    assert texts("whoami;mf") == ["mfa "]
    assert texts("whoami; mfa st") == ["status "]
    assert texts("mfa status; whoami; set output j") == ["json "]


def test_a_continued_command_completes_over_its_lines() -> None:
    assert texts("mfa \\\nst") == ["status "]
    assert texts("mfa mk \\\n  SMS --ph") == ["--phone "]
    found = complete("mfa sta\\\ntu")  # a word continued over two lines
    assert [c.text for c in found] == ["status "]
    assert applied("mfa sta\\\ntu", found[0]) == "mfa status "


def test_nothing_after_a_continuing_backslash_or_on_a_long_line() -> None:
    assert texts("mfa \\") == []
    assert texts("mfa status " + "x" * 5000 + "; mf") == []


def test_a_comment_before_a_newline_does_not_stop_completion() -> None:
    assert texts("whoami # c\nmf") == ["mfa "]


# --- help for each value and each spelling -----------------------------------------------


def test_negated_flags_say_what_they_do() -> None:
    metas = {c.text.strip(): c.display_meta_text for c in complete("mfa mk AUTHENTICATOR --")}
    assert metas["--qr"].startswith("show") and metas["--no-qr"].startswith("do not show")
    assert metas["--show-key"].startswith("display")
    assert metas["--no-show-key"].startswith("do not display")
    metas = {c.text.strip(): c.display_meta_text for c in complete("profile add x --")}
    assert metas["--no-verify-tls"].startswith("do not verify")


def test_set_keys_and_values_name_their_values() -> None:
    metas = {c.text.strip(): c.display_meta_text for c in complete("set ")}
    assert metas == {"output": "how results print: table or json",
                     "autosuggest": "grey suggestions from history as you type: on or off"}
    metas = {c.text.strip(): c.display_meta_text for c in complete("set autosuggest ")}
    assert metas["off"] == "no suggestions" and metas["on"].startswith("suggest")


def _sms_table() -> Table:
    sms = Table()
    sms.add(Command(("send",), "send", lambda ctx, a: None,
                    args=(Arg("method", "how", ("EMAIL", "SMS"), upper=True),),
                    opts=(Opt("--phone", "the phone number", "NUMBER",
                              when=When("method", ("SMS",))),
                          Opt("--qr", "show the QR code", negatable=True,
                              no_help="hide the QR code"),
                          Opt("--save", "save to FILE", "FILE", paths=True)),
                    output=False))
    return sms


def sms_texts(text: str) -> list[str]:
    completer = ShellCompleter(_sms_table(), lambda: None)
    return [c.text for c in completer.get_completions(Document(text), CompleteEvent())]


def test_an_option_that_goes_with_a_value_is_offered_only_after_it() -> None:
    assert "--phone " in sms_texts("send SMS ")
    assert "--phone " in sms_texts("send sms --")
    assert "--phone " not in sms_texts("send EMAIL ")
    assert "--phone " not in sms_texts("send ")
    from vss_shell.commands.parser import parse

    with pytest.raises(UsageError, match="--phone goes with SMS only"):
        parse(_sms_table(), ["send", "EMAIL", "--phone", "1"])
    assert parse(_sms_table(), ["send", "sms", "--phone", "1"]).args.phone == "1"
    text = help_text(_sms_table(), _sms_table().lookup("send"))
    assert "the phone number (with METHOD SMS only)" in text
    assert "--no-qr" in text and "hide the QR code" in text


def test_file_options_complete_paths(tmp_path, monkeypatch) -> None:
    (tmp_path / "codes.txt").write_text("")
    (tmp_path / "my codes.txt").write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "q.png").write_text("")
    monkeypatch.chdir(tmp_path)
    assert sms_texts("send SMS --save co") == ["codes.txt "]
    assert sms_texts("send SMS --save my") == ["'my codes.txt' "]
    assert sms_texts("send SMS --save s") == ["sub/"]  # a folder: no space, go on typing
    assert sms_texts("send SMS --save sub/") == ["sub/q.png "]
    assert sms_texts("send SMS --save=c") == ["--save=codes.txt "]
    assert sms_texts("send SMS --save 'my c") == ["'my codes.txt' "]
    line = "send SMS --save 'my c"
    completer = ShellCompleter(_sms_table(), lambda: None)
    [found] = completer.get_completions(Document(line), CompleteEvent())
    assert split(applied(line, found)) == ["send", "SMS", "--save", "my codes.txt"]


# --- the mfa table declares what goes with what (once commands/mfa.py declares it) ---------

MK = T.lookup("mfa").children["mk"]
DECLARED = any(o.when for o in MK.opts) and any(o.paths for o in MK.opts)


@pytest.mark.skipif(not DECLARED, reason="commands/mfa.py does not declare When/paths yet")
def test_mfa_mk_offers_phone_only_for_sms_and_paths_for_files(tmp_path, monkeypatch) -> None:
    assert "--phone " in texts("mfa mk SMS ")
    assert "--phone " not in texts("mfa mk EMAIL ") + texts("mfa mk AUTHENTICATOR --")
    # The key and QR code options only for an authenticator app.
    app = {"--qr ", "--no-qr ", "--invert ", "--qr-file ", "--show-key ", "--no-show-key "}
    assert app <= set(texts("mfa mk AUTHENTICATOR --"))
    assert not app & set(texts("mfa mk EMAIL --") + texts("mfa mk SMS --phone 1 --"))
    (tmp_path / "codes.txt").write_text("")
    monkeypatch.chdir(tmp_path)
    assert texts("mfa mk EMAIL --save-codes co") == ["codes.txt "]
    assert texts("mfa mk AUTHENTICATOR --qr-file=c") == ["--qr-file=codes.txt "]
    metas = {c.text.strip(): c.display_meta_text for c in complete("mfa mk ")}
    assert len(set(metas.values())) == 3  # each method says what it is
