"""The server's configuration: one frozen, validated dataclass.

Validation lives here, once, so the CLI, `running()` and the admin API's
`PUT /_config` all refuse the same bad values with the same message.
"""

from __future__ import annotations

import dataclasses
import inspect
import ipaddress
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ._exceptions import ConfigError
from .decide import FaultRates
from .fault_kinds import FAULT_KINDS, RATE_FIELDS
from .images import MAX_PAYLOAD, MIN_PAYLOAD
from .latency import LatencyModel, parse_latency

MAX_TIMEOUT_HOLD_S = 300.0
MAX_INFLIGHT = 100_000
MAX_BANDWIDTH = 1_000_000_000
MIN_BANDWIDTH = 100
MAX_SEED = 2**63 - 1
MAX_RETRY_AFTER_S = 3600
MIN_HEADER_TIMEOUT_S = 0.05
MAX_HEADER_TIMEOUT_S = 3600.0
MAX_CONNECTIONS = 1_000_000
LOOPS = ("auto", "asyncio", "uvloop")
OVERFLOWS = ("queue", "reject")
# Fields that need a restart: they decide the socket, the loop or the data set.
FIXED_AT_START = ("host", "port", "loop", "allow_remote", "flags_zip")
_PREFIX = re.compile(r"^(/[A-Za-z0-9._~-]+)*$")


