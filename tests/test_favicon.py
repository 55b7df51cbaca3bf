"""/favicon.ico: a real ICO of the site's icon, served at the root."""
from __future__ import annotations

import struct
import urllib.request


def test_favicon_ico(live):
    with urllib.request.urlopen(live.url + "/favicon.ico", timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "image/vnd.microsoft.icon"
        body = r.read()
    reserved, kind, count = struct.unpack("<HHH", body[:6])
    assert (reserved, kind) == (0, 1) and count == 2
    sizes = []
    for i in range(count):
        w, h, _, _, planes, bpp, length, offset = struct.unpack("<BBBBHHII", body[6 + 16 * i:22 + 16 * i])
        assert body[offset:offset + 8] == b"\x89PNG\r\n\x1a\n" and offset + length <= len(body)
        assert struct.unpack(">II", body[offset + 16:offset + 24]) == (w, h)
        sizes.append(w)
    assert sorted(sizes) == [16, 32]
