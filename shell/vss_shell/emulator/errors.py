"""API errors: a status, a message, optional headers, rendered as the contract's JSON body."""

from __future__ import annotations

from vss_shell.constants import ERROR_KINDS


def error_kind(status: int) -> str:
    """The ``error`` field for ``status`` (``Error`` for a status the contract does not name)."""
    return ERROR_KINDS.get(status, "Error")


def error_body(status: int, message: str) -> dict[str, str]:
    """The JSON body of an error response."""
    return {"error": error_kind(status), "message": message}


class ApiError(Exception):
    """Raised by the emulator's rules; the server answers ``status`` with :func:`error_body`."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

    @property
    def body(self) -> dict[str, str]:
        """The JSON body of this error."""
        return error_body(self.status, self.message)
