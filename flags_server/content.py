"""The bodies the site serves, built once per configuration.

Everything a request needs is prepared here (images, metadata JSON) so the
request path does no encoding or file access: the server must never be the
bottleneck, and nothing is ever read from disk by request path.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import catalog, images
from .config import ServerConfig


@dataclass(frozen=True)
class Content:
    """Bodies keyed by lower-case code; a code missing here is answered 404."""

    images: dict[str, bytes]
    metadata: dict[str, bytes]
    source: str

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(sorted(self.images))


def build_content(config: ServerConfig) -> Content:
    """Synthetic images (or the real set from `flags_zip`) plus catalog metadata."""
    countries = catalog.countries()
    metadata = {cc.lower(): c.metadata_json() for cc, c in countries.items()}
    if config.flags_zip:
        zipped, zipped_meta = images.zip_images(config.flags_zip, countries)
        bodies = {cc.lower(): body for cc, body in zipped.items()}
        metadata.update({cc.lower(): body for cc, body in zipped_meta.items()})
        metadata = {cc: body for cc, body in metadata.items() if cc in bodies}
        return Content(bodies, metadata, f"zip:{config.flags_zip}")
    bodies = images.synthetic_images(countries, config.payload_size)
    source = f"synthetic:{config.payload_size}" if config.payload_size else "synthetic"
    return Content({cc.lower(): body for cc, body in bodies.items()}, metadata, source)
