"""vss-shell: an interactive shell for the ITS Private Cloud (VSS) REST API."""

__version__ = "0.1.0"
