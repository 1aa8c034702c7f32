"""Which HTTP client library and event loop a strategy runs with: two axes, not copies.

A strategy declares what it can use as class attributes, its default first: ``clients``
(the sync strategies ``requests``, ``httpx``, ``urllib3``; the asyncio ones ``aiohttp``,
``httpx``) and ``loops`` (``asyncio``, ``uvloop``; none for a strategy without an event loop).
``choose`` resolves ``Settings.client`` and ``Settings.loop`` against them and refuses, in one
line, a choice the strategy cannot honour, so a run stops before its first request instead of
measuring something else than it says.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass

from . import consume
from ._exceptions import UnsupportedSetting
from .base import Settings, Strategy

SYNC_CLIENTS = ("requests", "httpx", "urllib3")
ASYNC_CLIENTS = ("aiohttp", "httpx")
LOOPS = ("asyncio", "uvloop")
ALL_CLIENTS = tuple(dict.fromkeys(SYNC_CLIENTS + ASYNC_CLIENTS))

# The library each name imports, and how to get it when it is missing.
_MODULES = {
    "requests": "requests",
    "httpx": "httpx",
    "urllib3": "urllib3",
    "aiohttp": "aiohttp",
    "uvloop": "uvloop",
}


@dataclass(frozen=True)
class Choice:
    """The client library and event loop a run uses ("" when the strategy has no loop)."""

    client: str
    loop: str


def choose(strategy: Strategy, settings: Settings, *, load: bool = True) -> Choice:
    """The strategy's client and loop for these settings; UnsupportedSetting if it has none.

    ``load=False`` only looks for the libraries: the harness asks before a run, in a process
    that never uses them (importing aiohttp alone takes about 0.13 s of CPU)."""
    name = strategy.name
    offered = tuple(getattr(strategy, "clients", ()))
    client = settings.client
    if client is None:
        client = offered[0] if offered else ""
    elif client not in offered:
        can = (
            f"it can use: {', '.join(offered)}"
            if offered
            else "it does not declare any client library it can use"
        )
        raise UnsupportedSetting(f"strategy {name!r} cannot use client {client!r}; {can}")
    loops = tuple(getattr(strategy, "loops", ()))
    loop = settings.loop
    if loop is None:
        loop = loops[0] if loops else ""
    elif loop not in loops:
        can = f"it can use: {', '.join(loops)}" if loops else "it has no event loop"
        raise UnsupportedSetting(f"strategy {name!r} cannot run on loop {loop!r}; {can}")
    for library in (client, loop):
        _require(library, load)
    return Choice(client, loop)


def check(strategy: Strategy, settings: Settings, *, load: bool = True) -> Choice:
    """Everything that can be known before a run: the client and loop, the consume mode
    (strategies.consume), then the strategy's own ``check`` (an optional library, a cluster address), each refused in one line."""
    choice = choose(strategy, settings, load=load)
    consume.resolve(strategy, settings)
    consume.check_wait(strategy, settings)
    own = getattr(strategy, "check", None)
    if own is not None:
        own(settings)
    return choice


def _require(library: str, load: bool) -> None:
    """Import the library now (``load``): a strategy calls ``choose`` before its clock starts
    (and the worker before the timed region), so a first import is never part of a
    measurement, and processes forked later inherit it. Without ``load``, only find it."""
    module = _MODULES.get(library)
    if module is None:
        return
    try:
        found = importlib.import_module(module) if load else importlib.util.find_spec(module)
    except ImportError:
        found = None
    if found is None:
        raise UnsupportedSetting(
            f"{library} is not installed; install it with: pip install {library}"
        )
