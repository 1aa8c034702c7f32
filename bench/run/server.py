"""The run's flag server: the embedded one or the user's, given each workload's settings, its
counts read per trial, and its health watched while a trial runs."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from bench._exceptions import HarnessError, ServerLost, SpecError
from bench.define.spec import Suite, Trial
from bench.define.workload import Workload
from flags_server import (
    AdminClient,
    AdminError,
    ConfigError,
    ServerConfig,
    ServerStartError,
    running,
)

#: How long a server that did not give its counts has to answer /_health before it is
#: taken for dead (a frozen one never answers).
HEALTH_TIMEOUT_S = 3.0
#: During a trial: each health check's timeout, and how long without any answer makes a
#: server frozen (so a frozen server stops the run about this many seconds after it froze).
WATCH_HEALTH_TIMEOUT_S = 2.0
FROZEN_AFTER_S = 5.0


def external_server(url: str | None) -> AdminClient | None:
    """The client of the ``--server`` the user named, or None for the embedded one."""
    if not url:
        return None
    try:
        return AdminClient.for_site(url)
    except AdminError as exc:
        raise SpecError(f"--server: {exc}") from None


def apply_workload(srv: AdminClient, w: Workload) -> None:
    """Put the workload's server settings in place, or stop the run.

    A trial is labelled with its workload's latency and faults, so it must never run on a
    server that did not take them: one that refuses them, and one that answers without
    applying them (its answer is the configuration in force, and must show every change).
    """
    wanted = w.server_changes()
    try:
        applied = srv.configure(**wanted)
    except (AdminError, ConfigError) as exc:
        raise HarnessError(
            f"the workload's latency and faults cannot be applied ({w.label}): {exc}"
        ) from None
    ignored = [
        f"{k}={applied.get(k)!r}, not {v!r}" for k, v in wanted.items() if applied.get(k) != v
    ]
    if ignored:
        raise HarnessError(
            f"the workload's latency and faults were not applied ({w.label}): "
            f"PUT {srv.base_url}/_config answered {'; '.join(ignored)}"
        )


def check_server(suite: Suite, url: str | None, warn: Callable[[str], None]) -> None:
    """Before anything is written: an external server takes every workload's settings, and
    says whether its counts can be checked (a refused ``/_stats`` is a warning, not a stop)."""
    srv = external_server(url)
    if srv is None:
        return
    for w in suite.workloads:
        apply_workload(srv, w)
    try:
        srv.reset_stats()
        srv.stats()
    except AdminError as exc:
        warn(
            f"{exc}; trials will run, but their counts cannot be checked against "
            "the server's (counts_match is False)"
        )


@contextmanager
def serving(suite: Suite, url: str | None) -> Iterator[AdminClient]:
    """The run's server: the one at ``url``, or the embedded one, started and always reaped."""
    external = external_server(url)
    if external is not None:
        yield external
        return
    config = ServerConfig(seed=suite.seed, **suite.server)
    with ExitStack() as stack:
        try:
            srv = stack.enter_context(running(config))
        except ServerStartError as exc:
            raise HarnessError(f"the flag server did not start: {exc}") from None
        yield srv


def settle(srv: AdminClient) -> dict[str, Any]:
    """The server's stats once it has finished with requests whose clients already left
    (a held timeout ends when the server notices the closed connection)."""
    try:
        return srv.wait_idle()
    except TimeoutError:
        return srv.stats()


def zero_counts(srv: AdminClient) -> str:
    """Zero the server's counters for the next trial: '', or why its counts cannot be had."""
    try:
        settle(srv)  # requests the last trial left behind must not count in this one
        srv.reset_stats()
    except AdminError as exc:
        return str(exc)
    return ""


def trial_counts(srv: AdminClient) -> tuple[dict[str, Any] | None, str]:
    """The server's counts for the trial just run, or None and why not."""
    try:
        return settle(srv), ""
    except AdminError as exc:
        return None, str(exc)


def _during(trial: Trial) -> str:
    return f"during trial {trial.trial_id + 1} ({trial.strategy})"  # from 1, as progress counts


def _check_process(srv: AdminClient, trial: Trial) -> None:
    """Raise ServerLost if the embedded server's process has ended."""
    process = getattr(srv, "process", None)  # the embedded server's
    if process is not None and process.poll() is not None:
        code = process.returncode
        how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        raise ServerLost(f"the flag server died {_during(trial)} ({how})")


def check_alive(srv: AdminClient, trial: Trial) -> None:
    """Raise ServerLost when the flag server is dead or frozen.

    Asked when a trial ends badly (its worker failed, or the server's counts could not be
    read): if the server is gone, the trial measured the server's death, not the strategy,
    and every later trial would too. A server that answers, even with a refusal, is alive.
    """
    _check_process(srv, trial)
    try:
        AdminClient(srv.base_url, timeout=HEALTH_TIMEOUT_S).health()
    except AdminError as exc:
        if exc.status is None:
            raise ServerLost(f"the flag server stopped answering {_during(trial)}: {exc}") from None


@dataclass
class HealthWatch:
    """The flag server's health, watched while a trial runs (``bench._process`` calls it
    every second or so), so a server that dies or freezes stops the run within seconds,
    not when every request of the trial has waited out its timeout.

    Dead is the embedded server's process having ended. Frozen is ``/_health`` giving no
    answer at all (a timeout, not a refusal) for ``FROZEN_AFTER_S`` on end: a server
    under the trial's load answers its health check in milliseconds, and one answer
    resets the count.
    """

    srv: AdminClient
    trial: Trial
    silent_since: float | None = None

    def __call__(self) -> None:
        _check_process(self.srv, self.trial)
        started = time.monotonic()
        try:
            AdminClient(self.srv.base_url, timeout=WATCH_HEALTH_TIMEOUT_S).health()
        except AdminError as exc:
            if not exc.timed_out:
                self.silent_since = None
                return
            if self.silent_since is None:
                self.silent_since = started
            if time.monotonic() - self.silent_since >= FROZEN_AFTER_S:
                raise ServerLost(
                    f"the flag server stopped answering {_during(self.trial)}: {exc}"
                ) from None
            return
        self.silent_since = None
