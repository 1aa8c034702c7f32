"""Which interpreter a workload's ``python`` names."""

from __future__ import annotations

import sys

import pytest

from bench.pythons import resolve_python


def _fake(root, version):
    exe = root / "versions" / version / "bin" / "python"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    return str(exe)


def test_newest_patch_release_and_no_prefix_confusion(tmp_path, monkeypatch):
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    _fake(tmp_path, "3.12.9")
    newest = _fake(tmp_path, "3.12.10")
    old = _fake(tmp_path, "3.1.5")
    _fake(tmp_path, "3.10.13")
    assert resolve_python("3.12") == newest
    assert resolve_python("3.1") == old  # not 3.10
    assert resolve_python("3.12.9").endswith("3.12.9/bin/python")


def test_current_interpreter_and_paths(tmp_path):
    assert resolve_python("") == sys.executable
    assert resolve_python(sys.executable) == sys.executable
    with pytest.raises(ValueError, match="no executable"):
        resolve_python(str(tmp_path / "python"))
    with pytest.raises(ValueError, match="give a version"):
        resolve_python("latest")
