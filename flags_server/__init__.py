"""flags_server: a local flag site whose latency and faults are under control.

from flags_server import ServerConfig, running
with running(ServerConfig(seed=7, latency="100ms")) as srv:
    srv.flags_url   # the book's BASE_URL, e.g. http://127.0.0.1:PORT/flags

AdminClient("http://127.0.0.1:8001").stats()   # a server started elsewhere
"""

from ._exceptions import AdminError, ConfigError, FlagsServerError, ServerStartError
from .client import AdminClient
from .config import ServerConfig
from .control import RunningServer, running
from .fault_kinds import FAULT_KINDS, RATE_FIELDS, FaultKind
from .latency import LatencyModel, parse_latency

__all__ = [
    "FAULT_KINDS",
    "RATE_FIELDS",
    "AdminClient",
    "AdminError",
    "ConfigError",
    "FaultKind",
    "FlagsServerError",
    "LatencyModel",
    "RunningServer",
    "ServerConfig",
    "ServerStartError",
    "parse_latency",
    "running",
]
