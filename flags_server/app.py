"""The flag site: request dispatch, latency scheduling and faults.

It uses aiohttp's low-level `web.Server` with a hand-written dispatcher
instead of an Application and router: the site has five routes, and every
microsecond spent per request delays the answers queued behind it.
Each delay is scheduled from the request's arrival time (taken when its
bytes are read), not from when its handler starts, so a synchronized burst
of requests does not turn into a staircase of delays.
"""

from __future__ import annotations

import asyncio
import functools
import html
import logging
import time
from typing import Protocol, cast

from aiohttp import web

from .admin import handle_admin
from .capacity import Gate
from .config import ServerConfig
from .content import Content, build_content
from .decide import Decision, constant_decision, decide
from .faults import abort_with_rst, send_slow, send_truncated
from .guard import connection_cap
from .latency import LatencyModel
from .stats import Stats

GIF = "image/gif"
OUTCOME = "flagbench.outcome"  # request key: what a fault did, for the access log
access_log = logging.getLogger("flags_server.access")
JSON = "application/json"
# Parsed paths are cached; the bound keeps hostile clients from growing it.
ROUTE_CACHE_SIZE = 4096
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
#: The server's clock for arrivals, deadlines and delivered latency (listener.py stamps
#: arrivals with it too, so every difference is taken on one clock).
now = time.perf_counter


def parse_site_path(path: str, prefix: str) -> tuple[str, str | None]:
    """(route, lower-case code) for a request path.

    Routes: "flag", "metadata", "index", or "other" (answered 404). Codes are
    two ASCII letters in either case, the same in the folder and the file name.
    """
    if path == "/" or (prefix and path in (prefix, prefix + "/")):
        return "index", None
    head = prefix + "/"
    if not path.startswith(head):
        return "other", None
    parts = path[len(head) :].split("/")
    if len(parts) != 2:
        return "other", None
    cc, name = parts
    if len(cc) != 2 or not _LETTERS.issuperset(cc):
        return "other", None
    low = cc.lower()
    if name == "metadata.json":
        return "metadata", low
    if name.lower() == low + ".gif" and name[:2] == cc:
        return "flag", low
    return "other", None


class _Marked(Protocol):
    """What listener's per-connection protocol adds to aiohttp's (app cannot import it)."""

    handling: bool
    head_started: float


