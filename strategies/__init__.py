"""Download strategies, registered under the entry-point group ``flagbench.strategies``.

The entry points are the one registry: flagbench declares its own in its pyproject.toml, and
any other package adds one the same way::

    [project.entry-points."flagbench.strategies"]
    mystrategy = "mypackage.mystrategy:MyStrategy"

The built-ins are the flagbench distribution's own entry points. Another package cannot
replace one (its entry point of the same name is ignored), and built-ins are listed first, by
their class's ``rank`` (installers write entry points sorted by name, so the order in
pyproject.toml does not survive), then the other packages' strategies sorted by name.
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from types import MappingProxyType
from typing import Any

from ._exceptions import StrategyError, UnknownStrategy
from .base import Strategy

__all__ = [
    "DISTRIBUTION",
    "GROUP",
    "StrategyError",
    "UnknownStrategy",
    "builtin_names",
    "from_ref",
    "get",
    "names",
    "ref",
]

GROUP = "flagbench.strategies"
DISTRIBUTION = "flagbench"


def _is_builtin(ep: EntryPoint) -> bool:
    dist = getattr(ep, "dist", None)
    return dist is not None and re.sub(r"[-_.]+", "-", dist.name).lower() == DISTRIBUTION


def _registry() -> tuple[Mapping[str, EntryPoint], Mapping[str, EntryPoint]]:
    """(built-ins, plugins), each by name; a plugin never shadows a built-in."""
    return _scan(entry_points)


@lru_cache(maxsize=4)
def _scan(find: Callable[..., Any]) -> tuple[Mapping[str, EntryPoint], Mapping[str, EntryPoint]]:
    """The registry as ``find`` (``entry_points``, or what a test puts in its place) gives it,
    read once per process: the scan reads every installed distribution's metadata (about
    10 ms) and a run asks about twenty times. Read-only, since every caller shares it."""
    found = list(find(group=GROUP))
    builtins = {ep.name: ep for ep in found if _is_builtin(ep)}
    plugins: dict[str, EntryPoint] = {}
    for ep in found:
        if ep.name not in builtins:
            plugins.setdefault(ep.name, ep)
    return MappingProxyType(builtins), MappingProxyType(plugins)


def _rank(ep: EntryPoint) -> float:
    """Where a built-in stands in listings; one that fails to load goes last (``get`` says why)."""
    try:
        return float(getattr(ep.load(), "rank", math.inf))
    except Exception:
        return math.inf


def builtin_names() -> list[str]:
    """flagbench's own strategies, in the order they are usually compared (sequential first)."""
    builtins, _ = _registry()
    return sorted(builtins, key=lambda name: (_rank(builtins[name]), name))


def names() -> list[str]:
    """Every registered name: built-ins first (in comparison order), then plugins sorted.

    A plugin is listed without being imported, so a broken one shows here and fails in ``get``.
    """
    _, plugins = _registry()
    return [*builtin_names(), *sorted(plugins)]


def runnable_names() -> list[str]:
    """The built-ins this interpreter can run: a strategy that needs what it lacks says so
    with ``unavailable()`` (``interpreterpool`` without InterpreterPoolExecutor)."""
    return [n for n in builtin_names() if not getattr(get(n), "unavailable", str)()]


def _entry_point(name: str) -> EntryPoint:
    builtins, plugins = _registry()
    ep = builtins.get(name) or plugins.get(name)
    if ep is None:
        raise UnknownStrategy(name, names())
    return ep


def get(name: str) -> Strategy:
    """A fresh instance of the strategy called ``name``.

    ``UnknownStrategy`` lists the allowed names; ``StrategyError`` names a registered strategy
    that cannot be imported, built, or lacks the ``Strategy`` protocol, and where it comes from.
    """
    ep = _entry_point(name)
    return _build(name, _origin(ep), ep.load)


def ref(name: str) -> str:
    """Where the strategy ``name`` lives, as ``"module:attribute"``: what a process without
    flagbench's installed metadata (a worker in a venv of its own) imports it by."""
    return _entry_point(name).value


def from_ref(name: str, reference: str) -> Strategy:
    """The strategy at ``reference`` (``"module:attribute"``, see ``ref``), checked as ``get``."""
    module, _, attribute = reference.partition(":")

    def load() -> Any:
        target: Any = importlib.import_module(module)
        for part in attribute.split("."):
            target = getattr(target, part)
        return target

    return _build(name, reference, load)


def _build(name: str, where: str, load: Callable[[], Any]) -> Strategy:
    try:
        factory = load()
    except Exception as exc:
        raise StrategyError(
            f"strategy {name!r} ({where}) failed to load: {_one_line(exc)}"
        ) from exc
    try:
        strategy = factory() if isinstance(factory, type) else factory
    except Exception as exc:
        raise StrategyError(
            f"strategy {name!r} ({where}) failed to start: {_one_line(exc)}"
        ) from exc
    if not isinstance(strategy, Strategy):
        raise StrategyError(
            f"strategy {name!r} ({where}) lacks name, description or run(); "
            "see strategies.base.Strategy"
        )
    return strategy


def _origin(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return f"{ep.value}, from {dist.name} {dist.version}" if dist is not None else ep.value


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
