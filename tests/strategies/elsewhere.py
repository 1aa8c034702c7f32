"""Run one strategy in another interpreter: ``python elsewhere.py IN.pickle OUT.pickle``.

IN holds (name, "module:attribute", jobs, settings); ``start`` (if any) and ``run`` run as in
the worker; OUT gets the records, or the exception's
one line. The interpreter has the project on PYTHONPATH (bench._process.worker_env) and no
installed metadata, so the strategy is built from its reference, as the worker builds it.
"""

from __future__ import annotations

import pickle
import sys


def main(src: str, dst: str) -> None:
    import strategies

    with open(src, "rb") as f:
        name, reference, jobs, settings = pickle.load(f)
    try:
        strategy = strategies.from_ref(name, reference)
        start = getattr(strategy, "start", None)
        if start is not None:  # as the worker does, before its clock
            start(jobs, settings)
        out = strategy.run(jobs, settings)
    except Exception as exc:  # the caller asserts on it
        out = f"{type(exc).__name__}: {exc}"
    with open(dst, "wb") as f:
        pickle.dump(out, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
