"""A job with requests: shared by the sequential, thread-pool and process-pool strategies.

Each caller owns one ``requests.Session`` per thread or process (a Session is not
thread-safe) so connections are kept alive between jobs. The pool behind the Session is
sized for what one thread can use at once and never blocks, so it is not a hidden cap.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import requests
from requests.adapters import HTTPAdapter

from . import _jobs
from ._exceptions import DeadlineExceeded
from ._jobs import Fetched
from .base import Job, RequestRecord, Resource, Settings
from .classify import SAVE_ERROR
from .retry import backoff_delay, should_retry

CHUNK_BYTES = 8192  # old urllib3: the total deadline is checked between chunks this big
READ1_BYTES = 1 << 20


def new_session() -> requests.Session:
    """A Session for one thread: one kept-alive connection per host, more opened rather than
    blocking if it is ever busy (so the pool is never a hidden cap); no automatic retries."""
    session = requests.Session()
    # Talk to the server directly, as aiohttp does by default: no proxy or .netrc from the
    # environment (a proxy would change what is measured and send loopback traffic away).
    session.trust_env = False
    adapter = HTTPAdapter(
        pool_connections=1, pool_maxsize=1, pool_block=False, max_retries=0
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


@dataclass(slots=True)
class Client:
    """What one thread or process needs to run jobs: its Session and identity."""

    session: requests.Session
    settings: Settings
    worker: str
    rng: random.Random = field(default_factory=random.Random)
    stop: threading.Event | None = None  # set on Ctrl-C: no new attempts, no backoff sleeps


def fetch(session: requests.Session, url: str, timeout_s: float) -> Fetched:
    """One GET with a total time budget; never raises."""
    got = Fetched()
    deadline = time.perf_counter() + timeout_s
    try:
        with session.get(url, timeout=timeout_s, stream=True) as resp:
            got.status = resp.status_code
            got.content_length = _jobs.content_length(resp.headers.get("Content-Length"),
                                                      resp.headers.get("Content-Encoding"))
            got.retry_after = resp.headers.get("Retry-After")
            parts = []
            for chunk in _body_chunks(resp):
                parts.append(chunk)
                got.nbytes += len(chunk)
                if time.perf_counter() > deadline:
                    raise DeadlineExceeded(f"body still arriving after {timeout_s} s")
            got.body = b"".join(parts)
    except Exception as exc:
        got.exc = exc
    return got


def _body_chunks(resp: requests.Response) -> Iterator[bytes]:
    """The body as it arrives. urllib3 >= 2 has ``read1``, which returns whatever one socket
    read brings, so the deadline is checked after every arrival (a trickle cannot hold a
    request past its budget) and a loopback body usually comes in one call. Older urllib3
    falls back to requests' fixed-size chunks, checked between chunks."""
    read1 = getattr(resp.raw, "read1", None)
    if read1 is None:
        yield from resp.iter_content(CHUNK_BYTES)
        return
    while True:
        chunk = read1(READ1_BYTES, decode_content=True)
        if not chunk:
            return
        yield chunk


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
        got = fetch(client.session, url, settings.timeout_s)
        rec = _jobs.record(job, resource, attempt, t_queued, t_start, time.perf_counter(), got,
                           client.worker)
        records.append(rec)
        if rec.outcome == "ok":
            return got.body
        stopping = client.stop is not None and client.stop.is_set()
        if stopping or not should_retry(rec.outcome, attempt, settings.retries):
            return None
        delay = backoff_delay(attempt, settings.backoff_s, client.rng.random(),
                              _jobs.retry_after_s(got))
        if client.stop is not None:
            if client.stop.wait(delay):
                return None
        else:
            time.sleep(delay)
        t_queued = time.perf_counter()
        attempt += 1
