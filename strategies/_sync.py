"""A blocking job: shared by the sequential, thread-pool and process-pool strategies.

Each caller owns one transport (requests, httpx or urllib3; see ``_clients_sync``) per
thread or process, so connections are kept alive between jobs. The pool behind it is sized
for what one thread can use at once and never blocks, so it is not a hidden cap.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

from . import _jobs
from ._clients_sync import SyncTransport, open_transport
from .base import Job, RequestRecord, Resource, Settings
from .classify import SAVE_ERROR
from .retry import backoff_delay, should_retry


def new_session(client: str | None = None) -> SyncTransport:
    """A transport for one thread or process: requests (the default), httpx or urllib3, each
    keeping its connection alive, with no pool cap and no automatic retries."""
    return open_transport(client or "requests")


@dataclass(slots=True)
class Client:
    """What one thread or process needs to run jobs: its transport and identity."""

    session: SyncTransport
    settings: Settings
    worker: str
    rng: random.Random = field(default_factory=random.Random)
    stop: threading.Event | None = None  # set on Ctrl-C: no new attempts, no backoff sleeps


def run_job(client: Client, job: Job, t_queued: float) -> list[RequestRecord]:
    """Every attempt of one job, the last one final. Never raises for a download problem."""
    records: list[RequestRecord] = []
    try:
        country = None
        if client.settings.metadata:
            body = _fetch_resource(client, job, "metadata", job.metadata_url, t_queued, records)
            if body is None:
                return _jobs.finish(records)
            country = _jobs.parse_country(body)
            t_queued = time.perf_counter()
        body = _fetch_resource(client, job, "flag", job.flag_url, t_queued, records)
        if body is not None:
            try:
                _jobs.post_process(body, job.cc, country, client.settings)
            except OSError:
                records[-1].outcome, records[-1].error_kind = "error", SAVE_ERROR
        return _jobs.finish(records)
    except Exception:
        _jobs.internal_error(job, records, t_queued, client.worker)
        return records


def _fetch_resource(
    client: Client,
    job: Job,
    resource: Resource,
    url: str,
    t_queued: float,
    records: list[RequestRecord],
) -> bytes | None:
    """Attempts until success, a final answer or no retries left; the body if it came back ok."""
    settings = client.settings
    attempt = 1
    while True:
        t_start = time.perf_counter()
        got = client.session.fetch(url, settings.timeout_s)
        rec = _jobs.record(
            job, resource, attempt, t_queued, t_start, time.perf_counter(), got, client.worker
        )
        records.append(rec)
        if rec.outcome == "ok":
            return got.body
        stopping = client.stop is not None and client.stop.is_set()
        if stopping or not should_retry(rec.outcome, attempt, settings.retries):
            return None
        delay = backoff_delay(
            attempt, settings.backoff_s, client.rng.random(), _jobs.retry_after_s(got)
        )
        if client.stop is not None:
            if client.stop.wait(delay):
                return None
        else:
            time.sleep(delay)
        t_queued = time.perf_counter()
        attempt += 1
