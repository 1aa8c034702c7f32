"""How the caller consumes a strategy's results: the order in which they reach it.

The book teaches that the same downloads feel different by the way their results are
collected. ``Executor.map`` hands results back in the order the calls were submitted, so one
slow first job holds back every result behind it (head-of-line waiting), while
``futures.as_completed`` hands each one over as it finishes. For coroutines,
``asyncio.gather`` returns everything at once at the end, ``asyncio.as_completed`` as each
finishes, and ``asyncio.TaskGroup`` (3.11+) returns at the end too but, on the first job that
raises, cancels the rest. A strategy lists the modes it offers as ``consumes``; ``""`` keeps
the strategy's own way (``as_completed`` for the pools, done-callbacks of a bounded producer
for the asyncio strategies). Every job's ``t_delivered`` records when its result was handed
over, whatever the mode.
"""

from __future__ import annotations

import sys

from ._exceptions import UnsupportedSetting
from .base import Settings, Strategy

AS_COMPLETED = "as_completed"
MAP = "map"
GATHER = "gather"
TASKGROUP = "taskgroup"
POOL_CONSUMES = (AS_COMPLETED, MAP)
ASYNC_CONSUMES = (AS_COMPLETED, MAP, GATHER, TASKGROUP)
CONSUMES = ASYNC_CONSUMES  # every mode a built-in strategy offers


def resolve(strategy: Strategy, settings: Settings) -> str:
    """The consume mode of these settings ("" for the strategy's own way), refused in one
    line when the strategy cannot honour it, the load is open loop, or Python lacks it."""
    mode = settings.consume
    if not mode:
        return ""
    offered = tuple(getattr(strategy, "consumes", ()))
    if mode not in offered:
        can = f"it offers: {', '.join(offered)}" if offered else "it has only its own way"
        raise UnsupportedSetting(
            f"strategy {strategy.name!r} cannot consume results by {mode!r}; {can}"
        )
    if settings.rate > 0:
        raise UnsupportedSetting(
            f"consume {mode!r} orders the results of a closed loop; an open loop (rate "
            f"{settings.rate:g}) hands each over as it finishes: leave consume out"
        )
    version = tuple(sys.version_info[:2])
    if mode == TASKGROUP and version < (3, 11):
        raise UnsupportedSetting(
            "consume 'taskgroup' needs asyncio.TaskGroup, new in Python 3.11; this is Python "
            f"{version[0]}.{version[1]}: use gather or as_completed"
        )
    return mode


def check_wait(strategy: Strategy, settings: Settings) -> None:
    """``save_wait = "await"`` needs a strategy whose jobs are coroutines (``awaits = True``)."""
    if settings.save_wait == "await" and not getattr(strategy, "awaits", False):
        raise UnsupportedSetting(
            f"strategy {strategy.name!r} cannot await its save delay: its jobs are not "
            "coroutines; allowed with the asyncio strategies, or save_wait = block"
        )
