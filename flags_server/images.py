"""Flag images: synthetic GIF89a files by default, or the book's real set.

Synthetic images are generated, not stored, so the package needs no image
data and every server builds byte-identical files. Each is a valid GIF89a
(a striped "flag" that image libraries open) whose byte size follows the
real set's distribution: a log-normal fitted to the book's 194 GIFs (about
1.2 to 36 KB, mean about 12 KB, median about 10 KB), assigned to codes by a
fixed hash order so that sizes differ per country but never between runs.

The pixel data is LZW-coded without compression (a clear code every seven
pixels keeps the code width at five bits and each group at five bytes), so
the pixel count sets the size; a comment block pads to the exact byte.
"""

from __future__ import annotations

import hashlib
import math
import zipfile
from collections.abc import Iterable
from functools import lru_cache
from statistics import NormalDist

from ._exceptions import ConfigError

MIN_PAYLOAD = 128
MAX_PAYLOAD = 10_000_000
MAX_ZIP_MEMBER = 10_000_000

SIZE_MIN, SIZE_MAX = 1193, 36332
SIZE_LOG_MU, SIZE_LOG_SIGMA = 9.27, 0.75

_PALETTE = (
    (0, 0, 0),
    (255, 255, 255),
    (206, 17, 38),
    (0, 56, 168),
    (0, 122, 61),
    (252, 209, 22),
    (255, 130, 0),
    (0, 155, 219),
    (117, 170, 219),
    (128, 0, 32),
    (0, 98, 51),
    (200, 16, 46),
    (241, 191, 0),
    (0, 36, 125),
    (120, 120, 120),
    (75, 0, 130),
)
_CLEAR, _EOI, _GROUP = 16, 17, 7
_HEADER_OVERHEAD = 13 + 3 * 16 + 10 + 1 + 1 + 1