class FlagSite:
    """The running site's state: configuration, bodies, counters and the admission gate."""

    def __init__(self, config: ServerConfig, loop_name: str = "asyncio") -> None:
        self.config = config
        self.content: Content = build_content(config)
        self.stats = Stats()
        self.gate = Gate(config.max_inflight)
        self.max_connections = connection_cap(config.max_connections)
        self.attempts: dict[str, int] = {}
        self.loop_name = loop_name
        self.port = 0
        self._models: dict[str, LatencyModel] = {}
        self._routes: dict[str, tuple[str, str | None]] = {}
        self._constant: dict[str, Decision | None] = {}
        self._plan(config)
        self._index: bytes = self._render_index()

    # -- dispatch -------------------------------------------------------------
    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        """The aiohttp handler: dispatch, and write an access-log line when asked to."""
        protocol = cast("_Marked", request.protocol)  # listener._Protocol
        arrival = getattr(protocol, "arrival", 0.0) or now()
        # the request's body, if any, is the handler's to time (see guard.py)
        protocol.handling, protocol.head_started = True, 0.0
        try:
            if not self.config.access_log:
                return await self._dispatch(request, arrival)
            resp = await self._dispatch(request, arrival)
        finally:
            protocol.handling, protocol.head_started = False, 0.0
        outcome = request.get(OUTCOME) or str(resp.status)
        access_log.info(
            "%s %s %s %s %.3fs",
            request.remote,
            request.method,
            request.path_qs,
            outcome,
            now() - arrival,
        )
        return resp

    async def _dispatch(self, request: web.BaseRequest, arrival: float) -> web.StreamResponse:
        protocol = request.protocol
        path = request.path
        if path.startswith("/_"):
            self.stats.admin_requests += 1
            return await handle_admin(self, request, path)
        stats = self.stats
        if getattr(protocol, "generation", None) != stats.generation:
            protocol.generation = stats.generation  # type: ignore[attr-defined]
            stats.connections += 1
        if request.method not in ("GET", "HEAD"):
            stats.arrive("other")
            stats.answered(405)
            return web.Response(
                status=405, headers={"Allow": "GET, HEAD"}, text="405 method not allowed\n"
            )
        parsed = self._routes.get(path)
        if parsed is None:
            parsed = parse_site_path(path, self.config.prefix)
            if len(self._routes) < ROUTE_CACHE_SIZE:
                self._routes[path] = parsed
        route, cc = parsed
        if route == "index":
            stats.arrive("index")
            stats.answered(200, None, len(self._index))
            return web.Response(body=self._index, content_type="text/html", charset="utf-8")
        if route == "other":
            stats.arrive("other")
            stats.answered(404)
            return web.Response(status=404, text="404 not found\n")
        return await self.serve_resource(request, route, cc, arrival)  # type: ignore[arg-type]

    async def serve_resource(
        self, request: web.BaseRequest, route: str, cc: str, arrival: float
    ) -> web.StreamResponse:
        config, stats, gate = self.config, self.stats, self.gate
        loop = asyncio.get_running_loop()
        start = arrival
        stats.arrive(route)
        if not gate.try_enter():
            if config.overflow == "reject":
                stats.inject("rejected")
                stats.answered(503, now() - arrival)
                return web.Response(
                    status=503,
                    text="503 server busy\n",
                    headers={"Retry-After": str(config.retry_after_s)},
                )
            stats.queue_enter()
            try:
                await gate.enter()
            finally:
                stats.queue_leave()
            start = now()
        stats.enter()
        try:
            return await self._answer(request, route, cc, start, arrival, loop)
        finally:
            stats.leave()
            gate.leave()

    async def _answer(
        self,
        request: web.BaseRequest,
        route: str,
        cc: str,
        start: float,
        arrival: float,
        loop: asyncio.AbstractEventLoop,
    ) -> web.StreamResponse:
        config, stats = self.config, self.stats
        key = f"{cc}/{cc}.gif" if route == "flag" else f"{cc}/metadata.json"
        attempt = self.attempts.get(key, 0) + 1
        self.attempts[key] = attempt
        decision = self._constant[route] or decide(
            config.seed, key, attempt, self._models[route], config.fault_rates
        )
        closed = getattr(request.protocol, "closed", None)
        fault = decision.fault
        if fault is not None:
            stats.inject(fault)
        if fault == "timeout":
            if await _sleep_until(loop, start + config.timeout_hold_s, closed):
                abort_with_rst(request)
            request[OUTCOME] = "timeout (held, no response)"
            return web.Response()
        if not await _sleep_until(loop, start + decision.latency_s, closed):
            stats.abandoned += 1
            request[OUTCOME] = "abandoned (client left)"
            return web.Response()
        if fault == "reset":
            abort_with_rst(request)
            request[OUTCOME] = "reset (TCP RST)"
            return web.Response()
        try:
            return await self._respond(request, route, cc, decision, attempt, arrival)
        except ConnectionError:  # the client left while its answer was being written
            stats.abandoned += 1
            request[OUTCOME] = "abandoned (client left during the answer)"
            return web.Response()

    async def _respond(
        self,
        request: web.BaseRequest,
        route: str,
        cc: str,
        decision: Decision,
        attempt: int,
        arrival: float,
    ) -> web.StreamResponse:
        """Write the answer once the delay is over: an error, a 404, or the body."""
        config, stats, fault = self.config, self.stats, decision.fault
        if fault == "http_error":
            status = decision.status or 500
            headers = _trace_headers(attempt, decision)
            if status in (429, 503):
                headers["Retry-After"] = str(config.retry_after_s)
            resp = web.Response(status=status, headers=headers, text=f"{status} injected error\n")
            await _send(request, resp)
            stats.answered(status, now() - arrival)
            request[OUTCOME] = f"{status} (injected)"
            return resp
        table = self.content.images if route == "flag" else self.content.metadata
        body = table.get(cc)
        if body is None:
            resp = web.Response(status=404, text="404 not found\n")
            await _send(request, resp)
            stats.answered(404, now() - arrival)
            return resp
        content_type = GIF if route == "flag" else JSON
        if fault == "truncate":
            sent = await send_truncated(request, body, content_type, decision.keep_fraction)
            stats.answered(200, now() - arrival, sent)
            request[OUTCOME] = f"200 truncated ({sent} of {len(body)} bytes)"
            return web.Response()
        if fault == "slow":
            slow = await send_slow(request, body, content_type, config.bandwidth_bps)
            stats.answered(200, now() - arrival, len(body))
            request[OUTCOME] = f"200 slow ({config.bandwidth_bps} B/s)"
            return slow
        headers = {"Content-Type": content_type, **_trace_headers(attempt, decision)}
        resp = web.Response(body=body, headers=headers)
        await _send(request, resp)
        stats.answered(200, now() - arrival, len(body))
        return resp

    def _plan(self, config: ServerConfig) -> None:
        """Per-route latency models and, when nothing is random, the constant decision."""
        self._models = {"flag": config.latency_model, "metadata": config.metadata_latency_model}
        self._constant = {
            route: constant_decision(model, config.fault_rates)
            for route, model in self._models.items()
        }

    def apply(self, new: ServerConfig) -> None:
        """Switch to a new configuration (rebuilding bodies only when they change)."""
        if (new.payload_size, new.flags_zip) != (self.config.payload_size, self.config.flags_zip):
            self.content = build_content(new)
        self._plan(new)
        self._routes = {}
        self.config = new
        self.gate.resize(new.max_inflight)
        self.max_connections = connection_cap(new.max_connections)
        self._index = self._render_index()

    def reset(self) -> None:
        """Zero the counters and the per-path attempt numbers (decisions start over)."""
        self.stats.reset()
        self.attempts.clear()

    def _render_index(self) -> bytes:
        prefix = html.escape(self.config.prefix)
        links = " ".join(f'<a href="{prefix}/{cc}/{cc}.gif">{cc}</a>' for cc in self.content.codes)
        c = self.config
        text = (
            "<!doctype html><html><head><meta charset='utf-8'><title>flags_server</title></head>"
            "<body><h1>flagbench flag server</h1>"
            f"<p>{len(self.content.images)} flags at <code>{prefix}/{{cc}}/{{cc}}.gif</code> and "
            f"<code>{prefix}/{{cc}}/metadata.json</code> "
            f"({html.escape(self.content.source)} images). "
            f"Latency {html.escape(c.latency)}, seed {c.seed}, error rate {c.fault_rates['http_error']:g}.</p>"
            "<p>Admin (loopback only): <a href='/_health'>/_health</a>, "
            "<a href='/_stats'>/_stats</a>, <a href='/_config'>/_config</a>.</p>"
            f"<p>{links}</p></body></html>"
        )
        return text.encode()


