"""A timing that did not hold on a busy machine is skipped with the reason, not failed.

The suite runs beside other programs (a shared machine, its own pytest-xdist workers), and a
ratio of wall times can only be asked of CPUs that are free. When a timing check fails, the
CPU time the whole machine spent meanwhile (``bench.system``, the harness's own busy-machine
measure) says whether other programs took a share of the CPUs: then the test is skipped,
saying how busy the machine was; on a quiet machine the check fails as it should.
"""

from __future__ import annotations

import pytest

from bench import system


def skip_if_busy(start: system.CpuSample, what: str) -> None:
    """Skip, saying why, when other programs kept a share of the CPUs busy since ``start``
    (as much as ``bench.system`` warns a run about); return otherwise, for the check to fail."""
    use = system.cpu_use(start)
    if use is not None and use.others_cpus >= system.BUSY_DURING * use.cpus:
        pytest.skip(
            f"{what} did not hold while other programs kept {use.others_cpus:.1f} of the "
            f"{use.cpus} CPUs busy (this test's own processes {use.flagbench_cpus:.1f}): "
            "the timing needs free CPUs"
        )
