"""Write server/web/static/favicon.ico: the drawing of favicon.svg rasterised at 16 and 32 pixels
(4x4 supersampling), each stored as a PNG inside the ICO (as every current browser reads).
Pure Python, no image library: `python scripts/make_favicon.py`."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

TEAL, WHITE, GOLD = (0x0B, 0x5D, 0x7A), (255, 255, 255), (0xF6, 0xC3, 0x43)
POINTS = [(9, 22), (16, 10), (23, 20)]  # favicon.svg's viewBox is 32 x 32


def _seg_dist(px, py, a, b):
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return ((px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2) ** 0.5


def _colour(x, y):
    """The SVG's colour at (x, y) in viewBox units, or None outside the rounded square."""
    r = 6.0
    cx, cy = min(max(x, r), 32 - r), min(max(y, r), 32 - r)
    if (x - cx) ** 2 + (y - cy) ** 2 > r * r:
        return None
    for i, (px, py) in enumerate(POINTS):
        if (x - px) ** 2 + (y - py) ** 2 <= 3.2 ** 2:
            return GOLD if i == 2 else WHITE
    if min(_seg_dist(x, y, POINTS[0], POINTS[1]), _seg_dist(x, y, POINTS[1], POINTS[2])) <= 0.9:
        return WHITE
    return TEAL


def render(size: int, ss: int = 4) -> bytes:
    rows = []
    for j in range(size):
        row = bytearray([0])  # PNG filter type 0
        for i in range(size):
            acc, n = [0, 0, 0], 0
            for sj in range(ss):
                for si in range(ss):
                    c = _colour((i + (si + 0.5) / ss) * 32 / size, (j + (sj + 0.5) / ss) * 32 / size)
                    if c:
                        n += 1
                        acc = [a + b for a, b in zip(acc, c)]
            rgb = [round(a / n) for a in acc] if n else [0, 0, 0]
            row += bytes(rgb + [round(255 * n / (ss * ss))])
        rows.append(bytes(row))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


def ico(images: dict[int, bytes]) -> bytes:
    head = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries, data = b"", b""
    for size, png in images.items():
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(png), offset + len(data))
        data += png
    return head + entries + data


if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "server" / "web" / "static" / "favicon.ico"
    out.write_bytes(ico({16: render(16), 32: render(32)}))
    print(out, out.stat().st_size, "bytes")
