"""Which flags a workload fetches, in the book's vocabulary (POP20, --all, --every, prefixes)."""

from __future__ import annotations

import string
from itertools import product

from flags_server.catalog import codes

# The 20 most populous countries, in the book's order (its POP20_CC).
POP20 = [
    "CN",
    "IN",
    "US",
    "ID",
    "BR",
    "PK",
    "NG",
    "BD",
    "RU",
    "JP",
    "MX",
    "PH",
    "VN",
    "ET",
    "EG",
    "DE",
    "IR",
    "TR",
    "CD",
    "FR",
]


def every_code() -> list[str]:
    """AA..ZZ: the book's ``--every``; most of the 676 are not countries and answer 404."""
    return ["".join(pair) for pair in product(string.ascii_uppercase, repeat=2)]


def country_codes() -> list[str]:

    return list(codes())


def resolve_codes(spec: str) -> list[str]:
    """``pop20``, ``all``, ``every``, or codes and one-letter prefixes such as ``"BR CN U"``.

    A prefix expands, like the book's scripts, to every country code starting with it.
    """
    key = spec.strip().lower()
    if key == "pop20":
        return list(POP20)
    if key == "all":
        return country_codes()
    if key == "every":
        return every_code()
    tokens = spec.replace(",", " ").upper().split()
    if not tokens:
        raise ValueError("no codes given; use pop20, all, every, or codes such as 'BR CN U'")
    known = country_codes()
    out: list[str] = []
    for token in tokens:
        if len(token) == 2 and token.isalpha():
            out.append(token)
        elif len(token) == 1 and token.isalpha():
            out.extend(cc for cc in known if cc.startswith(token))
        else:
            raise ValueError(
                f"{token!r} is not a country code; use two letters (BR) or one-letter prefixes (B)"
            )
    return out
