"""Saving a flag the way the book's ``save_flag`` does, but atomically.

A reader (or a crash) never sees a half-written image: the bytes go to a temporary file in
the same directory, which is then renamed over the final name (``os.replace`` is atomic on
POSIX and Windows when both names are on one file system). ``delay_s`` emulates a slow disk:
the write blocks the calling thread that long (``time.sleep``), so inline on an event loop
it stalls the loop, while in an executor's thread it does not.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time

_UNSAFE = re.compile(r"[^\w\-.,'()]+")


def flag_filename(cc: str, country: str | None = None) -> str:
    """``{cc}.gif``, or the country's name with spaces as underscores (as the book's flags3).

    Anything that could escape the directory or confuse a file system becomes ``_``.
    """
    if country:
        stem = _UNSAFE.sub("_", country.strip()).strip("._")
        if stem:
            return f"{stem}.gif"
    return f"{cc}.gif"


def save_flag(img: bytes, directory: str, filename: str, delay_s: float = 0.0) -> str:
    """Write ``img`` to ``directory/filename`` atomically and return the path."""
    if delay_s > 0:
        time.sleep(delay_s)
    path = os.path.join(directory, filename)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{filename}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(img)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path
