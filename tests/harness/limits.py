"""Real limits for a child process: a file-size limit (a full disk) and read-only folders.

A read-only folder stops root only when root lacks CAP_DAC_OVERRIDE, so for root the child
drops it (and CAP_DAC_READ_SEARCH) from its capability bounding set before it runs Python:
the kernel then enforces the folder's mode on it as on any user.
"""

from __future__ import annotations

import ctypes
import os
import resource
from collections.abc import Callable

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE = 1
_CAP_DAC_READ_SEARCH = 2


def _drop_root_overrides() -> None:
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def child_limits(fsize: int | None = None) -> Callable[[], None]:
    """A ``preexec_fn``: folder modes enforced even for root, and at most ``fsize`` bytes
    per file written (beyond it, writes fail with EFBIG: Python ignores SIGXFSZ)."""

    def apply() -> None:
        _drop_root_overrides()
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return apply
