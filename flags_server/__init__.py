"""flags_server: a local flag site whose latency and faults are under control.

    from flags_server import ServerConfig, running
    with running(ServerConfig(seed=7, latency="100ms")) as srv:
        srv.flags_url   # the book's BASE_URL, e.g. http://127.0.0.1:PORT/flags
"""

from ._exceptions import ConfigError
from .config import ServerConfig
from .control import RunningServer, ServerStartError, running
from .fault_kinds import FAULT_KINDS, RATE_FIELDS, FaultKind
from .latency import LatencyModel, parse_latency

__all__ = [
    "FAULT_KINDS",
    "RATE_FIELDS",
    "ConfigError",
    "FaultKind",
    "LatencyModel",
    "RunningServer",
    "ServerConfig",
    "ServerStartError",
    "parse_latency",
    "running",
]
