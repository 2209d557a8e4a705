"""Rendering results (tables, JSON) and QR codes (terminal, SVG, PNG)."""

from __future__ import annotations

import json
import math
import re
import struct
import xml.etree.ElementTree as ET
import zlib

import pytest

from vss_shell import output, qr

# --- output.table ------------------------------------------------------------------------


def test_mapping_aligned_with_words_for_values() -> None:
    text = output.table({"enabled": True, "method": None, "enabled_on": "2024-01-02",
                         "x": False})
    assert text.splitlines() == [
        "enabled     yes",
        "method      -",
        "enabled_on  2024-01-02",
        "x           no",
    ]


def test_mapping_values_start_in_one_column() -> None:
    data = {"a": 1, "longer_key": "v", "mid": [1, 2]}
    lines = output.table(data).splitlines()
    starts = {line.index(str(_cell)) for line, _cell in zip(lines, ["1", "v", "1, 2"],
                                                             strict=True)}
    assert starts == {len("longer_key") + 2}


def test_lists_and_empties() -> None:
    assert output.table({"codes": ["a", "b"], "none": [], "n": 0}).splitlines() == [
        "codes  a, b", "none   -", "n      0"]
    assert output.table({}) == ""
    assert output.table([]) == ""


def test_list_of_mappings_is_columns() -> None:
    rows = [{"name": "cloud-api", "default": True, "user": None},
            {"name": "lab", "default": False, "user": "jdoe"}]
    lines = output.table(rows).splitlines()
    assert lines[0].split() == ["NAME", "DEFAULT", "USER"]
    assert lines[1].split() == ["cloud-api", "yes", "-"]
    assert lines[2].split() == ["lab", "no", "jdoe"]
    # columns line up: each header starts where its cells start
    for header in ("DEFAULT", "USER"):
        column = lines[0].index(header)
        assert lines[1][column - 2 : column] == "  "
        assert lines[1][column] != " "
        assert lines[2][column] != " "
    assert all(line == line.rstrip() for line in lines)


def test_columns_union_of_keys() -> None:
    lines = output.table([{"a": 1}, {"b": 2}]).splitlines()
    assert lines[0].split() == ["A", "B"]
    assert lines[1].split() == ["1", "-"]
    assert lines[2].split() == ["-", "2"]


def test_scalars_and_plain_lists() -> None:
    assert output.table("text") == "text"
    assert output.table(None) == "-"
    assert output.table(True) == "yes"
    assert output.table(["x", None, False]) == "x\n-\nno"


def test_to_json_pretty_and_compact() -> None:
    data = {"enabled": True, "method": None, "codes": ["a", "é"]}
    pretty = output.to_json(data, pretty=True)
    compact = output.to_json(data, pretty=False)
    assert json.loads(pretty) == data
    assert json.loads(compact) == data
    assert "\n" in pretty
    assert pretty.splitlines()[1].startswith("  ")
    assert "\n" not in compact
    assert " " not in compact
    assert "é" in compact  # not escaped


def test_to_json_colour() -> None:
    text = output.to_json({"a": 1}, pretty=True, color=True)
    assert "\x1b[" in text
    assert json.loads(re.sub(r"\x1b\[[0-9;]*m", "", text)) == {"a": 1}
    assert not text.endswith("\n")
    # compact output is never coloured
    assert output.to_json({"a": 1}, pretty=False, color=True) == '{"a":1}'


def test_render_chooses_the_format() -> None:
    data = {"enabled": False}
    assert output.render(data, "table") == "enabled  no"
    assert json.loads(output.render(data, "json")) == data
    assert output.render(data, "json", pretty=False) == '{"enabled":false}'


# --- qr --------------------------------------------------------------------------------

URI = "otpauth://totp/ITS%20Private%20Cloud:demo?secret=JBSWY3DPEHPK3PXP&issuer=ITS%20Private%20Cloud"
SGR = re.compile(r"\x1b\[([0-9;]*)m")


@pytest.fixture(scope="module")
def modules() -> list[list[bool]]:
    return qr.matrix(URI)


def test_matrix_is_square_with_a_quiet_zone(modules: list[list[bool]]) -> None:
    size = len(modules)
    assert all(len(row) == size for row in modules)
    assert (size - 2 * qr.QUIET_ZONE - 17) % 4 == 0  # 21, 25, ... modules plus the zone
    for i in range(qr.QUIET_ZONE):
        assert not any(modules[i]) and not any(modules[-1 - i])
        assert not any(row[i] or row[-1 - i] for row in modules)
    assert any(any(row) for row in modules)


