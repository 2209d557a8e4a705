"""``python -m vss_shell`` runs the ``vss`` executable."""

from vss_shell.cli import main

raise SystemExit(main())
