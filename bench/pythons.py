"""Find the interpreter a trial asks for: a version such as ``3.12`` or a path."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in name.split("."))


def resolve_python(spec: str) -> str:
    """An executable path for ``spec`` ("" is the running interpreter). Raises ValueError."""
    if not spec:
        return sys.executable
    if os.sep in spec:
        if not (os.path.isfile(spec) and os.access(spec, os.X_OK)):
            raise ValueError("no executable at that path")
        return spec
    if not all(part.isdigit() for part in spec.split(".")):
        raise ValueError("give a version such as 3.12 or the path of an interpreter")
    # pyenv's real interpreters first: its shims refuse versions that are not "global"
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    found = [p for p in pyenv_root.glob("versions/*/bin/python")
             if p.parent.parent.name == spec or p.parent.parent.name.startswith(spec + ".")]  # fmt: skip
    if found:  # the newest patch release: 3.12.10 before 3.12.9
        return str(max(found, key=lambda p: _version_key(p.parent.parent.name)))
    on_path = shutil.which(f"python{spec}")
    if on_path:
        return on_path
    raise ValueError(f"no python{spec} on PATH or under {pyenv_root}/versions")
