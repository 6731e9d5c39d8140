"""Check that a file is a real PNG screenshot: signature, size within bounds, and not one flat colour.

Decodes the image with the standard library only (zlib + PNG row filters), so the check does not
trust the Qt that wrote it. Usage: python check_png.py FILE.png [--min-size PX]. Exit 1 with one
line on failure; prints `WIDTHxHEIGHT, N colours` on success.
"""

from __future__ import annotations

import argparse
import struct
import sys
import zlib
from pathlib import Path

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel


def paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_rows(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered pixel rows of an 8-bit, non-interlaced PNG."""
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG (bad signature)")
    pos, idat, header = 8, bytearray(), None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None:
        raise ValueError("no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or interlace != 0 or colour not in CHANNELS:
        raise ValueError(f"unexpected PNG format (depth {depth}, colour type {colour}, interlace {interlace})")
    bpp = CHANNELS[colour]
    raw = zlib.decompress(bytes(idat))
    stride = width * bpp
    if len(raw) != height * (stride + 1):
        raise ValueError("image data is truncated")
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            upleft = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                line[i] = (line[i] + paeth(left, up, upleft)) & 0xFF
            elif kind != 0:
                raise ValueError(f"bad filter type {kind} in row {y}")
        rows.append(bytes(line))
        previous = line
    return width, height, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("png", type=Path)
    parser.add_argument("--min-size", type=int, default=320, help="smallest width and height accepted (px)")
    args = parser.parse_args()
    try:
        width, height, rows = decode_rows(args.png.read_bytes())
    except (OSError, ValueError, zlib.error, struct.error) as exc:
        print(f"check_png: {args.png}: {exc}", file=sys.stderr)
        return 1
    if not (args.min_size <= width <= 10000 and args.min_size <= height <= 10000):
        print(f"check_png: {args.png}: implausible size {width}x{height}", file=sys.stderr)
        return 1
    bpp = len(rows[0]) // width
    colours = {row[i : i + bpp] for row in rows[::4] for i in range(0, len(row), 4 * bpp)}
    if len(colours) < 8:
        print(f"check_png: {args.png}: {len(colours)} colours: a flat or blank image, not a rendered window", file=sys.stderr)
        return 1
    print(f"{width}x{height}, {len(colours)} colours")
    return 0


if __name__ == "__main__":
    sys.exit(main())
