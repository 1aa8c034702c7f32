"""``flagbench serve``: the flag server alone, as ``flags-server`` runs it."""

from __future__ import annotations

import argparse

from bench.cli.common import Parser, add_command
from flags_server.cli import add_server_options, serve_from_args

EXAMPLES = """examples:
  flagbench serve --port 8001 --latency 0.5        # the book's DELAY server
  flagbench serve --port 8002 --latency uniform:0.5..5 --error-rate 0.25    # its ERROR server"""


def add(sub: argparse._SubParsersAction[Parser]) -> None:
    serve = add_command(
        sub,
        "serve",
        "run the flag server (same options as flags-server)",
        "Run the flag server alone, with the latency and faults you choose, until "
        "Ctrl-C (the same server as flags-server; see docs/server.md).",
        EXAMPLES,
    )
    add_server_options(serve)


def command(args: argparse.Namespace) -> int:
    return serve_from_args(args)
