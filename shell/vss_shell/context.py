"""What a command handler gets: the UI, the session, the profiles, settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vss_shell.commands.table import Table
    from vss_shell.emulator import Emulator
    from vss_shell.profiles import ProfileStore, Settings
    from vss_shell.session import Session
    from vss_shell.ui import UI

#: Settings whose change makes the session's token and password meaningless.
LOGIN_KEYS = ("endpoint", "username", "verify_tls", "ca_bundle", "token_cache", "blocked")


class Context:
    """The running shell, as commands see it.

    The output format is, by precedence: a command's ``-o``, then the latest of
    ``set output`` (this session) and the profile's value (as resolved: ``vss -o``
    stands over the profile); a profile switch or an edit of the active profile's
    ``output`` makes the profile's value the latest.
    """

    def __init__(self, table: Table, ui: UI, session: Session, store: ProfileStore,
                 output: str | None = None, demo: Emulator | None = None,
                 autosuggest: bool = True, pretty_json: bool = True,
                 session_factory: Any = None) -> None:
        self.table = table
        self.ui = ui
        self.session = session
        self.store = store
        self.demo = demo
        self.autosuggest = autosuggest
        self.pretty_json = pretty_json
        #: Builds a session for a profile by name (``profile use``, profile edits).
        self.session_factory = session_factory
        self._output = output  # ``set output``; None: the profile's value
        self._printed = False  # a result was printed (piped tables get a blank line between)

    @property
    def settings(self) -> Settings:
        return self.session.settings

    @property
    def output(self) -> str:
        """The output format in force (before a command's own ``-o``)."""
        return self._output or self.session.settings.output

    @output.setter
    def output(self, value: str) -> None:
        self._output = value

    def emit(self, data: Any, fmt: str | None = None) -> None:
        """Print a command's result in the chosen format (JSON: always a document).

        In a pipe a table is set apart from the result before it by a blank line;
        JSON Lines stay one document a line.
        """
        from vss_shell import output  # json: not on the way to the first prompt

        fmt = fmt or self.output
        if data is None:
            if fmt != "json" or self.pretty_json:
                return
            data = {"ok": True}
        text = output.render(data, fmt, pretty=self.pretty_json, color=self.ui.color)
        if text:
            if fmt != "json" and not self.pretty_json and self._printed:
                self.ui.out("")
            self.ui.out(text)
            self._printed = True

    def wants_json(self, fmt: str | None) -> bool:
        return (fmt or self.output) == "json"

    def use_profile(self, name: str) -> None:
        """Switch to profile ``name``: the old session is logged out; the new
        profile's output format applies, if it has one (else ``set output`` stays)."""
        new = self.session_factory(name)
        self.session.forget()
        self.session.close()
        self.session = new
        if new.settings.sources.get("output", "default") != "default":
            self._output = None  # the new profile (or vss -o) says how to print

    def refresh_profile(self, key: str) -> bool:
        """The active profile's ``key`` was edited: its new values apply at once.

        Returns True when that logged the person out (the connection or the
        account changed: :data:`LOGIN_KEYS`); a new timeout only closes the
        connections (the next request uses it), output and MFA method keep all.
        """
        new = self.session_factory(self.settings.name)
        old = self.session.settings
        keys = LOGIN_KEYS
        if self.session.has_user_override:  # `login USER` stands over the profile's user
            keys = tuple(k for k in keys if k != "username")
        if key == "output":
            self._output = None
        if any(getattr(old, k) != getattr(new.settings, k) for k in keys):
            self.session.forget()
            self.session.close()
            self.session = new
            return True
        timeout_changed = old.timeout != new.settings.timeout
        new.close()
        self.session.adopt_settings(new.settings)
        if timeout_changed:
            self.session.close()  # the next request builds a client with the new timeout
        return False
