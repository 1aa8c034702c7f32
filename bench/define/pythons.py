"""Find the interpreter a trial asks for: a version such as ``3.12`` (``3.13t`` for a
free-threaded build) or a path; and every interpreter this machine has, for ``python = "all"``.

Interpreters are looked for under pyenv's versions first, then on ``PATH`` as ``python3.X``:
pyenv's shims refuse versions that are not "global", and a pyenv tree is where a user who
compares interpreters keeps them.
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
    """(version, free-threaded, executable) of each pyenv-installed CPython."""
    found = []
    for exe in _pyenv_root().glob("versions/*/bin/python"):
        m = _VERSION.fullmatch(exe.parent.parent.name)
        if m:
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
    raise ValueError(f"no python{spec} on PATH or under {_pyenv_root()}/versions")


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
