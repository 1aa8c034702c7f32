"""Download strategies: the built-ins and any registered under ``flagbench.strategies``.

A strategy is one module with a class satisfying ``strategies.base.Strategy``; it becomes
available by name through one entry here (built-ins) or one entry point in another
package's metadata::

    [project.entry-points."flagbench.strategies"]
    mystrategy = "mypackage.mystrategy:MyStrategy"

Built-ins win over entry points of the same name, so an installed package cannot silently
replace one.
"""

from __future__ import annotations

import importlib
from importlib.metadata import EntryPoint, entry_points

from ._exceptions import StrategyError, UnknownStrategy
from .base import Strategy

__all__ = ["BUILTINS", "StrategyError", "UnknownStrategy", "get", "names"]

GROUP = "flagbench.strategies"

#: name -> "module:Class", in the order they are usually compared.
BUILTINS: dict[str, str] = {
    "sequential": "strategies.sequential:SequentialStrategy",
    "threadpool": "strategies.threadpool:ThreadPoolStrategy",
    "processpool": "strategies.processpool:ProcessPoolStrategy",
    "asyncio": "strategies.asyncio_sem:AsyncioStrategy",
    "asyncio_executor": "strategies.asyncio_executor:AsyncioExecutorStrategy",
}


def _plugins() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP) if ep.name not in BUILTINS}


def names() -> list[str]:
    """Built-in names first (in comparison order), then registered ones sorted."""
    return [*BUILTINS, *sorted(_plugins())]


def get(name: str) -> Strategy:
    """A fresh instance of the strategy called ``name``; ``UnknownStrategy`` lists the allowed."""
    if name in BUILTINS:
        module, _, attr = BUILTINS[name].partition(":")
        factory = getattr(importlib.import_module(module), attr)
    else:
        plugin = _plugins().get(name)
        if plugin is None:
            raise UnknownStrategy(name, names())
        try:
            factory = plugin.load()
        except Exception as exc:
            raise StrategyError(f"strategy {name!r} ({plugin.value}) failed to load: {exc}") from exc
    try:
        strategy = factory() if isinstance(factory, type) else factory
    except Exception as exc:
        raise StrategyError(f"strategy {name!r} ({factory!r}) failed to start: {exc}") from exc
    if not isinstance(strategy, Strategy):
        raise StrategyError(
            f"strategy {name!r} ({factory!r}) lacks name, description or run(); "
            "see strategies.base.Strategy"
        )
    return strategy
