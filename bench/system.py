"""Is the machine quiet enough to measure on? Checks in the spirit of pyperf's ``system show``.

Each check reads the system and says, in one line, what would make timings noisy or slow. The
load average is the one that matters most on a shared machine: other programs take CPU time
from the strategies and the flag server, and the run comes out slower and more spread. At the
start a load of half a process per CPU is already busy; at the end the 1-minute average
includes the run itself (its worker and the flag server), so only a load above the CPU count
counts as busy there.
"""

from __future__ import annotations

import os
from pathlib import Path

BUSY_AT_START = 0.5  # runnable processes per CPU, from others alone
GOVERNOR = Path("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")


def load_average() -> list[float] | None:
    """The 1, 5 and 15-minute load averages, where the system has them."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def is_busy(load: float | None, cpus: int | None, at_end: bool = False) -> bool:
    if load is None or not cpus:
        return False
    return load > cpus if at_end else load >= BUSY_AT_START * cpus


def busy_warnings(when: str = "at the start of the run") -> list[str]:
    """One line per finding; none on a quiet, well-set machine."""
    out = []
    load, cpus = load_average(), os.cpu_count()
    at_end = "end" in when
    if load is not None and is_busy(load[0], cpus, at_end):
        out.append(
            f"the machine is busy {when}: load average {load[0]:.2f} on {cpus} CPUs; "
            "other programs compete for the CPU, so timings will be noisier and slower "
            "than on a quiet machine"
        )
    if not at_end:
        try:
            governor = GOVERNOR.read_text().strip()
        except OSError:
            governor = ""
        if governor and governor != "performance":
            out.append(
                f"the CPU frequency governor is {governor!r}, not 'performance': the clock "
                "speed may change during the run"
            )
    return out
