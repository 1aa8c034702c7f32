"""What flagbench asks of an interpreter, read from its own installed metadata.

``pyproject.toml`` says it once: ``requires-python``, and the ``worker`` extra (the third-party
packages a trial's worker process imports; the project itself reaches the worker through
``PYTHONPATH``). The venv made for each interpreter of the ``python`` axis installs exactly that
extra, so it cannot drift from a second, hand-kept list.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from bench._exceptions import HarnessError

#: The source tree: the worker's PYTHONPATH, and what to install when metadata is missing.
PROJECT_ROOT = Path(__file__).resolve().parents[2]

DIST = "flagbench"
WORKER_EXTRA = "worker"


def _metadata() -> metadata.PackageMetadata:
    try:
        return metadata.metadata(DIST)
    except metadata.PackageNotFoundError:
        raise HarnessError(
            f"flagbench's metadata is missing (it says what a worker needs): "
            f"install it with: pip install -e {PROJECT_ROOT}"
        ) from None


def requires_python() -> SpecifierSet:
    found = _metadata().get_all("Requires-Python")  # the first, as Message.get gives
    return SpecifierSet(found[0] if found else "")


def supports(version: str) -> bool:
    """Whether flagbench supports this Python version ("3.12.1", or "3.12" for the series)."""
    return requires_python().contains(Version(version), prereleases=True)


def needed_python() -> str:
    """``requires-python`` in words: "3.10 or newer" for the usual ``>=3.10``."""
    spec = requires_python()
    only = list(spec)
    if len(only) == 1 and only[0].operator == ">=":
        return f"{only[0].version} or newer"
    return f"a version matching {spec}"


def worker_requirements(environment: Mapping[str, str]) -> list[str]:
    """The ``worker`` extra's requirements that apply to the interpreter whose PEP 508
    environment this is (markers evaluated there, then dropped), sorted: for pip and the
    venv's cache key."""
    out = []
    for line in metadata.requires(DIST) or []:
        req = Requirement(line)
        if req.marker is None:
            continue
        env = dict(environment)
        if req.marker.evaluate({**env, "extra": WORKER_EXTRA}) and not req.marker.evaluate(
            {**env, "extra": ""}
        ):
            out.append(_plain(req))
    if not out:
        raise HarnessError(
            f"flagbench's installed metadata names no {WORKER_EXTRA!r} packages "
            f"(installed from an older checkout?): reinstall it with: "
            f"pip install -e {PROJECT_ROOT}"
        )
    return sorted(out)


def _plain(req: Requirement) -> str:
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    if req.url:
        return f"{req.name}{extras} @ {req.url}"
    return f"{req.name}{extras}{req.specifier}"
