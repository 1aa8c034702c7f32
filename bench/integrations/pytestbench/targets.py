"""What ``flagbench_bench`` can benchmark, each turned into one call per round.

A strategy name (built-in or registered), a strategy object or class, a plain function
``f(jobs, settings)`` or an ``async def f(jobs, settings)``. A coroutine runs on an event loop
made once, before the first round, and closed after the last: pytest-benchmark has no asyncio
support of its own, and ``asyncio.run`` inside the measured call would time the loop's
creation and teardown as well as the downloads.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import strategies
from strategies.base import Job, ProbeSample, Settings

Kind = Literal["builtin", "registered", "object", "function", "coroutine"]
LoopFactory = Callable[[], asyncio.AbstractEventLoop]
#: One round's work: the jobs, the settings and a list for probe samples -> what it returned.
Call = Callable[[Sequence[Job], Settings, list[ProbeSample]], Any]


class TargetError(Exception):
    """The thing given to ``flagbench_bench`` cannot be benchmarked, said in one line."""


@dataclass(frozen=True)
class Target:
    name: str  # the strategy column of the tables
    kind: Kind
    max_concurrency: int | None  # a declared cap (sequential: 1), for the ideal time
    call: Call | None = None  # blocking code: called as is
    coroutine: Callable[..., Awaitable[Any]] | None = None  # async code: run on the held loop

    @property
    def is_async(self) -> bool:
        return self.coroutine is not None

    def bound(self, loop: asyncio.AbstractEventLoop | None) -> Call:
        """The call for one round; async code runs to completion on ``loop``."""
        if self.call is not None:
            return self.call
        assert self.coroutine is not None and loop is not None
        coroutine = self.coroutine
        return lambda jobs, settings, probes: loop.run_until_complete(
            coroutine(jobs, settings, probes)
        )


def _takes_probes(run: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(run).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == "probes" or p.kind is p.VAR_KEYWORD for p in params)


def _of_object(obj: Any, kind: Kind, name: str) -> Target:
    run = obj.run
    cap = getattr(obj, "max_concurrency", None)
    probes = _takes_probes(run)

    def call(jobs: Sequence[Job], settings: Settings, sink: list[ProbeSample]) -> Any:
        return run(jobs, settings, probes=sink) if probes else run(jobs, settings)

    if inspect.iscoroutinefunction(run):
        return Target(name, kind, cap, coroutine=call)
    return Target(name, kind, cap, call=call)


def resolve(target: Any) -> Target:
    """Name the target and say how to call it; TargetError says what is allowed."""

    if isinstance(target, str):
        try:
            obj = strategies.get(target)
        except strategies.StrategyError as exc:
            raise TargetError(str(exc)) from None
        return _of_object(
            obj, "builtin" if target in strategies.builtin_names() else "registered", target
        )
    if isinstance(target, type):
        try:
            target = target()
        except Exception as exc:
            raise TargetError(f"{target.__name__}() failed: {exc}") from None
    if callable(getattr(target, "run", None)):
        return _of_object(target, "object", str(getattr(target, "name", type(target).__name__)))
    if callable(target):
        name = getattr(target, "__name__", type(target).__name__)
        cap = getattr(target, "max_concurrency", None)
        if inspect.iscoroutinefunction(target):
            return Target(
                name,
                "coroutine",
                cap,
                coroutine=lambda jobs, settings, probes: target(jobs, settings),
            )
        return Target(
            name, "function", cap, call=lambda jobs, settings, probes: target(jobs, settings)
        )
    raise TargetError(
        f"cannot benchmark {target!r}: give a strategy name ({', '.join(strategies.names())}), "
        "a strategy object, a function f(jobs, settings) or an async def f(jobs, settings)"
    )


@contextmanager
def event_loop(factory: LoopFactory | None) -> Iterator[asyncio.AbstractEventLoop]:
    """One loop for every round; closed as ``asyncio.run`` closes its own (tasks cancelled,
    async generators and the default executor shut down)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise TargetError(
            "flagbench_bench runs the event loop itself: call it from a plain "
            "`def` test, not from an `async def` one"
        )
    loop = (factory or asyncio.new_event_loop)()
    try:
        yield loop
    finally:
        try:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()
