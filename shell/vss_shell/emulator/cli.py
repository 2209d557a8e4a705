"""vss-emulator (placeholder)."""


def main() -> int:
    return 0
