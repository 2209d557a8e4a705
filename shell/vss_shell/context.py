"""What a command handler gets: the UI, the session, the profiles, settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vss_shell import output

if TYPE_CHECKING:
    from vss_shell.commands.table import Table
    from vss_shell.emulator import Emulator
    from vss_shell.profiles import ProfileStore, Settings
    from vss_shell.session import Session
    from vss_shell.ui import UI


@dataclass
class Context:
    """The running shell, as commands see it."""

    table: Table
    ui: UI
    session: Session
    store: ProfileStore
    output: str = "table"
    demo: Emulator | None = None
    autosuggest: bool = True
    pretty_json: bool = True
    #: Builds a session for another profile (``profile use``).
    session_factory: Any = None

    @property
    def settings(self) -> Settings:
        return self.session.settings

    def emit(self, data: Any, fmt: str | None = None) -> None:
        """Print a command's result in the chosen format (JSON: always a document)."""
        if data is None:
            if (fmt or self.output) != "json" or self.pretty_json:
                return
            data = {"ok": True}
        text = output.render(data, fmt or self.output, pretty=self.pretty_json,
                             color=self.ui.color)
        if text:
            self.ui.out(text)

    def wants_json(self, fmt: str | None) -> bool:
        return (fmt or self.output) == "json"

    def use_profile(self, name: str, *, refresh: bool = False) -> None:
        """Switch to profile ``name``: the old session is logged out.

        With ``refresh`` (the active profile was edited), the session is kept
        when only keys that do not concern the connection changed.
        """
        new = self.session_factory(name)
        old = self.session.settings
        same = ("name", "endpoint", "username", "timeout", "verify_tls", "ca_bundle",
                "token_cache")
        if self.session.has_user_override:  # `login USER` stands over the profile's user
            same = tuple(k for k in same if k != "username")
        if refresh and all(getattr(old, k) == getattr(new.settings, k) for k in same):
            self.session.adopt_settings(new.settings)
            return
        self.session.forget()
        self.session.close()
        self.session = new
