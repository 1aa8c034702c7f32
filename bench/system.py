"""Is the machine quiet enough to measure on? Checks in the spirit of pyperf's ``system show``.

Each check reads the system and says, in one line, what would make timings noisy or slow. The
load on a shared machine matters most: other programs take CPU time from the strategies and
the flag server, and the run comes out slower and more spread. A warning says whose load it
is: a run's own worker processes and flag server load the machine too, and that is the run,
not competition. At the start, the load average less what flagbench itself has used so far;
during the run, the CPU time of the whole machine (``/proc/stat``) less flagbench's own (this
process and every process it started and reaped), so the end says how many CPUs other
programs kept busy while the trials ran.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

BUSY_AT_START = 0.5  # runnable processes per CPU, from others alone
BUSY_DURING = 0.25  # CPUs per CPU that other programs kept busy during the run
GOVERNOR = Path("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
PROC_STAT = Path("/proc/stat")


@dataclass(frozen=True)
class CpuSample:
    """The machine's busy CPU seconds (None where /proc/stat is missing) and flagbench's
    own (this process and its reaped children: trial workers, the flag server), at ``t``."""

    t: float
    machine_busy_s: float | None
    own_s: float


@dataclass(frozen=True)
class CpuUse:
    """Average CPUs kept busy between two samples, by flagbench and by everything else."""

    wall_s: float
    cpus: int
    flagbench_cpus: float
    others_cpus: float

    def after(self, earlier: dict | None) -> CpuUse:
        """This part of a run together with its ``earlier`` parts (``meta.json``'s record,
        from before a resume or a ``--resolve`` round): averages weighted by wall time."""
        if not earlier or not earlier.get("wall_s"):
            return self
        w0, w1 = float(earlier["wall_s"]), self.wall_s
        return CpuUse(
            w0 + w1,
            self.cpus,
            (w0 * earlier["flagbench_cpus"] + w1 * self.flagbench_cpus) / (w0 + w1),
            (w0 * earlier["others_cpus"] + w1 * self.others_cpus) / (w0 + w1),
        )

    def to_dict(self) -> dict[str, float]:
        return {
            "wall_s": round(self.wall_s, 3),
            "cpus": self.cpus,
            "flagbench_cpus": round(self.flagbench_cpus, 3),
            "others_cpus": round(self.others_cpus, 3),
        }


def own_cpu_s() -> float:
    """CPU seconds of this process and of every child it has waited for."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _machine_busy_s() -> float | None:
    try:
        first = PROC_STAT.read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    if not first or first[0] != "cpu":
        return None
    # user nice system idle iowait irq softirq steal (guest time is inside user already)
    ticks = [int(x) for x in first[1:9]]
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")


def cpu_sample() -> CpuSample:
    return CpuSample(time.monotonic(), _machine_busy_s(), own_cpu_s())


def cpu_use(start: CpuSample, end: CpuSample | None = None) -> CpuUse | None:
    """Who kept the CPUs busy between ``start`` and ``end`` (now); None without /proc/stat."""
    end = end or cpu_sample()
    wall = end.t - start.t
    if start.machine_busy_s is None or end.machine_busy_s is None or wall <= 0:
        return None
    own = max(end.own_s - start.own_s, 0.0)
    others = max(end.machine_busy_s - start.machine_busy_s - own, 0.0)
    return CpuUse(wall, os.cpu_count() or 1, own / wall, others / wall)


def busy_during(use: dict | None) -> str | None:
    """The line for a run during which other programs took a share of the CPUs, or None."""
    if not use or use["others_cpus"] < BUSY_DURING * use["cpus"]:
        return None
    return (
        f"other programs kept {use['others_cpus']:.1f} of the {use['cpus']} CPUs busy during "
        f"the run (flagbench's own trials and flag server {use['flagbench_cpus']:.1f}): the "
        "strategies and the server got less CPU than on a quiet machine, so timings are "
        "slower and noisier"
    )


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


def busy_warnings(when: str = "at the start of the run", own_s: float = 0.0) -> list[str]:
    """One line per finding; none on a quiet, well-set machine. At the start, the load
    average less ``own_s``, the CPU seconds flagbench used in the last minute (its checks):
    a 1-minute average holds at most that many seconds over 60 of it."""
    out = []
    load, cpus = load_average(), os.cpu_count()
    at_end = "end" in when
    own = own_s / 60 if not at_end else 0.0
    others = None if load is None else max(load[0] - own, 0.0)
    if others is not None and is_busy(others, cpus, at_end):
        mine = f"; flagbench's own checks used {own * 60:.1f} s of CPU" if own >= 0.05 else ""
        whose = (
            "this run's worker processes and flag server are part of it"
            if at_end
            else "that is other programs, which compete with the trials for the CPU"
        )
        out.append(
            f"the machine is busy {when}: load average {others + own:.2f} on {cpus} CPUs{mine}; "
            f"{whose}, so timings will be noisier and slower than on a quiet machine"
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
