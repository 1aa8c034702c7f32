"""A strategy plugin installed for one test: a dist-info with its entry points on PYTHONPATH,
found by importlib.metadata as any installed package's would be."""

from __future__ import annotations

import os
from pathlib import Path


def installed_plugin(
    site: Path, dist: str, entry_points: str, modules: dict[str, str], env: dict[str, str]
) -> dict[str, str]:
    """Write ``modules`` (file name -> source) and ``dist``'s metadata under ``site``; return
    ``env`` with ``site`` first on PYTHONPATH."""
    info = site / f"{dist}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)
    for name, source in modules.items():
        (site / name).write_text(source)
    return {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))}
