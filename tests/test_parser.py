"""The command-line parser: words, split, split_commands, classify, mask_secrets, parse, help.

Expectations about options and help are derived from the command table itself,
so they hold for every command, not only the ones named here.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vss_shell.commands import table
from vss_shell.commands.builtin import find_topic, help_text
from vss_shell.commands.parser import (
    MASK,
    Help,
    Invocation,
    classify,
    history_line,
    mask_secrets,
    parse,
    split,
    split_commands,
    suggest,
    words,
)
from vss_shell.commands.table import (
    After,
    Arg,
    Command,
    Group,
    Opt,
    Table,
    checked_choices,
    choice_help,
    resolve_choices,
)
from vss_shell.errors import UsageError

T = table()


def run(line: str) -> Invocation | Help | None:
    return parse(T, split(line))


def args_of(line: str) -> dict[str, object]:
    parsed = run(line)
    assert isinstance(parsed, Invocation), parsed
    return vars(parsed.args)


def usage_error(line: str) -> UsageError:
    with pytest.raises(UsageError) as caught:
        run(line)
    return caught.value


def first_choice(choices: object) -> str | None:
    """The first of fixed choices (a tuple, or a mapping of values to their help)."""
    return next(iter(choices)) if isinstance(choices, tuple | dict) else None


def required_words(command: Command, opt: Opt | None = None) -> list[str]:
    """Values that satisfy a command's required positional arguments (and what
    ``opt`` goes with)."""
    found = []
    for arg in command.args:
        if opt is not None and opt.when is not None and opt.when.arg == arg.name:
            found.append(opt.when.values[0])
        elif arg.required:
            found.append(first_choice(arg.choices) or "x")
    return found


ALL_COMMANDS = list(T.commands())
COMMAND_IDS = [c.name for c in ALL_COMMANDS]


# --- split ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('mfa mk SMS --phone "416 555 0123"', ["mfa", "mk", "SMS", "--phone", "416 555 0123"]),
        ("mfa mk SMS --phone '416 555 0123'", ["mfa", "mk", "SMS", "--phone", "416 555 0123"]),
        (r"mfa mk SMS --phone 416\ 555\ 0123", ["mfa", "mk", "SMS", "--phone", "416 555 0123"]),
        ('a"b c"d', ["ab cd"]),
        ("mfa status # hi", ["mfa", "status"]),
        ("   ", []),
        ("# only a comment", []),
        ("mfa status 'a # b'", ["mfa", "status", "a # b"]),
    ],
)
def test_split_posix_words(line: str, expected: list[str]) -> None:
    assert split(line) == expected


@pytest.mark.parametrize("line", ['mfa mk "SMS', "mfa mk 'SMS", 'profile use "a b'])
def test_split_unclosed_quote_is_one_line_usage_error(line: str) -> None:
    with pytest.raises(UsageError) as caught:
        split(line)
    message = str(caught.value)
    assert "\n" not in message
    assert "quotation" in message
    assert message.startswith("cannot read the line")


def test_split_hash_inside_a_word_is_not_a_comment() -> None:
    assert split("mfa rm --token ab#cd") == ["mfa", "rm", "--token", "ab#cd"]


# --- split_commands ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a; b ;c", [["a"], ["b"], ["c"]]),
        ("a;b", [["a"], ["b"]]),
        ("a;;b;", [["a"], ["b"]]),
        (" ; ", []),
        ("", []),
        ("mfa status; whoami -o json", [["mfa", "status"], ["whoami", "-o", "json"]]),
        ("mfa status # c; d", [["mfa", "status"]]),
        ("profile use 'a;b'; whoami", [["profile", "use", "a;b"], ["whoami"]]),
        ('mfa mk SMS --phone "416 555 0123"; mfa status',
         [["mfa", "mk", "SMS", "--phone", "416 555 0123"], ["mfa", "status"]]),
    ],
)
def test_split_commands(text: str, expected: list[list[str]]) -> None:
    assert split_commands(text) == expected


def test_split_commands_unclosed_quote() -> None:
    with pytest.raises(UsageError, match="cannot read the command: no closing quotation"):
        split_commands("mfa status; profile use 'x")


def test_split_commands_hash_inside_a_word() -> None:
    assert split_commands("mfa rm --token ab#cd; whoami") == [
        ["mfa", "rm", "--token", "ab#cd"], ["whoami"]]


# --- words -------------------------------------------------------------------------


def test_words_spans_and_values() -> None:
    line = 'mfa  mk "S M S" # note'
    found = words(line)
    assert [w.value for w in found] == ["mfa", "mk", "S M S"]
    assert [w.raw for w in found] == ["mfa", "mk", '"S M S"']
    for word in found:
        assert line[word.start : word.end] == word.raw


def test_words_tolerate_an_unclosed_quote() -> None:
    found = words('mfa mk "SM')
    assert [w.value for w in found] == ["mfa", "mk", "SM"]
    assert found[-1].raw == '"SM'


@pytest.mark.parametrize("line", ["'\"", 'mfa rm --token "C:\\', "say 'it \"x", "a\"\\"])
def test_words_never_raise_on_unclosed_quotes(line: str) -> None:
    found = words(line)
    assert found


# --- parse: success ------------------------------------------------------------------


def test_quoted_value_with_spaces() -> None:
    a = args_of('mfa mk SMS --phone "416 555 0123"')
    assert a["method"] == "SMS"
    assert a["phone"] == "416 555 0123"


def test_option_equals_value() -> None:
    assert args_of("mfa mk SMS --phone=4165550123")["phone"] == "4165550123"
    assert args_of("mfa mk SMS --phone='416 555 0123'")["phone"] == "416 555 0123"
    assert args_of("mfa status --output=json")["output"] == "json"


def test_short_option() -> None:
    assert args_of("mfa status -o json")["output"] == "json"
    assert args_of("mfa status -o=JSON")["output"] == "json"


@pytest.mark.parametrize(
    ("line", "qr", "show_key"),
    [
        ("mfa mk AUTHENTICATOR", None, None),
        ("mfa mk AUTHENTICATOR --qr", True, None),
        ("mfa mk AUTHENTICATOR --no-qr", False, None),
        ("mfa mk AUTHENTICATOR --qr --no-qr", False, None),
        ("mfa mk AUTHENTICATOR --no-qr --show-key", False, True),
        ("mfa mk AUTHENTICATOR --no-show-key", None, False),
    ],
)
def test_negatable_flags(line: str, qr: bool | None, show_key: bool | None) -> None:
    a = args_of(line)
    assert a["qr"] is qr
    assert a["show_key"] is show_key


def test_plain_flags_are_none_or_true() -> None:
    a = args_of("mfa mk AUTHENTICATOR")
    assert a["invert"] is None
    assert a["no_verify"] is None
    a = args_of("mfa mk AUTHENTICATOR --invert --no-verify")
    assert a["invert"] is True
    assert a["no_verify"] is True


def test_every_option_is_none_when_unset() -> None:
    for command in ALL_COMMANDS:
        parsed = parse(T, [*command.path, *required_words(command)])
        assert isinstance(parsed, Invocation), command.name
        values = vars(parsed.args)
        for opt in command.all_opts:
            assert values[opt.dest] is None, (command.name, opt.name)


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=COMMAND_IDS)
def test_every_flag_of_the_table_parses(command: Command) -> None:
    for opt in command.all_opts:
        base = [*command.path, *required_words(command, opt)]
        if opt.metavar is None:
            parsed = parse(T, [*base, opt.name])
            assert isinstance(parsed, Invocation)
            assert getattr(parsed.args, opt.dest) is True
            if opt.negatable:
                parsed = parse(T, [*base, "--no-" + opt.name[2:]])
                assert isinstance(parsed, Invocation)
                assert getattr(parsed.args, opt.dest) is False
            with pytest.raises(UsageError, match="takes no value"):
                parse(T, [*base, opt.name + "=1"])
        else:
            value = first_choice(opt.choices) or "v a l"
            parsed = parse(T, [*base, opt.name, value])
            assert isinstance(parsed, Invocation)
            assert getattr(parsed.args, opt.dest) == value
            with pytest.raises(UsageError, match=f"option {opt.name} needs a value"):
                parse(T, [*base, opt.name])


@pytest.mark.parametrize(
    "line",
    ["MFA MK email", "mfa mk email", "Mfa Mk EmAiL", "mfa mk --output JSON email"],
)
def test_case_insensitive_commands_and_choices(line: str) -> None:
    parsed = run(line)
    assert isinstance(parsed, Invocation)
    assert parsed.command.path == ("mfa", "mk")
    assert parsed.args.method == "EMAIL"


def test_choice_kept_as_declared() -> None:
    assert args_of("mfa mk sms --phone 4165550123")["method"] == "SMS"
    assert args_of("mfa mk authenticator")["method"] == "AUTHENTICATOR"
    assert args_of("whoami -o JSON")["output"] == "json"


@pytest.mark.parametrize(
    ("word", "target"),
    [("quit", "exit"), (":q", "exit"), ("QUIT", "exit"), (":Q", "exit"), ("exit", "exit"),
     ("status", "whoami"), ("STATUS", "whoami"), ("whoami", "whoami")],
)
def test_aliases(word: str, target: str) -> None:
    parsed = run(word)
    assert isinstance(parsed, Invocation)
    assert parsed.command.name == target


def test_alias_takes_the_commands_options() -> None:
    assert args_of("status -o json")["output"] == "json"


@pytest.mark.parametrize("line", ["", "   ", "# just a comment"])
def test_empty_line_is_none(line: str) -> None:
    assert run(line) is None


def test_comment_after_command() -> None:
    parsed = run("mfa status # hi there --bogus")
    assert isinstance(parsed, Invocation)
    assert parsed.command.name == "mfa status"


def test_double_dash_ends_options() -> None:
    assert args_of("mfa verify -- -12345")["code"] == "-12345"
    assert args_of("login -- --weird-user")["user"] == "--weird-user"


def test_optional_args() -> None:
    assert args_of("mfa verify")["code"] is None
    assert args_of("mfa verify 123456")["code"] == "123456"
    a = args_of("help mfa mk")
    assert (a["topic"], a["sub"]) == ("mfa", "mk")


def test_positional_after_options() -> None:
    a = args_of("mfa mk --phone 4165550123 --no-verify SMS")
    assert (a["method"], a["phone"], a["no_verify"]) == ("SMS", "4165550123", True)


def test_dynamic_choices_are_not_validated_without_context() -> None:
    # Profile names come from the store; the handler reports an unknown one.
    assert args_of("profile use no-such-profile")["name"] == "no-such-profile"


# --- parse: errors -------------------------------------------------------------------


def test_unknown_command_suggests() -> None:
    exc = usage_error("mfz status")
    assert "unknown command 'mfz'" in str(exc)
    assert "did you mean 'mfa'" in str(exc)
    assert "help" in str(exc)
    assert exc.exit_status == 2


def test_unknown_command_without_close_match() -> None:
    exc = usage_error("zzzzzz")
    assert "unknown command 'zzzzzz'" in str(exc)
    assert "did you mean" not in str(exc)


def test_unknown_alias_suggestion() -> None:
    assert "did you mean 'quit'" in str(usage_error("quitt"))


def test_unknown_subcommand_suggests() -> None:
    exc = usage_error("mfa stauts")
    assert "unknown command 'mfa stauts'" in str(exc)
    assert "did you mean 'status'" in str(exc)
    assert "help mfa" in str(exc)


def test_bad_choice_lists_choices_and_suggests() -> None:
    exc = usage_error("mfa mk EMIAL")
    message = str(exc)
    assert "invalid METHOD 'EMIAL'" in message
    assert "EMAIL, AUTHENTICATOR, SMS" in message
    assert "did you mean 'email'" in message.lower()
    assert exc.usage is not None
    assert exc.usage.startswith("usage: mfa mk METHOD")


def test_bad_choice_suggestion_spelled_as_declared() -> None:
    assert "did you mean 'EMAIL'?" in str(usage_error("mfa mk EMIAL"))


def test_bad_option_value_choice() -> None:
    message = str(usage_error("mfa status --output=xml"))
    assert "invalid value for --output 'xml'" in message
    assert "table, json" in message


def test_missing_required_argument() -> None:
    exc = usage_error("mfa mk")
    assert "missing METHOD for 'mfa mk'" in str(exc)
    assert exc.usage == T.lookup("mfa").children["mk"].usage()


def test_unexpected_extra_argument() -> None:
    exc = usage_error("mfa token extra")
    assert "unexpected argument 'extra' for 'mfa token'" in str(exc)
    assert exc.usage == "usage: mfa token [--output FORMAT]"


def test_option_needs_a_value() -> None:
    assert "option --phone needs a value (NUMBER)" in str(usage_error("mfa mk SMS --phone"))


def test_flag_given_a_value() -> None:
    assert "option --qr takes no value" in str(usage_error("mfa mk AUTHENTICATOR --qr=yes"))
    assert "option --no-qr takes no value" in str(
        usage_error("mfa mk AUTHENTICATOR --no-qr=yes"))


def test_unknown_option_suggests() -> None:
    message = str(usage_error("mfa mk EMAIL --qr-fil x.png"))
    assert "unknown option '--qr-fil' for 'mfa mk'" in message
    assert "did you mean '--qr-file'" in message


def test_not_negatable_flag_has_no_no_form() -> None:
    assert "unknown option '--no-invert'" in str(usage_error("mfa mk EMAIL --no-invert"))


def test_output_option_only_where_declared() -> None:
    assert "unknown option '--output'" in str(usage_error("logout --output json"))


@pytest.mark.parametrize("line", ["mfz", "mfa stauts", "mfa mk EMIAL", "mfa mk", "mfa token x",
                                  "mfa mk SMS --phone", "mfa mk EMAIL --qr=1", 'mfa "x'])
def test_errors_are_one_line(line: str) -> None:
    assert "\n" not in str(usage_error(line))


@pytest.mark.parametrize(("line", "hint"), [
    ("mfa mj", "did you mean 'mk'?"),
    ("mfa mk smss", "did you mean 'SMS'?"),
    ("set output jsn", "did you mean 'json'?"),
    ("set output tabel", "did you mean 'table'?"),
    ("set autosuggest of", "did you mean 'off'?"),
    ("set outptu json", "did you mean 'output'?"),
    ("mfa stat", "did you mean 'status'?"),
    ("help mfa stauts", "did you mean 'status'?"),
])
def test_short_typos_get_a_suggestion(line: str, hint: str) -> None:
    assert hint in str(usage_error(line))


@pytest.mark.parametrize("line", ["mfa zz", "mfa x", "mfa mm", "login -x", "set output j",
                                  "mfa mk EMAIL --no-xyz", "set zz on"])
def test_no_nonsense_suggestion(line: str) -> None:
    assert "did you mean" not in str(usage_error(line))


@pytest.mark.parametrize(("word", "candidates", "expected"), [
    ("mj", ["mk", "rm"], "mk"),
    ("MJ", ["mk", "rm"], "mk"),
    ("jsn", ["table", "json"], "json"),
    ("stauts", ["status"], "status"),  # two letters swapped: one edit
    ("--qr-fil", ["--qr", "--qr-file"], "--qr-file"),
    ("st", ["mk", "verify", "token", "rm", "status"], "status"),  # the start of one word
    ("s", ["status", "set"], None),  # one letter starts both
    ("mm", ["mk", "rm"], None),  # as close to both
    ("zz", ["mk", "rm"], None),
    ("z", ["mk", ":q"], None),
    ("-x", ["-o", "--output"], None),  # the dash is not a letter in common
    ("", ["mk"], None),
    ("xyzzy", [], None),
])
def test_suggest(word: str, candidates: list[str], expected: str | None) -> None:
    assert suggest(word, candidates) == (f"; did you mean '{expected}'?" if expected else "")


# --- choices that depend on the arguments before, and the rest of the line ------------


def test_set_value_checked_against_the_key() -> None:
    assert args_of("set output JSON") == {"key": "output", "value": "json", "output": None}
    assert args_of("set AutoSuggest OFF")["value"] == "off"
    assert args_of("set output")["value"] is None
    assert args_of("set") == {"key": None, "value": None, "output": None}
    message = str(usage_error("set output on"))
    assert "invalid VALUE 'on' (choose from table, json)" in message
    assert "invalid VALUE 'json' (choose from on, off)" in str(usage_error("set autosuggest json"))


def test_help_sub_checked_against_the_group() -> None:
    a = args_of("help MFA MK")
    assert (a["topic"], a["sub"]) == ("MFA", "mk")
    assert "choose from mk, verify, token, rm, status" in str(usage_error("help mfa nope"))
    assert args_of("help login x")["sub"] == "x"  # no subcommands: help says what it knows
    assert args_of("help nope x")["sub"] == "x"  # help reports the unknown topic


def _noop(ctx: object, a: object) -> None:
    return None


def _rest_table() -> Table:
    """A table with a secret argument that takes the rest of the line."""
    rest = Table()
    rest.add(Command(("code",), "check a code", _noop,
                     args=(Arg("code", "the code", required=False, secret=True, rest=True),)))
    rest.add(Command(("say",), "say words", _noop,
                     args=(Arg("first", "the first word", ("hi", "bye")),
                           Arg("words", "the rest", rest=True))))
    return rest


def test_rest_argument_joins_the_remaining_words() -> None:
    rest = _rest_table()
    assert vars(parse(rest, split("code 123 456")).args)["code"] == "123 456"
    assert vars(parse(rest, split("code 123 -o json 456")).args) == {"code": "123 456",
                                                                   "output": "json"}
    assert vars(parse(rest, split("code '12 3' 456")).args)["code"] == "12 3 456"
    assert vars(parse(rest, split("code")).args)["code"] is None
    assert vars(parse(rest, split("say HI a b c")).args) == {"first": "hi", "words": "a b c",
                                                            "output": None}
    with pytest.raises(UsageError, match="missing WORDS"):
        parse(rest, split("say hi"))


def test_rest_argument_usage_and_roles() -> None:
    rest = _rest_table()
    assert rest.lookup("code").usage() == "usage: code [CODE...] [--output FORMAT]"
    assert rest.lookup("say").usage() == "usage: say FIRST WORDS... [--output FORMAT]"
    assert classify(rest, ["code", "1", "2", "-o", "json", "3"]).roles == [
        "command", "secret", "secret", "option", "value", "secret"]
    assert classify(rest, ["say", "hi", "a", "b"]).roles == ["command", "arg", "arg", "arg"]
    assert rest.lookup("code").arg_at(5) is rest.lookup("code").args[0]
    assert T.lookup("login").arg_at(1) is None


def test_only_the_last_argument_takes_the_rest() -> None:
    with pytest.raises(AssertionError):
        Table().add(Command(("x",), "x", _noop, args=(Arg("a", "a", rest=True), Arg("b", "b"))))


@pytest.mark.parametrize(("line", "expected"), [
    ("code 123 456", f"code {MASK}"),
    ("code  123\t456  # note", f"code  {MASK}  # note"),
    ("code 123 -o json 456", f"code {MASK} -o json {MASK}"),
    ("code '12 3' \"4 56\"", f"code {MASK}"),
    ("code -- 1 -2", f"code -- {MASK}"),
])
def test_rest_secret_is_masked_whole(line: str, expected: str) -> None:
    assert mask_secrets(_rest_table(), line) == expected
    assert history_line(_rest_table(), line) == expected


def test_after_choices() -> None:
    seen: list[tuple[object, tuple[str, ...]]] = []

    def fn(ctx: object, previous: tuple[str, ...]) -> dict[str, str]:
        seen.append((ctx, previous))
        return {"a": "the a", "b": ""}

    after = After(fn)
    assert choice_help(after, None, ("x",), default="d") == {"a": "the a", "b": "d"}
    assert resolve_choices(after, None, ("y",)) == ["a", "b"]
    assert checked_choices(after, None) == ["a", "b"]
    assert seen == [(None, ("x",)), (None, ("y",)), (None, ())]
    # Choices of the running shell are offered, not checked; fixed ones are both.
    assert checked_choices(lambda ctx: ["p"], object()) == []
    assert resolve_choices(lambda ctx: ["p"], object()) == ["p"]
    assert resolve_choices(lambda ctx: ["p"], None) == []
    assert checked_choices(("x", "y"), None) == ["x", "y"]
    assert choice_help(None, None) == {}


def test_classify_marks_values_outside_their_choices() -> None:
    assert classify(T, ["mfa", "mk", "EMIAL"]).roles[-1] == "invalid"
    assert classify(T, ["mfa", "mk", "email"]).roles[-1] == "arg"
    assert classify(T, ["set", "output", "jsn"]).roles[-1] == "invalid"
    assert classify(T, ["set", "OUTPUT", "JSON"]).roles[-1] == "arg"
    assert classify(T, ["mfa", "status", "-o", "xml"]).roles[-1] == "invalid"
    assert classify(T, ["mfa", "status", "--output=xml"]).roles[-1] == "invalid"
    assert classify(T, ["mfa", "mk", "SMS", "--qr=1"]).roles[-1] == "invalid"
    assert classify(T, ["profile", "use", "anything"]).roles[-1] == "arg"  # not checked


# --- help ----------------------------------------------------------------------------


@pytest.mark.parametrize("line", ["mfa mk --help", "mfa mk -h", "mfa mk EMIAL --help",
                                  "mfa mk --phone 1 -h"])
def test_help_option_on_command(line: str) -> None:
    parsed = run(line)
    assert isinstance(parsed, Help)
    assert parsed.target is T.lookup("mfa").children["mk"]


@pytest.mark.parametrize("line", ["mfa", "mfa -h", "mfa --help", "MFA"])
def test_group_alone_or_with_help_is_group_help(line: str) -> None:
    parsed = run(line)
    assert isinstance(parsed, Help)
    assert parsed.target is T.lookup("mfa")


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=COMMAND_IDS)
def test_every_command_answers_help(command: Command) -> None:
    parsed = parse(T, [*command.path, "--help"])
    assert isinstance(parsed, Help)
    assert parsed.target is command


def test_help_mfa_mk_text() -> None:
    parsed = run("help mfa mk")
    assert isinstance(parsed, Invocation)
    topic = find_topic(T, [parsed.args.topic, parsed.args.sub])
    text = help_text(T, topic)
    lines = text.splitlines()
    assert lines[0] == ("usage: mfa mk METHOD [--phone NUMBER] [--qr|--no-qr] [--invert] "
                        "[--qr-file PATH] [--show-key|--no-show-key] [--save-codes FILE] "
                        "[--no-save-codes] [--yes] [--no-verify] [--output FORMAT]")
    for spelled in ("--phone NUMBER", "--output, -o FORMAT", "EMAIL, AUTHENTICATOR, SMS"):
        assert spelled in text
    # Each spelling of a negatable flag says what it does.
    rows = {line.split()[0]: line for line in lines if line.startswith("  --")}
    assert "do not" not in rows["--qr"] and "do not" in rows["--no-qr"]
    assert "do not" not in rows["--show-key"] and "do not" in rows["--no-show-key"]


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=COMMAND_IDS)
def test_help_text_covers_the_table(command: Command) -> None:
    text = help_text(T, command)
    assert text.splitlines()[0] == command.usage()
    assert command.help in text
    for arg in command.args:
        assert arg.name.upper() in text
        assert arg.help in text
    for opt in command.all_opts:
        for spelling in opt.spellings:
            assert spelling in text, (command.name, spelling)
        assert opt.help in text
        if opt.metavar:
            assert opt.metavar in text
    for opt in command.opts:
        assert opt.name in command.usage()


def test_group_help_lists_children() -> None:
    for entry in T.top.values():
        if isinstance(entry, Group):
            text = help_text(T, entry)
            for name, child in entry.children.items():
                assert f"{entry.name} {name}" in text
                assert child.help in text


def test_top_help_hides_demo_only() -> None:
    text = help_text(T, None)
    for name, entry in T.top.items():
        if isinstance(entry, Command) and entry.demo_only:
            assert f"  {name} " not in text
        else:
            assert name in text


def test_top_help_in_demo_mode_lists_demo_only() -> None:
    text = help_text(T, None, demo=True)
    for name, entry in T.top.items():
        assert f"  {name} " in text or f"  {name}, " in text  # with its aliases
        assert entry.help in text
    assert "  outbox " in text
    assert "  whoami, status " in text and "  exit, quit, :q " in text


def test_set_help_lists_the_settings() -> None:
    text = help_text(T, T.lookup("set"))
    assert "KEY" in text and "(output, autosuggest)" in text
    assert "output: table or json" in text and "autosuggest: on or off" in text
    assert "output       how results print: table or json" in text


def test_find_topic_errors() -> None:
    with pytest.raises(UsageError, match="did you mean 'mfa'"):
        find_topic(T, ["mfz"])
    with pytest.raises(UsageError, match="did you mean 'status'"):
        find_topic(T, ["mfa", "stauts"])


# --- classify ------------------------------------------------------------------------


def test_classify_roles() -> None:
    values = ["mfa", "mk", "SMS", "--phone", "1", "--bogus", "--output=json", "x", "-h"]
    walk = classify(T, values)
    assert walk.roles == ["group", "sub", "arg", "option", "value", "unknown", "option",
                          "unknown", "help"]
    assert walk.command is T.lookup("mfa").children["mk"]
    assert walk.pending_opt is None
    assert walk.positional == 2


def test_classify_secrets_and_pending() -> None:
    assert classify(T, ["mfa", "verify", "123456"]).roles[-1] == "secret"
    assert classify(T, ["mfa", "rm", "--token", "abc"]).roles[-2:] == ["option", "secret"]
    assert classify(T, ["mfa", "rm", "--token=abc"]).roles[-1] == "option-secret"
    walk = classify(T, ["mfa", "rm", "--token"])
    assert walk.pending_opt is not None
    assert walk.pending_opt.name == "--token"


def test_classify_unknown_command() -> None:
    assert classify(T, ["nope", "mk", "--x"]).roles == ["unknown"] * 3
    assert classify(T, ["login", "bob"]).roles == ["command", "arg"]


# --- mask_secrets --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("mfa verify 123456", f"mfa verify {MASK}"),
        ("MFA VERIFY 123456", f"MFA VERIFY {MASK}"),
        ("  mfa   verify\t123456  ", f"  mfa   verify\t{MASK}  "),
        ('mfa verify "123 456"', f"mfa verify {MASK}"),
        ("mfa verify '123456' # a note", f"mfa verify {MASK} # a note"),
        ("mfa verify -o json 123456", f"mfa verify -o json {MASK}"),
        ("mfa verify -- 123456", f"mfa verify -- {MASK}"),
        ("mfa rm --token abc", f"mfa rm --token {MASK}"),
        ("mfa rm --token=abc", f"mfa rm --token={MASK}"),
        ('mfa rm --token="a b c"', f"mfa rm --token={MASK}"),
        ("mfa rm --token 'a b' -o json", f"mfa rm --token {MASK} -o json"),
        ("mfa rm --token abc --token def", f"mfa rm --token {MASK} --token {MASK}"),
        ('mfa verify "12345', f"mfa verify {MASK}"),
    ],
)
def test_mask_secrets(line: str, expected: str) -> None:
    assert mask_secrets(T, line) == expected


@pytest.mark.parametrize(
    "line",
    ["mfa status", "mfa verify", "mfa mk SMS --phone '416 555 0123'", "login bob",
     "whoami # 123456", "profile use 'my lab'", "", "   ", "mfz 123456", "mfa rm --token",
     "help mfa verify"],
)
def test_mask_leaves_other_lines_alone(line: str) -> None:
    assert mask_secrets(T, line) == line


@pytest.mark.parametrize("line", [
    "mfa verfy 123456", "mfa rm --tok AbcTok9999", "mfz 123456", "mfa rm AbcTok9999",
    "mfa verify 123456 --tokn x", "mfa rm --help --tok AbcTok9999", "mfa --help 123456",
    "mfa status --output 123456", "mfa verify --help --output 123456", "whoami 123456",
    "mfa token --yes=123456", "set output 123456", "mfa mk EMIAL", "mfa mk",
])
def test_history_line_leaves_out_what_does_not_parse(line: str) -> None:
    assert history_line(T, line) is None


@pytest.mark.parametrize(("line", "expected"), [
    ("mfa verify 123456", f"mfa verify {MASK}"),
    ("mfa rm --token=abc --yes", f"mfa rm --token={MASK} --yes"),
    ('mfa verify "12345', f"mfa verify {MASK}"),  # the shell says the quote is open
    ("mfa status", "mfa status"),
    ("mfa mk --help", "mfa mk --help"),
    ("mfa verify --help", "mfa verify --help"),
    ("mfa verify", "mfa verify"),
    ("login 'o\"brien", "login 'o\"brien"),
    ("whoami # 123456", "whoami # 123456"),
    ("set output json", "set output json"),
    ("help mfa mk", "help mfa mk"),
    ("", ""),
])
def test_history_line_masks_clean_lines(line: str, expected: str) -> None:
    assert history_line(T, line) == expected


DIGITS = st.text(alphabet="0123456789", min_size=6, max_size=8)
SPACE = st.sampled_from([" ", "  ", "\t"])
NO_DIGITS = st.text(alphabet="abc -#'=", max_size=12)  # one kind of quote: see above


@settings(max_examples=60, deadline=None)
@given(code=DIGITS, s1=SPACE, s2=SPACE, quote=st.sampled_from(["", "'", '"']),
       tail=NO_DIGITS, verify=st.sampled_from(["verify", "VERIFY", "Verify"]))
def test_mask_never_keeps_the_verify_code(code: str, s1: str, s2: str, quote: str,
                                          tail: str, verify: str) -> None:
    line = f"mfa{s1}{verify}{s2}{quote}{code}{quote} {tail}"
    masked = mask_secrets(T, line)
    assert code not in masked
    assert MASK in masked


@settings(max_examples=60, deadline=None)
@given(token=st.from_regex(r"[A-Za-z0-9_.]{8,24}", fullmatch=True),
       form=st.sampled_from(["--token {}", "--token={}", "--token '{}'", '--token="{}"',
                             "-o json --token {}"]))
def test_mask_never_keeps_the_rm_token(token: str, form: str) -> None:
    masked = mask_secrets(T, "mfa rm " + form.format(token))
    assert token not in masked


# --- properties -----------------------------------------------------------------------

VOCAB = ["mfa", "mk", "verify", "rm", "token", "status", "profile", "use", "help", "login",
         "exit", ":q", "--token", "--token=", "--phone", "-o", "--output", "json", "EMAIL", "sms",
         "--qr", "--no-qr", "--", "-h", "--help", "=", "123456", "x", ";", "#", "-"]
LINES = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(VOCAB), max_size=10).map(" ".join),
)


@settings(max_examples=300, deadline=None)
@given(LINES)
def test_parse_returns_or_raises_usage_error(line: str) -> None:
    try:
        result = run(line)
    except UsageError as exc:
        assert "\n" not in str(exc)
        return
    assert result is None or isinstance(result, Invocation | Help)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(VOCAB), st.text(max_size=8)), max_size=8))
def test_parse_of_any_word_list(values: list[str]) -> None:
    try:
        result = parse(T, values)
    except UsageError:
        return
    assert result is None or isinstance(result, Invocation | Help)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab -=\t\"\\;", max_size=20))
def test_words_agree_with_split(line: str) -> None:
    # No '#' (see test_split_hash_inside_a_word_is_not_a_comment) and one kind of quote
    # (see test_words_never_raise_on_unclosed_quotes).
    try:
        expected = split(line)
    except UsageError:
        return
    assert [w.value for w in words(line)] == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(VOCAB), max_size=10).map(" ".join))
def test_classify_one_role_per_word(line: str) -> None:
    values = [w.value for w in words(line)]
    assert len(classify(T, values).roles) == len(values)


@pytest.mark.parametrize("line", [
    "profile add x --endpoint https://u:Pw-123@vss.example.org",
    "profile set x endpoint 'https://vss.example.org/?token=abc'",
    "profile add x --endpoint=https://vss.example.org/#frag",
    "profile add x --endpoint https://alice:pa/ssw0rd@example.org",
])
def test_history_line_drops_urls_that_may_hold_secrets(line: str) -> None:
    assert history_line(T, line) is None
    assert history_line(T, "profile add x --endpoint https://vss.example.org") is not None
