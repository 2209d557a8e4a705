"""QR codes for authenticator enrolment: in the terminal, or as SVG/PNG files.

On a colour terminal the code is drawn with explicit colours (dark modules on
a light quiet zone), so phones scan it whatever the terminal's theme. Without
colour, light modules are drawn as blocks, which is right on a dark terminal.
``invert`` swaps dark and light in both cases (a light terminal without
colour; apps that want the other way).
"""

from __future__ import annotations

import struct
import zlib

from vss_shell.safetext import Styled

QUIET_ZONE = 4
_DARK, _LIGHT = "30", "97"  # foreground colours (SGR), black and bright white


def matrix(data: str) -> list[list[bool]]:
    """The modules of ``data``'s QR code, quiet zone included (True = dark)."""
    import qrcode

    code = qrcode.QRCode(border=QUIET_ZONE, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(data)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def terminal(data: str, *, invert: bool = False, color: bool = True) -> Styled:
    """The code as text, two modules a character cell (half blocks): our own colour
    escapes around block characters (``data`` is drawn, never printed), so the UI
    prints it as it is."""
    rows = matrix(data)
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    lines = []
    for top, bottom in zip(rows[::2], rows[1::2], strict=True):
        if color:
            cells = []
            for upper, lower in zip(top, bottom, strict=True):
                fg = _DARK if upper != invert else _LIGHT
                bg = str(int(_DARK if lower != invert else _LIGHT) + 10)
                cells.append(f"\x1b[{fg};{bg}m▀")
            lines.append("".join(cells) + "\x1b[0m")
        else:
            glyphs = {(True, True): "█", (True, False): "▀", (False, True): "▄",
                      (False, False): " "}
            lines.append("".join(glyphs[(upper == invert, lower == invert)]
                                 for upper, lower in zip(top, bottom, strict=True)))
    return Styled("\n".join(lines))


def svg(data: str, scale: int = 8) -> bytes:
    """The code as an SVG document."""
    rows = matrix(data)
    size = len(rows) * scale
    rects = "".join(
        f'<rect x="{x * scale}" y="{y * scale}" width="{scale}" height="{scale}"/>'
        for y, row in enumerate(rows) for x, dark in enumerate(row) if dark
    )
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
            f'viewBox="0 0 {size} {size}"><rect width="100%" height="100%" fill="#fff"/>'
            f'<g fill="#000">{rects}</g></svg>\n').encode()


def png(data: str, scale: int = 8) -> bytes:
    """The code as a greyscale PNG (no imaging library needed)."""
    rows = matrix(data)
    size = len(rows) * scale
    raw = bytearray()
    for row in rows:
        line = b"\x00" + b"".join((b"\x00" if dark else b"\xff") * scale for dark in row)
        raw += line * scale

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b""))


def file_bytes(data: str, path: str) -> bytes:
    """The code in the format the file name asks for (``.svg`` or ``.png``)."""
    lower = path.lower()
    if lower.endswith(".svg"):
        return svg(data)
    if lower.endswith(".png"):
        return png(data)
    raise ValueError(f"cannot tell the format of {path}: name it .svg or .png")
