"""``mfa``: enrol, verify, have a code sent, disable, and show the status."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from types import SimpleNamespace as Args
from typing import TYPE_CHECKING, Any

from vss_shell import savefile
from vss_shell.api.errors import Conflict, InvalidDisableToken, InvalidResponse
from vss_shell.commands.table import Arg, Command, Opt, Table, When
from vss_shell.constants import MFA_METHODS
from vss_shell.context import Context
from vss_shell.credentials import RESEND_HINT
from vss_shell.errors import MissingAnswer, ShellError, UsageError
from vss_shell.savefile import save_private

if TYPE_CHECKING:
    from vss_shell.session import Session
    from vss_shell.ui import UI

_PHONE = r"\+?[\d\s().-]+"  # compiled at the first phone number
_WHERE = {"EMAIL": "your email", "SMS": "the SMS", "AUTHENTICATOR": "your authenticator app"}


def check_phone(text: str) -> str:
    """A phone number as typed, if it is one: ``+`` and 8 to 15 digits (E.164), or a
    North American number (10 digits, or 11 starting with 1)."""
    digits = re.sub(r"\D", "", text)
    international = text.strip().startswith("+")
    fits = (8 <= len(digits) <= 15 if international
            else len(digits) == 10 or (len(digits) == 11 and digits.startswith("1")))
    if not re.fullmatch(_PHONE, text.strip()) or not fits:
        raise ShellError(f"invalid phone number '{text}' (for example 416-555-0123, "
                         "(416) 555-0123 or +1 416 555 0123)")
    return text.strip()


def check_code(text: str) -> str:
    """A 6-digit code; spaces are ignored."""
    code = re.sub(r"\s", "", text)
    if not re.fullmatch(r"\d{6}", code):
        raise ShellError("a code is 6 digits (spaces are ignored)")
    return code


@contextlib.contextmanager
def _conflict_means(session: Session, state: str) -> Iterator[None]:
    """A 409 tells the account's MFA state (the contract's only use of it)."""
    try:
        yield
    except Conflict:
        session.mfa_state = state
        raise


def _remember_method(ctx: Context, method: str | None) -> None:
    """Keep the MFA method in the profile, so login knows whether to send a code.

    Only when the profile itself names the account: with an endpoint or user
    from an option or a variable, the method belongs to another account.
    """
    settings = ctx.settings
    settings.mfa_method = method
    borrowed = [k for k in ("endpoint", "username")
                if not settings.sources.get(k, "default").startswith(("profile", "default"))]
    if ctx.demo is not None or borrowed:
        return
    from vss_shell.profiles import ProfileError

    try:
        if method:
            ctx.store.set(settings.name, "mfa_method", method)
        else:
            ctx.store.unset(settings.name, "mfa_method")
    except (ProfileError, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        ctx.ui.warn(f"the profile does not remember the MFA method: {reason}")
        return
    settings.sources["mfa_method"] = f"profile {settings.name}" if method else "default"


# --- mfa mk -----------------------------------------------------------------


def _at_terminal(ui: UI) -> bool:
    """Whether a person reads what the command shows (the shell, stdout a terminal, or
    a terminal that asks the questions while results go to a file: ``UI.tell``)."""
    return ui.messages_to_stdout or ui.columns is not None or ui.can_ask


def _precheck(ctx: Context, a: Args, shows: bool) -> None:
    """Fail before any request on a file that cannot be written, or, without a
    terminal, on an answer that is missing (``shows``: the key is shown to a person)."""
    ui = ctx.ui
    for flag, path in (("--save-codes", a.save_codes), ("--qr-file", a.qr_file)):
        trouble = path and savefile.problem(path, may_overwrite=a.yes or ui.assume_yes
                                            or ui.can_ask)
        if trouble:  # found now, before the server enrols anything
            raise ShellError(f"{flag}: {trouble}")
    if ui.can_ask:
        return
    missing = []
    if a.method == "AUTHENTICATOR" and shows:
        if a.qr is None:
            missing.append("--qr or --no-qr")
        if a.show_key is None:
            missing.append("--show-key or --no-show-key")
    if not a.no_verify and not ctx.session.sources.otp_command:
        missing.append("--no-verify (then 'mfa verify CODE'), or --otp-command CMD")
    if missing:
        raise MissingAnswer("no terminal to answer the questions of 'mfa mk': use "
                            + "; ".join(missing))


#: Lines under a drawn QR code until the code is asked: the key's question, the
#: code's question, the line the answer is typed on.
QR_LINES_BELOW = 3


def _show_authenticator(ctx: Context, a: Args, resp: dict[str, Any], shown: set[str]) -> None:
    from vss_shell import qr

    ui, uri, key = ctx.ui, str(resp.get("uri", "")), str(resp.get("key", ""))
    modules = len(qr.matrix(uri)) if a.qr is not False else 0
    # Half blocks: a line holds two rows of modules. The code stays on screen with
    # the questions under it (the key's, the code's) or it is not drawn at all.
    width, height = modules, (modules + 1) // 2 + QR_LINES_BELOW
    columns, lines = ui.columns, ui.lines
    if columns is not None and width > columns:  # wrapped, a QR code would not scan
        ui.warn(f"the terminal is {columns} columns wide and the QR code needs {width}, "
                "so it is not drawn: type the key into your app instead")
        show_qr, a.show_key = False, True
    elif lines is not None and height > lines:  # it would scroll away before the code
        ui.warn(f"the terminal is {lines} lines high and the QR code needs {height} with "
                "the questions under it, so it is not drawn: type the key into your app "
                "instead (or make the terminal taller)")
        show_qr, a.show_key = False, True
    else:
        show_qr = a.qr if a.qr is not None else ui.confirm(
            "Show a QR code to scan with your authenticator app?", flag="--qr or --no-qr",
            default=True)
    if show_qr:
        ui.tell(qr.terminal(uri, invert=bool(a.invert), color=ui.color))
        shown.add("key")  # the QR code carries it
    show_key = a.show_key if a.show_key is not None else ui.confirm(
        "Display the secret key (to type into the app instead)?",
        flag="--show-key or --no-show-key", default=not show_qr)
    if show_key:
        ui.info("Secret key:")
        ui.tell(key)
        shown.add("key")


def _save_codes(ctx: Context, a: Args, user: str, issuer: str, codes: list[str]) -> str | None:
    ui = ctx.ui
    path = a.save_codes
    if path is None:
        if a.no_save_codes or not ui.can_ask or not ui.confirm(
                "Save the recovery codes to a file?",
                flag="--save-codes FILE or --no-save-codes", default=True):
            return None
        default = f"{user}_{issuer.replace(' ', '_')}_recovery_codes.txt"
        path = ui.ask("File name", flag="--save-codes FILE", default=default, paths=True)
    text = "".join(f"{c}\n" for c in codes)
    return save_private(ui, path, lambda: text.encode(), what="recovery codes", yes=a.yes)


def _finish_enrolment(ctx: Context, method: str) -> bool:
    """Ask for codes until one verifies; False when the person gives up (Ctrl-C at the
    shell's question); the refusals, once the tries are spent, raise."""
    ui, session = ctx.ui, ctx.session
    resend = _resend(ctx, method)
    if resend is not None and not session.sources.otp_command and ui.can_ask:
        ui.info(RESEND_HINT)
    try:
        resp = session.with_code(
            ui, f"Enter the 6-digit code from {_WHERE[method]}",
            lambda code: session.call(ui, lambda c, u, p: c.verify_mfa(u, p, check_code(code))),
            given_ok=False, resend=resend)
    except KeyboardInterrupt:
        if ui.interrupt_ends_run or session.sources.otp_command:
            raise
        return False
    ui.info(str(resp.get("message") or "MFA enabled."))
    return True


def _resend(ctx: Context, method: str) -> Callable[..., object] | None:
    """For EMAIL/SMS: what has a new code sent when the person asks for one."""
    if method not in ("EMAIL", "SMS"):
        return None
    return lambda quiet=False: ctx.session.send_code(ctx.ui, quiet=quiet)


def mk(ctx: Context, a: Args) -> dict[str, Any]:
    """Enrol in MFA."""
    method, as_json = a.method, ctx.wants_json(a.output)
    if a.save_codes and a.no_save_codes:
        raise UsageError("--save-codes and --no-save-codes: choose one")
    phone = None
    if method == "SMS":
        if not a.phone:
            raise UsageError("SMS needs a phone number: mfa mk SMS --phone NUMBER")
        phone = check_phone(a.phone)
    if a.qr_file and not a.qr_file.lower().endswith((".svg", ".png")):
        raise UsageError(f"--qr-file {a.qr_file}: name it .svg or .png")
    ui, session = ctx.ui, ctx.session
    # A person reads the key and the codes as text, whatever the format; a program
    # reading JSON gets them in the pending document, before any code is awaited.
    human = not as_json or _at_terminal(ui)
    _precheck(ctx, a, human)
    session.login_before_enrolment(ui)  # one login for the whole session
    try:
        with _conflict_means(session, "on"):  # 409: enabled already
            resp = session.call(ui, lambda c, u, p: c.enable_mfa(u, p, method, phone))
    except InvalidResponse as exc:
        _refused_enrolment(ctx, a, exc, human)
        raise
    session.mfa_state, session.mfa_method = "pending", method
    result = _pending_doc(method, resp, as_json)
    shown: set[str] = set()  # what the person (or program) has seen: key, codes, doc
    try:
        _remember_method(ctx, method)  # so that the next login knows, however it ends
        _after_enable(ctx, a, resp, result, shown, human)
    except BaseException:
        # The server has enrolled: whatever failed, show what finishing later needs.
        if human:
            _show_the_rest(ctx, a, resp, shown)
        elif "doc" not in shown:
            ctx.emit(result, a.output)
        ui.info(_pending(method))
        raise
    if result["status"] == "pending":
        ui.info(_pending(method))
    elif "doc" in shown:  # the pending document went out: this one ends the story
        return {"method": method, "status": "enabled"}
    return result


def _pending_doc(method: str, resp: dict[str, Any], as_json: bool) -> dict[str, Any]:
    """The result of an enrolment while pending: method, issuer, and in JSON the key,
    its URI and the recovery codes (what finishing needs)."""
    result: dict[str, Any] = {"method": method, "status": "pending",
                              "issuer": str(resp.get("issuer") or "ITS Private Cloud")}
    if as_json:
        if method == "AUTHENTICATOR":
            result.update({k: resp[k] for k in ("key", "uri") if k in resp})
        if "recovery_codes" in resp:
            result["recovery_codes"] = _codes(resp)
    return result


def _refused_enrolment(ctx: Context, a: Args, exc: InvalidResponse, human: bool) -> None:
    """The server answered ``/tf/enable`` with something not as the contract says: it
    may have enrolled all the same, so what was valid is shown, and how to go on."""
    session, method = ctx.session, a.method
    session.mfa_state, session.mfa_method = "pending", method
    _remember_method(ctx, method)
    partial = exc.partial if isinstance(exc.partial, dict) else {}
    if human:
        if method == "AUTHENTICATOR" and partial.get("key"):
            ctx.ui.info("Secret key (add it to your authenticator app to finish):")
            ctx.ui.tell(str(partial["key"]))
        if partial.get("recovery_codes"):
            _show_codes(ctx, _codes(partial), set())
    else:
        ctx.emit(_pending_doc(method, partial, True), a.output)
    ctx.ui.info(f"The server may have started the enrolment: finish it with 'mfa verify CODE'"
                f", or start again with 'mfa mk {method}'.")


def _pending(method: str) -> str:
    """How to finish a pending enrolment later."""
    sent = " ('mfa token' has a code sent)" if method in ("EMAIL", "SMS") else ""
    return f"Enrolment is pending: finish it with 'mfa verify CODE'{sent}."


def _codes(resp: dict[str, Any]) -> list[str]:
    return [str(c) for c in resp.get("recovery_codes") or []]


def _show_codes(ctx: Context, codes: list[str], shown: set[str]) -> None:
    ctx.ui.info("Recovery codes (each stands in once for a code; keep them safe):")
    ctx.ui.tell("\n".join(f"  {c}" for c in codes))
    shown.add("codes")


def _show_the_rest(ctx: Context, a: Args, resp: dict[str, Any], shown: set[str]) -> None:
    """After a failure or Ctrl-C: what finishing the enrolment later needs, if not seen."""
    if a.method == "AUTHENTICATOR" and "key" not in shown:
        ctx.ui.info("Secret key (add it to your authenticator app to finish):")
        ctx.ui.tell(str(resp.get("key", "")))
    if "codes" not in shown:
        _show_codes(ctx, _codes(resp), shown)


def _after_enable(ctx: Context, a: Args, resp: dict[str, Any], result: dict[str, Any],
                  shown: set[str], human: bool) -> None:
    """Show what enrolment gave, save files, have a code sent, and finish with a code."""
    ui, session, method = ctx.ui, ctx.session, a.method
    codes = _codes(resp)
    if human:  # the codes (and their file) first: the QR code comes last, just above
        _show_codes(ctx, codes, shown)  # the code question, so that it stays on screen
    if a.qr_file:
        from vss_shell import qr

        uri = str(resp.get("uri", ""))
        saved = save_private(ui, a.qr_file, lambda: qr.file_bytes(uri, a.qr_file),
                             what="QR code", yes=a.yes)
        if saved:
            result["qr_file"] = saved
    saved = _save_codes(ctx, a, session.username or "", result["issuer"], codes)
    if saved:
        result["recovery_codes_file"] = saved
    if human and method == "AUTHENTICATOR":
        _show_authenticator(ctx, a, resp, shown)
    if not human and not a.no_verify:  # a program reads what finishing needs, now
        ctx.emit(result, a.output)
        shown.add("doc")
    if method in ("EMAIL", "SMS"):
        sent = session.call(ui, lambda c, u, p: c.request_code(u, p))
        ui.info(str(sent.get("message") or "A code was sent."))
    if not a.no_verify and _finish_enrolment(ctx, method):
        result["status"] = "enabled"
        session.mfa_state = "on"


# --- the others -------------------------------------------------------------


def verify(ctx: Context, a: Args) -> dict[str, Any] | None:
    """Check a code; finishes a pending enrolment."""
    ui, session = ctx.ui, ctx.session

    def attempt(raw: str) -> dict[str, Any]:
        code = session.sent(check_code(raw))
        with _conflict_means(session, "off"):  # 409: MFA is off, no enrolment pending
            return session.call(ui, lambda c, u, p: c.verify_mfa(u, p, code))

    try:
        if a.code:
            resp = attempt(a.code)
        else:  # asked as at enrolment: where the code comes from, resend, three tries
            method = session.mfa_method or ctx.settings.mfa_method
            resend = _resend(ctx, method) if method else None
            if resend is not None and not session.sources.otp_command and ui.can_ask:
                ui.info(RESEND_HINT)
            where = _WHERE.get(method or "")
            resp = session.with_code(ui, f"Enter the 6-digit code from {where}" if where
                                     else "Enter the 6-digit code", attempt, resend=resend)
    except Conflict as exc:
        raise ShellError(f"{exc}; nothing to verify: enrol first with 'mfa mk'") from None
    message = str(resp.get("message") or "Code verified.")
    session.mfa_state = "on"  # a code verifies only with MFA on (or now turned on)
    if ctx.wants_json(a.output):
        return {"verified": True, "message": message}
    ui.info(message)
    return None


def token(ctx: Context, a: Args) -> dict[str, Any] | None:
    """Have a code sent by email or SMS."""
    with _conflict_means(ctx.session, "off"):
        resp = ctx.session.call(ctx.ui, lambda c, u, p: c.request_code(u, p))
    message = str(resp.get("message") or "A code was sent.")
    if ctx.wants_json(a.output):
        return {"message": message}
    ctx.ui.info(message)
    return None


def rm(ctx: Context, a: Args) -> dict[str, Any] | None:
    """Disable MFA: the server emails a token that confirms it."""
    ui, session = ctx.ui, ctx.session
    as_json = ctx.wants_json(a.output)
    confirmation = a.token
    if confirmation is None:
        user = session.user(ui)
        if not a.yes:
            ui.confirm_or_cancel(f"Disable MFA for {user}?", flag="--yes")
        with _conflict_means(session, "off"):
            resp = session.call(ui, lambda c, u, p: c.disable_mfa(u, p))
        ui.info(str(resp.get("message") or "Confirmation email sent."))
        if not ui.can_ask:
            ui.info("Finish with: mfa rm --token TOKEN (the token from the email)")
            return {"status": "confirmation sent"} if as_json else None
        resp = _confirm_asked(ctx)
    else:
        resp = _confirm(ctx, confirmation)
    message = str(resp.get("message") or "MFA disabled.")
    session.mfa_method = None
    session.mfa_state = "off"
    session.uncache(ui)
    _remember_method(ctx, None)
    if as_json:
        return {"status": "disabled", "message": message}
    ui.info(message)
    return None


#: Tries a person has to type the confirmation token (one email for all).
TOKEN_TRIES = 3


def _confirm(ctx: Context, confirmation: str) -> dict[str, Any]:
    confirmation = ctx.session.sent(confirmation.strip())
    if not confirmation:
        raise ShellError("the confirmation token is empty")
    with _conflict_means(ctx.session, "off"):
        return ctx.session.call(
            ctx.ui, lambda c, u, p: c.confirm_disable_mfa(u, p, confirmation))


def _confirm_asked(ctx: Context) -> dict[str, Any]:
    """Ask for the emailed token; a mistyped one is asked again (no new email)."""
    for number in range(1, TOKEN_TRIES + 1):
        typed = ctx.ui.ask_secret("Confirmation token from the email", flag="--token TOKEN")
        try:
            return _confirm(ctx, typed)
        except InvalidDisableToken as exc:
            if number == TOKEN_TRIES:
                raise ShellError(f"the server did not accept the confirmation token "
                                 f"({TOKEN_TRIES} tries, HTTP {exc.status}): check the email "
                                 "and finish with 'mfa rm --token TOKEN', or run 'mfa rm' "
                                 "again for a new one") from None
            ctx.ui.error(f"error: the server did not accept that confirmation token (mistyped?"
                         f"); the one in the email still serves ({TOKEN_TRIES - number} left)")
    raise AssertionError("unreachable")


STATUS_FIELDS = ("enabled", "method", "enabled_on", "disabled_on")
#: The server's times (UTC, the contract's format).
SERVER_TIME = "%Y-%m-%d %H:%M:%S"


def _time(field: str, value: Any, as_json: bool) -> str | None:
    """A server time as ISO 8601 in UTC (JSON), or readable with its zone (tables)."""
    if value is None:
        return None
    from datetime import UTC, datetime

    try:
        when = datetime.strptime(str(value), SERVER_TIME).replace(tzinfo=UTC)
    except ValueError:
        raise ShellError(f"the server's {field} is not a time as YYYY-MM-DD HH:MM:SS "
                         "(refused)") from None
    return when.strftime("%Y-%m-%dT%H:%M:%SZ" if as_json else "%Y-%m-%d %H:%M:%S UTC")


def status(ctx: Context, a: Args) -> dict[str, Any]:
    """The four fields of ``vss-cli account get mfa``, and ``state``: on, off or pending."""
    totp = ctx.session.call_v2(ctx.ui, lambda c, t: c.get_mfa_status(t))
    enabled, method = totp.get("enabled"), totp.get("method")
    state = "on" if enabled else ("pending" if method else "off")
    as_json = ctx.wants_json(a.output)
    result = {key: totp.get(key) for key in STATUS_FIELDS}
    for key in ("enabled_on", "disabled_on"):
        result[key] = _time(key, result[key], as_json)
    ctx.session.mfa_state = state
    ctx.session.mfa_method = method if isinstance(method, str) else None
    return {**result, "state": state}


MK_HELP = """\
Starts enrolment. AUTHENTICATOR shows a QR code and the key for your app;
EMAIL and SMS have a code sent. The recovery codes are shown once and may be
saved to a file (mode 0600, never overwritten without asking). Then the
shell asks for a code to finish; 'mfa verify' finishes later.
At a terminal, the key and the codes are shown before the code is asked,
whatever the output format. With -o json in a pipe, the pending document
(method, key, uri, recovery_codes, status "pending") is printed first, and
once a code finished the enrolment, {"method": ..., "status": "enabled"}.
For EMAIL and SMS, an empty answer or 'resend' has a new code sent."""


#: Options that only an authenticator app's enrolment (a key, a QR code) takes.
APP = When("method", ("AUTHENTICATOR",))


def register(table: Table) -> None:
    """Declare the ``mfa`` commands."""
    table.group("mfa", "multi-factor authentication: enrol, verify, disable, status")
    method = Arg("method", "how codes come", dict(zip(MFA_METHODS, (
        "codes by email", "codes from an authenticator app (QR code or key)",
        "codes by text message (needs --phone)"), strict=True)), upper=True)
    table.add(Command(("mfa", "mk"), "enrol in MFA (EMAIL, AUTHENTICATOR or SMS)", mk,
                      args=(method,),
                      opts=(Opt("--phone", "the phone number codes are sent to", "NUMBER",
                                when=When("method", ("SMS",))),
                            Opt("--qr", "show the QR code in the terminal", negatable=True,
                                no_help="do not show the QR code", when=APP),
                            Opt("--invert", "swap the QR code's dark and light modules",
                                when=APP),
                            Opt("--qr-file", "save the QR code as SVG or PNG", "PATH", paths=True,
                                when=APP),
                            Opt("--show-key", "display the secret key", negatable=True,
                                no_help="do not display the key", when=APP),
                            Opt("--save-codes", "save the recovery codes to FILE", "FILE",
                                paths=True),
                            Opt("--no-save-codes", "do not offer to save the recovery codes"),
                            Opt("--yes", "replace an existing --save-codes or --qr-file file"),
                            Opt("--no-verify", "stop before the code; finish with 'mfa verify'")),
                      long_help=MK_HELP))
    table.add(Command(("mfa", "verify"), "check a code; finishes a pending enrolment", verify,
                      args=(Arg("code", "the 6-digit code (spaces are ignored)", required=False,
                                secret=True, rest=True),)))
    table.add(Command(("mfa", "token"), "have a code sent by email or SMS", token))
    table.add(Command(("mfa", "rm"), "disable MFA (confirmed with a token sent by email)", rm,
                      opts=(Opt("--token", "the confirmation token from the email", "TOKEN",
                                secret=True),
                            Opt("--yes", "do not ask for confirmation")),
                      long_help=("Asks the server to disable MFA; it emails a confirmation token,\n"
                                 "which the shell then asks for. '--token TOKEN' gives it.")))
    table.add(Command(("mfa", "status"), "show whether MFA is on, its method and dates", status))
