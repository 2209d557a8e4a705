"""The `vss` executable (placeholder)."""


def main() -> int:
    return 0