def _hash_int(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def synthetic_sizes(codes: Iterable[str]) -> dict[str, int]:
    """Byte size per code: stratified quantiles of the fitted distribution.

    Stratifying (rank i gets quantile (i + 0.5) / n) makes the sizes follow
    the distribution closely even for 194 codes, with no sampling noise.
    """
    ordered = sorted(codes, key=lambda cc: _hash_int("size:" + cc.upper()))
    dist = NormalDist(SIZE_LOG_MU, SIZE_LOG_SIGMA)
    f_lo, f_hi = dist.cdf(math.log(SIZE_MIN)), dist.cdf(math.log(SIZE_MAX))
    n = len(ordered)
    sizes = {}
    for i, cc in enumerate(ordered):
        q = f_lo + (i + 0.5) / n * (f_hi - f_lo)
        sizes[cc] = round(math.exp(dist.inv_cdf(q)))
    return sizes


def _runs(cc: str, width: int, height: int) -> list[tuple[int, int]]:
    """A simple flag design chosen by the code, as (color, length) runs of pixels.

    Three stripes, across or down; runs keep generation fast (no per-pixel work).
    """
    h = _hash_int("design:" + cc.upper())
    colors = [h % 16, (h >> 4) % 16, (h >> 8) % 16]
    if colors[1] == colors[0]:
        colors[1] = (colors[0] + 5) % 16
    if colors[2] in (colors[0], colors[1]):
        colors[2] = (colors[1] + 7) % 16
    runs: list[tuple[int, int]] = []
    if (h >> 12) & 1:
        bounds = [0, width // 3, 2 * width // 3, width]
        row = [(colors[i], bounds[i + 1] - bounds[i]) for i in range(3)]
        for _ in range(height):
            runs.extend(r for r in row if r[1])
    else:
        bounds = [0, height // 3, 2 * height // 3, height]
        runs = [(colors[i], (bounds[i + 1] - bounds[i]) * width) for i in range(3)]
    return [r for r in runs if r[1]]


@lru_cache(maxsize=4096)
def _pack(codes: tuple[int, ...]) -> bytes:
    """Codes of five bits, least significant first, after a clear code.

    Cached: a flag's groups repeat (a stripe's colour, a stripe's edge), and a server packs
    about 50,000 groups for its 194 flags at every start."""
    value, shift = _CLEAR, 5
    for code in codes:
        value |= code << shift
        shift += 5
    return value.to_bytes((shift + 7) // 8, "little")


def _lzw(runs: list[tuple[int, int]]) -> bytes:
    """LZW data with a clear code before every seven pixels (see the module docstring)."""
    parts: list[bytes] = []
    pending: list[int] = []
    for color, length in runs:
        if pending:
            take = min(length, _GROUP - len(pending))
            pending.extend([color] * take)
            length -= take
            if len(pending) == _GROUP:
                parts.append(_pack(tuple(pending)))
                pending = []
        if length >= _GROUP:
            parts.append(_pack((color,) * _GROUP) * (length // _GROUP))
            length %= _GROUP
        pending.extend([color] * length)
    return b"".join(parts) + _pack((*pending, _EOI))


def _sub_blocks(data: bytes) -> bytes:
    chunks = [data[i : i + 255] for i in range(0, len(data), 255)]
    return b"".join(bytes([len(c)]) + c for c in chunks) + b"\x00"


def _comment(total: int, text: bytes) -> bytes:
    """A comment extension of exactly `total` bytes (total >= 3)."""
    if total < 3:
        raise ValueError(total)
    if total < 6:
        return b"\x21\xfe\x00" + (b"" if total == 3 else _comment(total - 3, text))
    n = total - 3
    content_len = n - math.ceil(n / 256)
    while content_len + math.ceil(content_len / 255) < n:
        content_len += 1
    if content_len + math.ceil(content_len / 255) != n:
        return b"\x21\xfe\x00" + _comment(total - 3, text)
    filler = (text * (content_len // max(1, len(text)) + 1))[:content_len]
    return b"\x21\xfe" + _sub_blocks(filler)


def _encoded_size(n_pixels: int) -> int:
    data = (n_pixels // _GROUP) * 5 + math.ceil((5 * (n_pixels % _GROUP + 2)) / 8)
    return data + math.ceil(data / 255)


def synthetic_gif(cc: str, size: int) -> bytes:
    """A valid GIF89a of exactly `size` bytes showing a striped flag for `cc`."""
    if not MIN_PAYLOAD <= size <= MAX_PAYLOAD:
        raise ConfigError(f"payload size {size} out of range: allowed {MIN_PAYLOAD}..{MAX_PAYLOAD}")
    budget = size - _HEADER_OVERHEAD - 8
    n_pixels = max(1, int(budget * 255 / 256 * _GROUP / 5) - _GROUP)
    while n_pixels > 1 and _encoded_size(n_pixels) > budget:
        n_pixels -= 1
    width = max(1, math.isqrt(int(n_pixels * 1.5)))
    height = max(1, n_pixels // width)
    image_data = _sub_blocks(_lzw(_runs(cc, width, height)))
    screen = width.to_bytes(2, "little") + height.to_bytes(2, "little") + b"\xf3\x00\x00"
    palette = b"".join(bytes(rgb) for rgb in _PALETTE)
    descriptor = b"\x2c\x00\x00\x00\x00" + screen[:4] + b"\x00"
    head = b"GIF89a" + screen + palette
    body = descriptor + b"\x04" + image_data
    pad = size - len(head) - len(body) - 1
    comment = _comment(pad, f"flagbench synthetic flag {cc.upper()} ".encode())
    gif = head + comment + body + b"\x3b"
    assert len(gif) == size, (cc, size, len(gif))
    return gif


def synthetic_images(codes: Iterable[str], payload_size: int | None = None) -> dict[str, bytes]:
    """Images keyed by upper-case code: fixed size if given, else the real-like spread.

    The spread is stratified over the codes given, so a code's size depends on
    the whole set (the server always passes the full catalog).
    """
    codes = list(codes)
    sizes = {cc: payload_size for cc in codes} if payload_size else synthetic_sizes(codes)
    return {cc: synthetic_gif(cc, sizes[cc]) for cc in codes}


def zip_images(path: str, codes: Iterable[str]) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Images and metadata documents read from the book's flags.zip.

    Members are `flags/{cc}/{cc}.gif` and `flags/{cc}/metadata.json`; codes
    missing from the archive are simply not served (404), members larger
    than MAX_ZIP_MEMBER are refused so a hostile archive cannot exhaust memory.
    """
    images: dict[str, bytes] = {}
    metadata: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            names = {info.filename: info for info in zf.infolist()}
            for cc in codes:
                low = cc.lower()
                for name, target in (
                    (f"flags/{low}/{low}.gif", images),
                    (f"flags/{low}/metadata.json", metadata),
                ):
                    info = names.get(name)
                    if info is None:
                        continue
                    if info.file_size > MAX_ZIP_MEMBER:
                        raise ConfigError(
                            f"flags_zip {path!r}: member {name} is larger than "
                            f"{MAX_ZIP_MEMBER} bytes"
                        )
                    target[cc] = zf.read(info)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ConfigError(f"flags_zip {path!r} cannot be read as a zip file: {exc}") from None
    if not images:
        raise ConfigError(
            f"flags_zip {path!r} holds no flags/{{cc}}/{{cc}}.gif members for the catalog's codes"
        )
    return images, metadata