def _decode_plain(text: str, *, invert: bool, size: int) -> list[list[bool]]:
    """The module matrix (True = dark) back from the no-colour rendering."""
    halves = {"█": (True, True), "▀": (True, False), "▄": (False, True), " ": (False, False)}
    rows: list[list[bool]] = []
    for line in text.split("\n"):
        drawn = [halves[ch] for ch in line]
        # blocks are light modules (dark with invert)
        rows.append([top != (not invert) for top, _ in drawn])
        rows.append([bottom != (not invert) for _, bottom in drawn])
    return rows[:size]


@pytest.mark.parametrize("invert", [False, True])
def test_terminal_plain_decodes_to_the_matrix(modules: list[list[bool]], invert: bool) -> None:
    text = qr.terminal(URI, invert=invert, color=False)
    lines = text.split("\n")
    assert set(text) <= set("▀▄█ \n")
    assert len(lines) == math.ceil(len(modules) / 2)
    assert {len(line) for line in lines} == {len(modules)}
    assert _decode_plain(text, invert=invert, size=len(modules)) == modules


def test_terminal_plain_invert_flips_every_glyph() -> None:
    flip = {"█": " ", " ": "█", "▀": "▄", "▄": "▀", "\n": "\n"}
    plain = qr.terminal(URI, color=False)
    inverted = qr.terminal(URI, invert=True, color=False)
    assert inverted == "".join(flip[ch] for ch in plain)
    # the quiet zone is light: blocks normally, blank with invert
    assert plain.split("\n")[0] == "█" * len(plain.split("\n")[0])
    assert inverted.split("\n")[0].strip() == ""


def test_terminal_colour(modules: list[list[bool]]) -> None:
    text = qr.terminal(URI, color=True)
    lines = text.split("\n")
    assert len(lines) == math.ceil(len(modules) / 2)
    pairs = set()
    for line in lines:
        assert line.endswith("\x1b[0m")
        cells = re.findall(r"\x1b\[(\d+);(\d+)m▀", line)
        assert len(cells) == len(modules)
        pairs.update(cells)
        assert SGR.sub("", line) == "▀" * len(modules)
    assert {fg for fg, _ in pairs} == {"30", "97"}
    assert {bg for _, bg in pairs} == {"40", "107"}
    # decode: foreground is the upper module, background the lower one (30/40 = dark)
    decoded: list[list[bool]] = []
    for line in lines:
        cells = re.findall(r"\x1b\[(\d+);(\d+)m▀", line)
        decoded.append([fg == "30" for fg, _ in cells])
        decoded.append([bg == "40" for _, bg in cells])
    assert decoded[: len(modules)] == modules


def test_terminal_colour_invert_swaps_colours() -> None:
    swap = {"30": "97", "97": "30", "40": "107", "107": "40"}
    normal = qr.terminal(URI, color=True)
    inverted = qr.terminal(URI, invert=True, color=True)
    remapped = re.sub(r"\x1b\[(\d+);(\d+)m",
                      lambda m: f"\x1b[{swap[m[1]]};{swap[m[2]]}m", normal)
    assert inverted == remapped


def test_svg_is_valid_xml_with_a_rect_per_dark_module(modules: list[list[bool]]) -> None:
    data = qr.svg(URI)
    root = ET.fromstring(data)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    size = len(modules) * 8
    assert root.get("width") == root.get("height") == str(size)
    assert root.get("viewBox") == f"0 0 {size} {size}"
    rects = list(root.iter(f"{ns}rect"))
    dark = [(int(r.get("x")), int(r.get("y"))) for r in rects if r.get("x") is not None]
    assert len(rects) == 1 + len(dark)  # the white background and one per dark module
    expected = {(x * 8, y * 8) for y, row in enumerate(modules) for x, d in enumerate(row) if d}
    assert set(dark) == expected


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    found, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        found.append((kind, body))
        at += 12 + length
    return found