def is_loopback_host(host: str) -> bool:
    """True for `localhost` and loopback IP literals (127.0.0.0/8, ::1)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _number(name: str, value: Any, lo: float, hi: float, *, integer: bool = False) -> float:
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        what = "an integer" if integer else "a number"
        raise ConfigError(f"{name}={value!r} is not {what}; allowed: {lo:g}..{hi:g}")
    if not (math.isfinite(value) and lo <= value <= hi):
        raise ConfigError(f"{name}={value!r} is out of range; allowed: {lo:g}..{hi:g}")
    return value


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} is not allowed; choose one of: {', '.join(allowed)}")


def _with_rate_fields(after: str) -> Callable[[type], type]:
    """Declare one float field per fault kind's rate, right after the field `after`.

    It runs before @dataclass reads the annotations, so the rates are ordinary fields
    (keyword arguments, JSON keys, CLI dests) without being written out a second time.
    """

    def add(cls: type) -> type:
        own = inspect.get_annotations(cls)
        if after not in own:
            raise TypeError(f"{cls.__name__} has no field {after!r} to put the rates after")
        annotations: dict[str, Any] = {}
        for name, hint in own.items():
            annotations[name] = hint
            if name == after:
                annotations.update((rate, "float") for rate in RATE_FIELDS)
        cls.__annotations__ = annotations
        for rate in RATE_FIELDS:
            setattr(cls, rate, 0.0)
        return cls

    return add


@dataclass(frozen=True)
@_with_rate_fields(after="metadata_latency")
class ServerConfig:
    """Everything the flag server can be told; invalid values raise ConfigError.

    `latency` and `metadata_latency` are latency specs (see flags_server.latency);
    `metadata_latency=None` means the same as `latency`. Rates (one `*_rate`
    field per kind in flags_server.fault_kinds, 0 by default) are probabilities
    per request and their sum is at most 1 (a request gets at most one fault).
    `error_codes` are drawn evenly for HTTP errors (418 as the book's ERROR
    server); 429 and 503 carry `Retry-After: retry_after_s`. A timeout holds
    the request `timeout_hold_s` seconds; slow bodies go at `bandwidth_bps`
    bytes/s. `max_inflight` (None = unlimited) with `overflow` "queue" or
    "reject" (503) emulates a small server. A request head (or an admin body) that
    takes longer than `header_timeout_s` to arrive closes its connection;
    `max_connections` caps open connections (None: as many as the open-files
    limit leaves room for, see flags_server.guard). `payload_size` forces every image
    to that many bytes; `flags_zip` serves the book's real images instead.
    `port=0` binds a free port; a non-loopback `host` needs `allow_remote`.
    """

    host: str = "127.0.0.1"
    port: int = 0
    prefix: str = "/flags"
    seed: int = 0
    latency: str = "0"
    metadata_latency: str | None = None
    # here _with_rate_fields adds the fault rates, one float per kind in fault_kinds.py
    error_codes: tuple[int, ...] = (418,)
    timeout_hold_s: float = 30.0
    bandwidth_bps: int = 16_384
    retry_after_s: int = 1
    max_inflight: int | None = None
    overflow: str = "queue"
    header_timeout_s: float = 5.0
    max_connections: int | None = None
    payload_size: int | None = None
    flags_zip: str | None = None
    loop: str = "auto"
    allow_remote: bool = False
    access_log: bool = False
    _models: tuple[LatencyModel, LatencyModel] = field(
        init=False,
        repr=False,
        compare=False,
        default=None,  # type: ignore[assignment]
    )

    def __post_init__(self) -> None:
        if not isinstance(self.host, str) or not self.host:
            raise ConfigError(f"host={self.host!r} is not a host name or address")
        for name in ("allow_remote", "access_log"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name}={getattr(self, name)!r} is not true or false")
        if not self.allow_remote and not is_loopback_host(self.host):
            raise ConfigError(
                f"host={self.host!r} is not a loopback address; binding elsewhere exposes the "
                "server to the network and needs allow_remote (--allow-remote)"
            )
        _number("port", self.port, 0, 65535, integer=True)
        if (
            not isinstance(self.prefix, str)
            or not _PREFIX.match(self.prefix)
            or self.prefix.startswith("/_")
            or len(self.prefix) > 100
        ):
            raise ConfigError(
                f"prefix={self.prefix!r} is not allowed; use '' or a path such as /flags "
                "(segments of letters, digits, '.', '_', '~', '-'; not starting with /_)"
            )
        _number("seed", self.seed, 0, MAX_SEED, integer=True)
        for name in ("latency", "metadata_latency"):
            value = getattr(self, name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                object.__setattr__(self, name, repr(value))
        lat = self._latency_model("latency", self.latency)
        meta = (
            lat
            if self.metadata_latency is None
            else self._latency_model("metadata_latency", self.metadata_latency)
        )
        object.__setattr__(self, "_models", (lat, meta))
        for name in RATE_FIELDS:
            _number(name, getattr(self, name), 0.0, 1.0)
        total = sum(getattr(self, name) for name in RATE_FIELDS)
        if total > 1.0 + 1e-9:
            raise ConfigError(
                f"fault rates add up to {total:g} ({', '.join(RATE_FIELDS)}); "
                "allowed: a sum of at most 1"
            )
        self._check_codes()
        _number("timeout_hold_s", self.timeout_hold_s, 0.001, MAX_TIMEOUT_HOLD_S)
        _number("bandwidth_bps", self.bandwidth_bps, MIN_BANDWIDTH, MAX_BANDWIDTH, integer=True)
        _number("retry_after_s", self.retry_after_s, 0, MAX_RETRY_AFTER_S, integer=True)
        if self.max_inflight is not None:
            _number("max_inflight", self.max_inflight, 1, MAX_INFLIGHT, integer=True)
        _choice("overflow", self.overflow, OVERFLOWS)
        _number(
            "header_timeout_s", self.header_timeout_s, MIN_HEADER_TIMEOUT_S, MAX_HEADER_TIMEOUT_S
        )
        if self.max_connections is not None:
            _number("max_connections", self.max_connections, 1, MAX_CONNECTIONS, integer=True)
        if self.payload_size is not None:
            _number("payload_size", self.payload_size, MIN_PAYLOAD, MAX_PAYLOAD, integer=True)
        bad_zip = not isinstance(self.flags_zip, str) or not self.flags_zip
        if self.flags_zip is not None and bad_zip:
            raise ConfigError(f"flags_zip={self.flags_zip!r} is not a file path")
        _choice("loop", self.loop, LOOPS)

    @staticmethod
    def _latency_model(name: str, spec: Any) -> LatencyModel:
        try:
            return parse_latency(spec)
        except ConfigError as exc:
            raise ConfigError(f"{name}: {exc}") from None

    def _check_codes(self) -> None:
        codes = self.error_codes
        if isinstance(codes, list):
            codes = tuple(codes)
            object.__setattr__(self, "error_codes", codes)
        if (
            not isinstance(codes, tuple)
            or not 1 <= len(codes) <= 20
            or any(
                isinstance(c, bool) or not isinstance(c, int) or not 400 <= c <= 599 for c in codes
            )
        ):
            raise ConfigError(
                f"error_codes={codes!r} is not allowed; give 1 to 20 HTTP status codes "
                "in 400..599, such as 418,500,503,429"
            )

    @property
    def latency_model(self) -> LatencyModel:
        return self._models[0]

    @property
    def metadata_latency_model(self) -> LatencyModel:
        return self._models[1]

    @cached_property
    def fault_rates(self) -> FaultRates:
        return FaultRates(
            self.error_codes, **{kind.name: getattr(self, kind.rate_field) for kind in FAULT_KINDS}
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the init fields (error_codes as a list)."""
        out = {name: getattr(self, name) for name in CONFIG_FIELDS}
        out["error_codes"] = list(self.error_codes)
        return out

    @classmethod
    def from_dict(cls, data: Any) -> ServerConfig:
        """Build from a JSON object; unknown keys are an error, not silently ignored."""
        return cls().replace(**_checked_keys(data))

    def replace(self, **changes: Any) -> ServerConfig:
        """A validated copy with `changes` applied."""
        _checked_keys(changes)
        return dataclasses.replace(self, **changes)

    def runtime_update(self, data: Any) -> ServerConfig:
        """Apply a PUT /_config body: like replace(), but start-only fields are refused."""
        changes = _checked_keys(data)
        fixed = sorted(k for k in changes if k in FIXED_AT_START and changes[k] != getattr(self, k))
        if fixed:
            raise ConfigError(
                f"{', '.join(fixed)} cannot change while the server runs; "
                f"restart it instead (fixed at start: {', '.join(FIXED_AT_START)})"
            )
        return self.replace(**changes)


#: The names a configuration is given by (CLI option dests, JSON keys), in declaration order.
CONFIG_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(ServerConfig) if f.init)


def _checked_keys(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ConfigError(f"the configuration must be a JSON object, not {type(data).__name__}")
    unknown = sorted(set(data) - set(CONFIG_FIELDS))
    if unknown:
        raise ConfigError(
            f"unknown configuration field(s) {', '.join(map(repr, unknown))}; "
            f"known fields: {', '.join(CONFIG_FIELDS)}"
        )
    return dict(data)
