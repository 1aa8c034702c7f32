"""The `flags-server` command (also `python -m flags_server` and `flagbench serve`).

`add_server_options` and `config_from_args` are public so the bench CLI
mounts exactly the same options; every bad value ends as one line on
stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import logging
import sys
from importlib import metadata
from typing import Any, NoReturn

from ._exceptions import ConfigError
from .config import CONFIG_FIELDS, LOOPS, OVERFLOWS, ServerConfig, is_loopback_host
from .fault_kinds import FAULT_KINDS
from .latency import FORMS

DEFAULT_PORT = 8001


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the full usage stays in --help)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _codes(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of HTTP codes such as 418,500,503,429"
        ) from None


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """Add every server option to `parser` (shared by flags-server and flagbench serve)."""
    site = parser.add_argument_group("site")
    site.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1; others need --allow-remote)",
    )
    site.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}, the book's DELAY server; 0 = any free port)",
    )
    site.add_argument("--prefix", default="/flags", help="URL prefix of the flags (default /flags)")
    site.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow binding a non-loopback address (exposes the server)",
    )
    site.add_argument(
        "--payload-size",
        type=int,
        default=None,
        metavar="BYTES",
        help="serve every image with exactly this many bytes (128..10000000)",
    )
    site.add_argument(
        "--flags-zip",
        default=None,
        metavar="PATH",
        help="serve the real images from the book's flags.zip",
    )
    site.add_argument(
        "--loop",
        choices=LOOPS,
        default="auto",
        help="event loop (default auto: uvloop when installed)",
    )
    site.add_argument(
        "--access-log",
        action="store_true",
        help="print a line per request on stderr (client, path, outcome, time)",
    )
    timing = parser.add_argument_group("latency and faults")
    timing.add_argument("--seed", type=int, default=0, help="seed of all decisions (default 0)")
    timing.add_argument(
        "--latency", default="0", metavar="SPEC", help=f"image latency; forms: {FORMS}"
    )
    timing.add_argument(
        "--metadata-latency",
        default=None,
        metavar="SPEC",
        help="metadata.json latency (default: same as --latency)",
    )
    for kind in FAULT_KINDS:  # dest = the rate field, like every other option
        does = kind.does.replace("%", "%%")  # argparse formats help with %
        timing.add_argument(
            kind.option,
            type=float,
            default=0.0,
            metavar="P",
            help=f"share of requests for which the server {does}",
        )
    timing.add_argument(
        "--error-codes",
        type=_codes,
        default=(418,),
        metavar="CODES",
        help="comma-separated codes for HTTP errors (default 418; 429/503 carry Retry-After)",
    )
    timing.add_argument(
        "--retry-after",
        type=int,
        default=1,
        metavar="S",
        dest="retry_after_s",
        help="Retry-After seconds on 429 and 503 (default 1)",
    )
    timing.add_argument(
        "--timeout-hold",
        type=float,
        default=30.0,
        metavar="S",
        dest="timeout_hold_s",
        help="how long a timeout holds (default 30 s, max 300)",
    )
    timing.add_argument(
        "--bandwidth",
        type=int,
        default=16_384,
        metavar="BPS",
        dest="bandwidth_bps",
        help="bytes/s of slow bodies (default 16384)",
    )
    timing.add_argument(
        "--max-inflight",
        type=int,
        default=None,
        metavar="N",
        help="at most N requests served at once (default unlimited)",
    )
    timing.add_argument(
        "--overflow",
        choices=OVERFLOWS,
        default="queue",
        help="beyond --max-inflight: queue (default) or reject with 503",
    )
    guard = parser.add_argument_group("protection")
    guard.add_argument(
        "--header-timeout",
        type=float,
        default=5.0,
        metavar="S",
        dest="header_timeout_s",
        help="close a connection whose request head (or admin body) takes longer "
        "than S seconds to arrive (default 5)",
    )
    guard.add_argument(
        "--max-connections",
        type=int,
        default=None,
        metavar="N",
        help="at most N open connections; more are closed at once (default: what "
        "the open-files limit leaves room for)",
    )
    parser.add_argument("--config-json", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--parent-pid", type=int, default=None, help=argparse.SUPPRESS)


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    """The validated ServerConfig for parsed options; raises ConfigError."""
    if getattr(args, "config_json", None):
        try:
            data = json.loads(args.config_json)
        except ValueError as exc:
            raise ConfigError(f"--config-json is not valid JSON: {exc}") from None
        return ServerConfig.from_dict(data)
    # Every option's dest is a ServerConfig field name, so a new field needs only its option.
    return ServerConfig(**{name: getattr(args, name) for name in CONFIG_FIELDS})


def build_parser(prog: str = "flags-server") -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog=prog,
        description="A local flag site with controlled latency and faults, for benchmarks "
        "and the Fluent Python flag-download scripts.",
    )
    add_server_options(parser)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    return parser


def _version() -> str:
    try:
        return metadata.version("flagbench")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def run(config: ServerConfig, prog: str = "flags-server", parent_pid: int | None = None) -> int:
    """Serve `config` until Ctrl-C; one line and exit 2 on a bad value or a taken port."""
    # deferred: the server's aiohttp loads only to serve, not for --help
    from .serve import serve_forever

    access = logging.getLogger("flags_server.access")
    if not access.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        access.addHandler(handler)
        access.setLevel(logging.INFO)
        access.propagate = False

    if not is_loopback_host(config.host):
        print(
            f"{prog}: warning: binding {config.host}, reachable from the network; "
            "do not leave it running",
            file=sys.stderr,
        )

    def announce(runner: Any) -> None:
        port = runner.site.port
        host = config.host if ":" not in config.host else f"[{config.host}]"
        base = f"http://{host}:{port}"
        print(
            f"Serving flags at {base}{config.prefix} (site {base}/, stats {base}/_stats, "
            f"{runner.site.loop_name} loop); Ctrl-C to stop",
            flush=True,
        )

    try:
        serve_forever(config, announce, parent_pid)
    except ConfigError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE or "address already in use" in str(exc).lower():
            print(
                f"{prog}: error: port {config.port} on {config.host} is already in use; "
                "choose another with --port (0 picks a free one)",
                file=sys.stderr,
            )
        else:
            print(
                f"{prog}: error: cannot listen on {config.host}:{config.port}: {exc}",
                file=sys.stderr,
            )
        return 2
    with contextlib.suppress(OSError):  # stdout may be a pipe nobody reads any more
        print("Stopped.", flush=True)
    return 0


def serve_from_args(args: argparse.Namespace, prog: str = "flagbench serve") -> int:
    """Validate parsed options and serve; the exit status (2 = bad value or port taken)."""
    try:
        config = config_from_args(args)
    except ConfigError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    return run(config, prog, getattr(args, "parent_pid", None))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    return serve_from_args(parser.parse_args(argv), parser.prog)
