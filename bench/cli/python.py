"""``flagbench python install VERSION``: a CPython (free-threaded with a "t") built once."""

from __future__ import annotations

import argparse

from bench.cli.common import Parser, add_command
from bench.define.pybuild import install

EXAMPLES = """examples:
  flagbench python install 3.13t     # the free-threaded build of 3.13, built once, cached
  flagbench python install 3.13      # the GIL build of the same release, to compare
  flagbench suite free-threading     # both, and this Python, side by side"""


def add(sub: argparse._SubParsersAction[Parser]) -> None:
    parser = add_command(
        sub,
        "python",
        "build a CPython (a free-threaded one too) for the python axis",
        "Build CPython from its source (a cached tarball, else Debian's source package "
        "through apt) into flagbench's cache, once; --python VERSION then finds it.",
        EXAMPLES,
    )
    actions = parser.add_subparsers(dest="python_command", required=True, parser_class=Parser)
    installing = actions.add_parser(
        "install",
        help="build and install one version (reused when already built)",
        description="Build VERSION (3.13, 3.13t, 3.13.5t) once into the cache folder "
        "(FLAGBENCH_PYTHONS_DIR, else ~/.cache/flagbench/pythons); print its executable.",
    )
    installing.add_argument("version", metavar="VERSION")


def command(args: argparse.Namespace) -> int:
    print(install(args.version, lambda line: print(line, flush=True)))
    return 0
