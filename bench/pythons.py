"""Find the interpreter a trial asks for: a version such as ``3.12`` or a path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


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
    for candidate in sorted(pyenv_root.glob(f"versions/{spec}*/bin/python"), reverse=True):
        return str(candidate)
    found = shutil.which(f"python{spec}")
    if found:
        return found
    raise ValueError(f"no python{spec} on PATH or under {pyenv_root}/versions")


def python_version(executable: str) -> str:
    """``3.12.1`` for an interpreter, asked with a timeout (it may be a broken install)."""
    if executable == sys.executable:
        return ".".join(map(str, sys.version_info[:3]))
    out = subprocess.run(
        [executable, "-c", "import sys; print('.'.join(map(str, sys.version_info[:3])))"],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    return out.stdout.strip()
