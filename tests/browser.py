"""Debian's chromium, headless, as the tests drive it: a page's DOM after its scripts ran, a
screenshot, and the PNG decoded to check what was painted.

The browser resolves no name but loopback's (``OFFLINE``): a page that reached for anything
outside this machine (a CDN, web fonts) fails as it would offline, and the browser's own
background calls to its vendor go nowhere.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NO_CHROMIUM = "no chromium binary (Debian: apt-get install chromium; `make test` installs it when run as root)"
OFFLINE = "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1, EXCLUDE localhost"
"""Every host name but loopback's unresolvable."""


def png_rgb(path: Path) -> np.ndarray:
    """Decode an 8-bit RGB/RGBA, non-interlaced PNG (what chromium writes) into an (h, w, 3) array."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", data[pos + 8 : pos + 8 + length])
        elif kind == b"IDAT":
            chunks.append(data[pos + 8 : pos + 8 + length])
        pos += 12 + length
    width, height, depth, colour_type, _, _, interlace = header
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, header
    bpp = 3 if colour_type == 2 else 4
    raw = np.frombuffer(zlib.decompress(b"".join(chunks)), dtype=np.uint8).reshape(height, 1 + width * bpp)
    out = np.zeros((height, width * bpp), dtype=np.uint8)
    prior = np.zeros(width * bpp, dtype=np.int64)
    for r in range(height):
        kind, line = int(raw[r, 0]), raw[r, 1:].astype(np.int64)
        if kind == 0:
            row = line
        elif kind == 1:
            row = np.cumsum(line.reshape(-1, bpp), axis=0).reshape(-1) & 255
        elif kind == 2:
            row = (line + prior) & 255
        else:  # average and Paeth depend on the left neighbour: byte by byte
            cur, up = line.tolist(), prior.tolist()
            for i in range(len(cur)):
                a = cur[i - bpp] if i >= bpp else 0
                if kind == 3:
                    cur[i] = (cur[i] + ((a + up[i]) >> 1)) & 255
                    continue
                b, c = up[i], (up[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                cur[i] = (cur[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            row = np.array(cur, dtype=np.int64)
        out[r] = row
        prior = row
    return out.reshape(height, width, bpp)[:, :, :3]


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",  # no update checks, no sign-in, no field trials
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        f"--host-resolver-rules={OFFLINE}",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        preexec_fn=(lambda: os.nice(10)) if hasattr(os, "nice") else None,
    )
