"""A local emulator of the VSS REST API's MFA subset (see ``api-contract.md``).

It shares no code with the client (``vss_shell.api``) beyond ``vss_shell.constants``.
"""

from .accounts import AccountsError
from .instance import Emulator

__all__ = ["AccountsError", "Emulator"]
