"""The processes and descriptors of a run, read from /proc: what a soak checks is left over.

Linux only, as the soak is: it kills real processes by pid and counts real descriptors.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state) of ``pid``, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the name may hold spaces and parentheses
    return int(fields[1]), fields[0]


def cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline")
            .read_bytes()
            .replace(b"\0", b" ")
            .decode("utf-8", "replace")
            .strip()
        )
    except OSError:
        return ""


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped does not count)."""
    stat = _stat(pid)
    return stat is not None and stat[1] != "Z"


def pool_process(worker: int) -> int | None:
    """A process of the worker's pool, once one runs: with the fork server (the default start
    method) pool processes are its children, with fork the worker's own."""
    children = [p for p in descendants(worker) if (_stat(p) or (0, ""))[0] == worker]
    server = next((p for p in children if "forkserver" in cmdline(p)), None)
    if server is not None:
        return next(iter(descendants(server)), None)
    return next((p for p in children if "resource_tracker" not in cmdline(p)), None)


def busy_pool_process(worker: int) -> int | None:
    """A pool process with a TCP connection open (a request under way, or kept alive):
    killing one that is still starting up would test the pool's start, not the loss of a
    process that does the work."""
    child = pool_process(worker)
    if child is None:
        return None
    try:
        links = [os.readlink(f"/proc/{child}/fd/{fd}") for fd in os.listdir(f"/proc/{child}/fd")]
        tcp = (
            Path(f"/proc/{child}/net/tcp").read_text() + Path(f"/proc/{child}/net/tcp6").read_text()
        )
    except OSError:
        return None
    inodes = {link[8:-1] for link in links if link.startswith("socket:[")}
    listed = {line.split()[9] for line in tcp.splitlines()[1:] if len(line.split()) > 9}
    return child if inodes & listed else None


def descendants(root: int) -> list[int]:
    """Every live process below ``root``, by the parent links in /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None and stat[1] != "Z":
                children.setdefault(stat[0], []).append(int(entry))
    found: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def matching(text: str) -> list[int]:
    """Live processes whose command line contains ``text`` (a scratch path, say)."""
    return [
        int(e)
        for e in os.listdir("/proc")
        if e.isdigit() and alive(int(e)) and text in cmdline(int(e))
    ]


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_for(
    find: Callable[[], int | None], timeout_s: float, what: str, poll_s: float = 0.02
) -> int:
    """Poll ``find`` until it returns a pid; TimeoutError naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pid = find()
        if pid is not None:
            return pid
        time.sleep(poll_s)
    raise TimeoutError(f"no {what} within {timeout_s:g} s")


def find_below(root: int, marker: str) -> Callable[[], int | None]:
    """A finder of the first process below ``root`` whose command line holds ``marker``."""

    def find() -> int | None:
        return next((p for p in descendants(root) if marker in cmdline(p)), None)

    return find
