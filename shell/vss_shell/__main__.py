"""``python -m vss_shell`` runs the ``vss`` executable."""

from vss_shell.startup import main

raise SystemExit(main())
