"""One real flag server for the whole strategies test folder, reconfigured per test; a real
dask cluster (command-line scheduler and two workers) for the tests that need one."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import pytest

import strategies
from flags_server import RunningServer, ServerConfig, running
from strategies.base import RequestRecord, Settings

from .dask_cluster import CliCluster
from .helpers import Variant


@pytest.fixture(scope="session")
def flag_server() -> Iterator[RunningServer]:
    with running(ServerConfig(seed=11, latency="10ms")) as srv:
        yield srv


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory) -> Iterator[CliCluster]:
    """A module's cluster, stopped when the module ends: an idle cluster's five processes
    take about a tenth of a core between them, so one kept for the whole session would cost
    the other tests more than starting one per module does (1.5 s)."""
    cluster = CliCluster(tmp_path_factory.mktemp("dask"))
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture
def run_variant(request) -> Callable[..., list[RequestRecord]]:
    """Run a strategy with a variant's client and loop; dask runs on the command-line cluster
    (a LocalCluster per test would take seconds each)."""

    def run(variant: Variant, jobs, settings: Settings, **kwargs) -> list[RequestRecord]:
        changes = {"client": variant.client or None, "loop": variant.loop or None}
        if variant.name == "dask" and settings.scheduler is None:
            changes["scheduler"] = request.getfixturevalue("dask_cluster").address
        settings = dataclasses.replace(settings, **changes)
        return strategies.get(variant.name).run(jobs, settings, **kwargs)

    return run
