"""Named baselines: ``--save-baseline NAME`` on a run, ``compare --baseline NAME`` later.

A baseline is a pointer, not a copy: ``<results folder>/baselines/NAME.json`` names a run
folder beside it, so the run's own tables stay the one record. ``last`` is not a saved name but
the most recent complete run of the same suite in the same results folder, the habit of
pytest-benchmark's autosave and ``--benchmark-compare``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from bench._atomic import write_json_atomic
from bench._exceptions import RunDirError, SpecError
from bench.suggest import did_you_mean

LAST = "last"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def folder(root: Path) -> Path:
    return root / "baselines"


def check_name(name: str, option: str = "--save-baseline") -> str:
    """``name`` if it can only name a file in the baselines folder (no '/', no '..', not too
    long for a file name); else SpecError, for saving and reading alike."""
    saving = option == "--save-baseline"
    if not _NAME.fullmatch(name) or (saving and name == LAST):
        shown = name if len(name) <= 80 else f"{name[:40]}... ({len(name)} characters)"
        last = f"not {LAST!r}, which means" if saving else f"or {LAST!r} for"
        raise SpecError(
            f"{option} {shown!r}: give letters, digits, '.', '_' or '-' "
            f"(at most 64; {last} the suite's last run)"
        )
    return name


def save(root: Path, name: str, run_dir: Path) -> Path:
    """Point ``name`` at ``run_dir`` (replacing an older pointer of that name)."""
    path = folder(root) / f"{check_name(name)}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(
        path,
        {
            "name": name,
            "run": run_dir.resolve().name
            if run_dir.resolve().parent == root.resolve()
            else str(run_dir.resolve()),
        },
    )
    return path


def names(root: Path) -> list[str]:
    return sorted(p.stem for p in folder(root).glob("*.json"))


def _suite_of(run_dir: Path) -> str | None:
    try:
        return json.loads((run_dir / "meta.json").read_text(encoding="utf-8")).get("suite")
    except (OSError, ValueError):
        return None


def last_run(root: Path, like: Path) -> Path:
    """The most recent complete run of ``like``'s suite in ``root``, other than ``like``."""
    suite = _suite_of(like)
    if suite is None:
        raise RunDirError(f"{like}: not a flagbench run folder (no meta.json)")
    mine = like.resolve()
    found = []
    for run_dir in sorted(p for p in root.iterdir() if p.is_dir()):  # names start with the time
        if run_dir.resolve() == mine or _suite_of(run_dir) != suite:
            continue
        try:
            complete = json.loads((run_dir / "meta.json").read_text(encoding="utf-8")).get(
                "complete"
            )
        except (OSError, ValueError):
            continue
        if complete and run_dir.name < mine.name:
            found.append(run_dir)
    if not found:
        raise RunDirError(
            f"--baseline {LAST}: no earlier complete run of suite {suite!r} in {root}"
        )
    return found[-1]


def resolve(root: Path, name: str, like: Path) -> Path:
    """The run folder a baseline name stands for (``last``: see ``last_run``)."""
    if name == LAST:
        return last_run(root, like)
    path = folder(root) / f"{check_name(name, '--baseline')}.json"
    if not path.is_file():
        known = names(root)
        raise SpecError(
            f"--baseline {name}: no baseline of that name in {folder(root)}"
            f"{did_you_mean(name, known)}; saved: {', '.join(known) or 'none'} "
            f"(save one with --save-baseline NAME, or use {LAST!r})"
        )
    try:
        target = json.loads(path.read_text(encoding="utf-8"))["run"]
    except (OSError, ValueError, KeyError, TypeError):
        raise RunDirError(f"{path}: not a flagbench baseline file") from None
    run_dir = Path(target) if Path(target).is_absolute() else root / target
    if not run_dir.is_dir():
        raise RunDirError(
            f"--baseline {name}: its run {run_dir} is gone; save another with --save-baseline"
        )
    return run_dir