def _trace_headers(attempt: int, decision: Decision) -> dict[str, str]:
    """Which attempt of the path this was and the delay drawn for it, so a client (or a test)
    can check an answer against decide() without asking the server."""
    return {"X-Flagbench-Attempt": str(attempt), "X-Flagbench-Delay": f"{decision.latency_s:.6f}"}


async def _send(request: web.BaseRequest, resp: web.StreamResponse) -> None:
    """Write the response now, so the delivered latency counted includes the write.

    aiohttp then finds it prepared and finished, and does not send it again.
    """
    await resp.prepare(request)
    await resp.write_eof()


def _release(waiter: asyncio.Future[None], *_: object) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def _sleep_until(
    loop: asyncio.AbstractEventLoop, deadline: float, closed: asyncio.Future[None] | None
) -> bool:
    """Sleep until `deadline` (perf_counter seconds); False if the client left first.

    A request whose client has gone is no longer in flight: stopping then keeps
    `inflight` equal to what clients are waiting for. uvloop's timers count in
    whole milliseconds from a cached clock, so one sleep can end a little
    before the deadline: sleep again for the rest, never answering early.
    """
    delay = deadline - now()
    while delay > 0:
        if closed is None:
            await asyncio.sleep(delay)
        else:
            if closed.done():
                return False
            waiter = loop.create_future()
            timer = loop.call_later(delay, _release, waiter)
            wake = functools.partial(_release, waiter)
            closed.add_done_callback(wake)
            try:
                await waiter
            finally:
                timer.cancel()
                closed.remove_done_callback(wake)
        delay = deadline - now()
    return closed is None or not closed.done()
