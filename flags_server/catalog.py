"""The countries the flag site knows: the 194 codes of the book's flag set.

The data file ships with the package so the server never needs the book's
archive; metadata keeps the book's JSON layout so its scripts parse it as is.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class Country:
    """One catalog entry; `gec_cc` is the CIA World Factbook code the book keeps."""

    iso_cc: str
    tld_cc: str
    gec_cc: str
    name: str

    def metadata(self) -> dict[str, str]:
        """The book's metadata.json document, keys in the book's order."""
        return {
            "tld_cc": self.tld_cc,
            "iso_cc": self.iso_cc,
            "country": self.name,
            "gec_cc": self.gec_cc,
        }

    def metadata_json(self) -> bytes:
        return json.dumps(self.metadata()).encode()


@lru_cache(maxsize=1)
def countries() -> dict[str, Country]:
    """All countries keyed by upper-case ISO code, in code order."""
    text = resources.files("flags_server").joinpath("data/countries.csv").read_text("utf-8")
    rows = csv.DictReader(io.StringIO(text))
    entries = [Country(r["iso_cc"], r["tld_cc"], r["gec_cc"], r["country"]) for r in rows]
    return {c.iso_cc: c for c in sorted(entries, key=lambda c: c.iso_cc)}


def codes() -> tuple[str, ...]:
    """The 194 upper-case codes, sorted, as in the book's country_codes.txt."""
    return tuple(countries())