def test_png(modules: list[list[bool]]) -> None:
    data = qr.png(URI)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks = _chunks(data)
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour, _, _, _ = struct.unpack(">IIBBBBB", chunks[0][1])
    size = len(modules) * 8
    assert (width, height, depth, colour) == (size, size, 8, 0)
    raw = zlib.decompress(chunks[1][1])
    assert len(raw) == size * (size + 1)
    # each scanline: filter byte 0, then one grey byte a pixel (0 dark, 255 light)
    for y in range(0, size, 8):
        line = raw[y * (size + 1) : (y + 1) * (size + 1)]
        assert line[0] == 0
        pixels = line[1::8]
        assert [p == 0 for p in pixels] == modules[y // 8]


def test_png_scale() -> None:
    data = qr.png("x", scale=2)
    (width,) = struct.unpack(">I", data[16:20])
    assert width == len(qr.matrix("x")) * 2


@pytest.mark.parametrize(("name", "start"), [("code.svg", b"<svg"), ("CODE.SVG", b"<svg"),
                                             ("code.png", b"\x89PNG"), ("a.b.PNG", b"\x89PNG")])
def test_file_bytes_by_extension(name: str, start: bytes) -> None:
    assert qr.file_bytes(URI, name).startswith(start)


@pytest.mark.parametrize("name", ["code.txt", "code", "code.svg.bak", "png"])
def test_file_bytes_rejects_other_extensions(name: str) -> None:
    with pytest.raises(ValueError, match=r"\.svg or \.png"):
        qr.file_bytes(URI, name)


# --- hostile values: control characters never reach the terminal raw ----------------------

#: What a hostile server or file may put in any field: clipboard write, window title,
#: clear screen, a C1 CSI, DEL, a bidi override, a carriage return.
HOSTILE = ["\x1b]52;c;aGk=\x07", "\x1b]0;pwned\x07", "\x1b[2J", "\x9b31m", "x\x7fy",
           "\u202egnp.exe", "ok\rEVIL"]
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize("bad", HOSTILE)
def test_table_shows_controls_escaped_on_one_line(bad: str) -> None:
    data = {"message": bad, f"k{bad}": [bad, "next\nline"], "n": 1}
    for text in (output.table(data), output.table([data, {"message": "plain"}]),
                 output.render(data, "table")):
        assert not RAW.search(text), repr(text)
        assert "\\x" in text or "\\u" in text
    lines = output.table(data).splitlines()
    assert len(lines) == 3  # a newline in a cell is shown, not obeyed
    assert lines[1].endswith("next\\x0aline")


def test_table_shows_the_escapes_as_text() -> None:
    assert output.table({"m": "\x1b]0;t\x07"}) == "m  \\x1b]0;t\\x07"
    assert output.table({"m": "\u202eabc"}) == "m  \\u202eabc"
    assert output.table("two\nlines\x1b[2J") == "two\nlines\\x1b[2J"  # a text keeps lines


@pytest.mark.parametrize("bad", HOSTILE)
@pytest.mark.parametrize("pretty", [True, False])
def test_json_escapes_every_control(bad: str, pretty: bool) -> None:
    data = {"message": bad, bad: [bad]}
    text = output.to_json(data, pretty=pretty)
    assert not RAW.search(text), repr(text)
    assert json.loads(text) == data  # the same document, only escaped


def test_json_colour_escapes_the_values_before_colouring() -> None:
    text = output.to_json({"message": "\x1b]52;c;aGk=\x07\x9b2J"}, pretty=True, color=True)
    assert "\x1b[" in text  # pygments' colours are ours
    assert "]52;" in text and "\x1b]52" not in text and "\x07" not in text and "\x9b" not in text
    assert isinstance(text, output.Styled)


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("pretty", [True, False])
def test_json_refuses_nan_and_infinity_with_one_line(number: float, pretty: bool) -> None:
    from vss_shell.errors import ShellError

    with pytest.raises(ShellError) as caught:
        output.render({"ok": True, "bad": [number]}, "json", pretty=pretty)
    assert "\n" not in str(caught.value) and "NaN" in str(caught.value)


def test_plain_output_is_not_styled() -> None:
    """Only text built by the shell with its own escapes skips sanitizing."""
    assert not isinstance(output.render({"a": 1}, "table"), output.Styled)
    assert not isinstance(output.render({"a": 1}, "json", color=False), output.Styled)


@pytest.mark.parametrize("color", [True, False])
def test_terminal_qr_is_styled_and_hides_its_data(color: bool) -> None:
    """The QR code is printed as it is (its colours are ours); the URI it encodes,
    hostile or not, is drawn as modules, never printed."""
    text = qr.terminal("otpauth://totp/x?secret=\x1b]0;t\x07", color=color)
    assert isinstance(text, output.Styled)
    assert "]0;" not in text and "\x07" not in text
