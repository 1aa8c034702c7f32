"""``python -m bench.soak``: run the soak's checks and print one table (see bench/soak/__init__.py).

Exit status 0 when every check held, 1 otherwise. ``--quick`` runs each check small, to see
that the soak works; the figures for the README come from a full run.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable

from bench.define.spec import Suite
from bench.define.workload import Workload
from bench.run.checks import raise_open_files_limit
from bench.soak import bounded, inputs, load, stops
from bench.soak.table import Row, markdown


def checks(quick: bool) -> dict[str, Callable[[], Row]]:
    """Every check by name, in the order the table lists them."""
    scale = 50 if quick else 1
    asyncio_load = load.Load("asyncio", 100_000 // scale, 1000 // scale)
    threadpool_load = load.Load("threadpool", 20_000 // scale, 200 // scale)
    out: dict[str, Callable[[], Row]] = {
        "load-asyncio": lambda: load.hold(asyncio_load),
        "load-threadpool": lambda: load.hold(threadpool_load),
    }
    for stop in stops.STOPS:
        jobs, concurrency = (40, 10) if quick else (200, 20)
        out[stop.name.replace(" ", "-").lower()] = functools.partial(
            stops.survive, stop, jobs, concurrency
        )
    out["big-import"] = bounded.big_import
    out["compare-exits"] = bounded.compare_exits
    out["http-inputs"] = inputs.http_inputs
    out["slowloris"] = lambda: inputs.slowloris(300 if quick else 3000)
    out["cli-inputs"] = inputs.cli_inputs
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="every check, small (a minute or two)")
    parser.add_argument(
        "--only", nargs="+", metavar="CHECK", help=f"only these checks: {', '.join(checks(False))}"
    )
    args = parser.parse_args(argv)
    available = checks(args.quick)
    chosen = args.only or list(available)
    unknown = [name for name in chosen if name not in available]
    if unknown:
        parser.error(f"unknown check {unknown[0]!r}; choose from: {', '.join(available)}")
    # the runs below need as many descriptors as C = 1,000 does
    raise_open_files_limit(
        Suite("soak", ("asyncio",), (Workload(concurrency=1000),)),
        lambda message: print(f"soak: warning: {message}", file=sys.stderr),
    )
    rows = []
    started = time.monotonic()
    for name in chosen:
        print(f"soak: {name} ...", file=sys.stderr, flush=True)
        row = available[name]()
        print(
            f"soak: {name}: {'ok' if row.passed else 'FAILED'} ({row.seconds:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
        rows.append(row)
    print(markdown(rows))
    failed = [r.check for r in rows if not r.passed]
    print(
        f"\n{len(rows) - len(failed)} of {len(rows)} checks held in "
        f"{time.monotonic() - started:.0f} s" + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
