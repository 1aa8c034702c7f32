"""Find the interpreter a trial asks for: a version such as ``3.12`` (``3.13t`` for a
free-threaded build) or a path; and every interpreter this machine has, for ``python = "all"``.

Interpreters are looked for under pyenv's versions and the builds of ``flagbench python
install`` first (the newest patch release of either), then on ``PATH`` as ``python3.X`` (a
system package, uv's ``python3.13t``): pyenv's shims refuse versions that are not "global",
and a pyenv tree is where a user who compares interpreters keeps them.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bench._exceptions import SpecError
from bench.define.pybuild import MARKER, pythons_dir

#: The value of ``python`` that stands for every supported interpreter found.
ALL = "all"
# "3", "3.12", "3.12.1", with "t" for a free-threaded build (pyenv's "3.13.0t", "python3.13t")
_VERSION = re.compile(r"(\d+(?:\.\d+)*)(t?)")
_ON_PATH = re.compile(r"python(\d+\.\d+)(t?)")


def _pyenv_root() -> Path:
    return Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))


def _parts(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def _pyenv_versions() -> list[tuple[tuple[int, ...], bool, Path]]:
    """(version, free-threaded, executable) of each pyenv-installed CPython, and of each
    build of ``flagbench python install`` (finished: its marker written last)."""
    found = []
    for exe in _pyenv_root().glob("versions/*/bin/python"):
        m = _VERSION.fullmatch(exe.parent.parent.name)
        if m:
            found.append((_parts(m.group(1)), bool(m.group(2)), exe))
    for exe in pythons_dir().glob("*/bin/python3"):
        m = _VERSION.fullmatch(exe.parent.parent.name)
        if m and (exe.parent.parent / MARKER).exists():
            found.append((_parts(m.group(1)), bool(m.group(2)), exe))
    return found


def resolve_python(spec: str) -> str:
    """An executable path for ``spec`` ("" is the running interpreter). Raises ValueError."""
    if not spec:
        return sys.executable
    if os.sep in spec:
        if not (os.path.isfile(spec) and os.access(spec, os.X_OK)):
            raise ValueError("no executable at that path")
        return spec
    m = _VERSION.fullmatch(spec)
    if m is None:
        raise ValueError(
            f"give a version such as 3.12 (3.13t for a free-threaded build), "
            f"{ALL!r} for every interpreter found, or the path of an interpreter"
        )
    want, threaded = _parts(m.group(1)), bool(m.group(2))
    found = [
        (v, exe) for v, t, exe in _pyenv_versions() if t == threaded and v[: len(want)] == want
    ]
    if found:  # the newest patch release: 3.12.10 before 3.12.9
        return str(max(found)[1])
    on_path = shutil.which(f"python{spec}")
    if on_path:
        return on_path
    hint = "; flagbench python install " + spec + " builds it" if m.group(2) or "." in spec else ""
    raise ValueError(
        f"no python{spec} on PATH, under {_pyenv_root()}/versions or {pythons_dir()}{hint}"
    )


def found_pythons(supported: Callable[[tuple[int, ...]], bool]) -> list[str]:
    """One spec per minor version (and free-threaded build) found under pyenv or on PATH,
    oldest first, keeping those ``supported`` accepts: what ``python = "all"`` means."""
    specs: set[tuple[tuple[int, ...], bool]] = set()
    for version, threaded, _ in _pyenv_versions():
        specs.add((version[:2], threaded))
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        for name in names:
            m = _ON_PATH.fullmatch(name)
            if m and os.access(os.path.join(folder, name), os.X_OK):
                specs.add((_parts(m.group(1)), bool(m.group(2))))
    return [".".join(map(str, v)) + ("t" if t else "") for v, t in sorted(specs) if supported(v)]


def expand_all(where: str, table: Mapping[str, Any]) -> dict[str, Any]:
    """A workload table with ``python = "all"`` (alone or in a list) replaced by every
    supported interpreter found, a sweep; a SpecError if there is none."""
    # deferred: packaging is the harness's; a worker's venv has the worker extra only
    from bench.define.dependencies import needed_python, supports

    value = table.get("python")
    values = value if isinstance(value, list) else [value]
    if ALL not in values:
        return dict(table)

    found = found_pythons(lambda v: supports(".".join(map(str, v))))
    if not found:
        raise SpecError(
            f"{where}: python = {ALL!r}: no Python {needed_python()} found under "
            f"{_pyenv_root()}/versions or on PATH (as python3.X)"
        )
    expanded = [x for v in values for x in (found if v == ALL else [v])]
    return {**table, "python": list(dict.fromkeys(expanded))}


def full_version(version: str, free_threaded: bool | None) -> str:
    """The release, with a "t" for a free-threaded build: "3.13.5t" (the trials' ``python``)."""
    return version + ("t" if free_threaded and not version.endswith("t") else "")


def interpreter_name(version: str, free_threaded: bool | None, gil_enabled: bool | None) -> str:
    """How tables, charts and the report name what ran: "3.13", "3.13t", or "3.13t (GIL
    re-enabled)" when a free-threaded build ran with the GIL on (an extension module turned
    it on at import, or ``PYTHON_GIL=1``): its numbers then do not show free threading."""
    minor = ".".join(version.rstrip("t").split(".")[:2])
    if not free_threaded:
        return minor
    return f"{minor}t" + (" (GIL re-enabled)" if gil_enabled else "")


def trial_names(
    versions: list[str], free_threaded: list[bool], gil_enabled: list[bool]
) -> list[str]:
    """Each trial's ``interpreter_name``; the release instead ("3.13.5t", "3.13.0t (GIL
    re-enabled)") where one run has two releases under one name, so they stay apart."""
    names = [
        interpreter_name(v, t, g)
        for v, t, g in zip(versions, free_threaded, gil_enabled, strict=True)
    ]
    releases: dict[str, set[str]] = {}
    for name, v, t in zip(names, versions, free_threaded, strict=True):
        releases.setdefault(name, set()).add(full_version(v, t))
    return [
        name if len(releases[name]) < 2 else full_version(v, t) + name[len(name.split(" ")[0]) :]
        for name, v, t in zip(names, versions, free_threaded, strict=True)
    ]
