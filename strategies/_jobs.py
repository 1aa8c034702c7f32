"""Pieces every strategy shares when it turns one job into records.

The control flow of a job (metadata first, then the flag, retries, then the blocking
post-processing) is written once for blocking code (``_sync``) and once for coroutines
(``_aio``); what both need without change lives here.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

from . import cpu
from .base import Job, Progress, RequestRecord, Resource, Settings
from .classify import CANCELLED, INTERNAL_ERROR, classify
from .retry import parse_retry_after
from .save import flag_filename, save_flag

_GIF_MAGIC = (b"GIF87a", b"GIF89a")


@dataclass(slots=True)
class Fetched:
    """What one HTTP attempt produced, before classification."""

    status: int | None = None
    body: bytes = b""
    nbytes: int = 0
    content_length: int | None = None
    retry_after: str | None = None
    exc: BaseException | None = None
    client: str = ""  # the library that made the attempt


def body_ok(resource: Resource, body: bytes) -> bool:
    """A flag must be a GIF; metadata must be a JSON object naming the country."""
    if resource == "flag":
        return body.startswith(_GIF_MAGIC)
    return parse_country(body) is not None


def parse_country(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    country = data.get("country") if isinstance(data, dict) else None
    return country if isinstance(country, str) and country else None


def content_length(value: str | int | None, encoding: str | None = None) -> int | None:
    """The announced body size to compare with the bytes counted, or None when there is none.

    Both clients count the body after decoding, while a ``Content-Encoding`` (gzip from a
    real web server, say) makes Content-Length the encoded size: comparing the two would
    call every compressed answer a bad body. The libraries check the encoded length
    themselves, so a short compressed body is still caught.
    """
    if value is None or (encoding or "identity").strip().lower() != "identity":
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if n >= 0 else None


def record(
    job: Job,
    resource: Resource,
    attempt: int,
    t_queued: float,
    t_start: float,
    t_end: float,
    got: Fetched,
    worker: str,
) -> RequestRecord:
    """The record of one attempt, classified by the one shared function."""
    checked = got.exc is None and got.status == 200
    outcome, kind = classify(
        got.status,
        got.exc,
        nbytes=got.nbytes,
        content_length=got.content_length,
        body_ok=body_ok(resource, got.body) if checked else True,
    )
    return RequestRecord(
        job.cc,
        resource,
        attempt,
        t_queued,
        t_start,
        t_end,
        got.status,
        outcome,
        kind,
        got.nbytes,
        worker,
        final=False,
        client=got.client,
    )


def retry_after_s(got: Fetched) -> float | None:
    return parse_retry_after(got.retry_after) if got.status in (429, 503) else None


def post_process(body: bytes, cc: str, country: str | None, settings: Settings) -> None:
    """The blocking part of a job: CPU work, then the atomic save. A module-level function of
    picklable arguments, so a process-pool executor can run it in a child."""
    cpu.burn(settings.cpu_work)
    if settings.save_dir is not None:
        save_flag(body, settings.save_dir, flag_filename(cc, country), settings.save_delay_s)


def finish(records: list[RequestRecord]) -> list[RequestRecord]:
    """Mark the job's last record as the one that decides its outcome."""
    records[-1].final = True
    return records


def bookkeeping(job: Job, kind: str, t_queued: float, worker: str) -> RequestRecord:
    """A final record for a job that has no deciding attempt (attempt 0: nothing was sent)."""
    now = time.perf_counter()
    return RequestRecord(job.cc, "flag", 0, t_queued, now, now, None, "error", kind, 0, worker)


def internal_error(job: Job, records: list[RequestRecord], t_queued: float, worker: str) -> None:
    """A bug in the strategy itself still ends the job, visibly, instead of escaping ``run``."""
    records.append(bookkeeping(job, INTERNAL_ERROR, t_queued, worker))
    for rec in records[:-1]:
        rec.final = False


def prepare(settings: Settings) -> None:
    """Work done once per run, before any job: make sure the save directory exists."""
    if settings.save_dir is not None:
        os.makedirs(settings.save_dir, exist_ok=True)


def begin(jobs: Sequence[Job], settings: Settings, progress: Progress | None) -> Ledger:
    """Every strategy's first step: the clock's zero (each job is queued at it), the ledger
    that accounts for every job, and the run's preparation."""
    ledger = Ledger(jobs, time.perf_counter(), progress)
    prepare(settings)
    return ledger


class Ledger:
    """Collects each job's records exactly once, so no job is counted twice or dropped.

    Only the thread that consumes results touches it, so it needs no lock; ``close`` gives
    jobs that never finished (Ctrl-C) a ``cancelled`` record, keeping
    ok + not_found + error == number of jobs.
    """

    def __init__(self, jobs: Sequence[Job], t_queued: float, progress: Progress | None) -> None:
        self.jobs = jobs
        self.t_queued = t_queued
        self.progress = progress
        self.records: list[RequestRecord] = []
        self._done = bytearray(len(jobs))

    def add(self, index: int, records: list[RequestRecord], delivered: bool = True) -> None:
        """Take the job's records as its result reaches the caller (stamped ``t_delivered``
        now), or, with ``delivered=False``, a job whose result never did (cancelled)."""
        if self._done[index]:
            return
        self._done[index] = 1
        if delivered:
            now = time.perf_counter()
            for rec in records:
                rec.t_delivered = now
        self.records.extend(records)
        if self.progress is not None:
            self.progress(records[-1])

    def close(self) -> list[RequestRecord]:
        worker = f"{os.getpid()}/cancelled"
        for index, job in enumerate(self.jobs):
            if not self._done[index]:
                self._done[index] = 1
                self.records.append(bookkeeping(job, CANCELLED, self.t_queued, worker))
        return self.records
