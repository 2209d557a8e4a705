"""``python -m vss_shell.emulator`` runs ``vss-emulator``."""

from vss_shell.emulator.cli import main

raise SystemExit(main())
