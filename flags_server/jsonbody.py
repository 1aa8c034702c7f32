"""JSON request bodies, parsed with a nesting limit.

``json.loads`` recurses once per level of ``[`` or ``{``: 60,000 of them exhaust the
interpreter's stack and raise RecursionError, which an aiohttp handler turns into a 500. A
configuration is a flat object, so the depth is checked first, by a scan that never recurses,
and anything the scan or the parser refuses is a ``ValueError`` the admin API answers with 400.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32
_OPEN = frozenset(b"[{")
_CLOSE = frozenset(b"]}")
_QUOTE = ord('"')
_BACKSLASH = ord("\\")


def nesting_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in ``raw``, brackets inside strings ignored."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == _BACKSLASH:
                escaped = True
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif byte in _CLOSE:
            depth -= 1
    return deepest


def loads(raw: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value in ``raw``; ValueError (with what is wrong) for anything malformed."""
    depth = nesting_depth(raw)
    if depth > max_depth:
        raise ValueError(f"nested {depth} levels deep; at most {max_depth} are allowed")
    try:
        return json.loads(raw)
    except RecursionError:  # cannot happen below MAX_DEPTH; kept as a last guard
        raise ValueError("nested too deeply") from None
