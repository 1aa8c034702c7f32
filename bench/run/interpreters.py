"""Ask an interpreter what it is, in one short subprocess, before trusting it with a trial.

The answer decides whether flagbench supports it (``requires-python``), whether it needs a
venv of its own (an interpreter that already is a virtual environment is used as it is), what
its venv is keyed by, which requirement markers apply to it, and what ``meta.json`` says of it.
The probe is written to run on any Python, even 2.7, so that an old interpreter gets a clear
"too old" rather than a syntax error.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import strategies
from bench._exceptions import SpecError
from bench._subprocess import run_captured
from bench.run.process import worker_env

PROBE_TIMEOUT_S = 60

# Runs under ``-E -s`` (no PYTHONPATH, no user site; 2.7 has no ``-I``): the interpreter alone.
# The PEP 508 marker environment is built as ``packaging.markers.default_environment`` does.
_PROBE = r"""
import json, os, platform, sys, sysconfig
def full(info):
    v = '%d.%d.%d' % (info[0], info[1], info[2])
    if info[3] != 'final':
        v += info[3][0] + str(info[4])
    return v
impl = getattr(sys, 'implementation', None)
try:
    import multiprocessing
    start = multiprocessing.get_start_method()
except Exception:
    start = None
gil = getattr(sys, '_is_gil_enabled', None)
print(json.dumps({
    'executable': sys.executable,
    'real_executable': os.path.realpath(sys.executable),
    'version': platform.python_version(),
    'implementation': platform.python_implementation(),
    'free_threaded': bool(sysconfig.get_config_var('Py_GIL_DISABLED')),
    'gil_enabled': gil() if gil is not None else True,
    'is_venv': sys.prefix != getattr(sys, 'base_prefix', sys.prefix),
    'prefix': sys.prefix,
    'default_start_method': start,
    'markers': {
        'implementation_name': impl.name if impl else 'cpython',
        'implementation_version': full(impl.version) if impl else '0',
        'os_name': os.name,
        'platform_machine': platform.machine(),
        'platform_release': platform.release(),
        'platform_system': platform.system(),
        'platform_version': platform.version(),
        'python_full_version': platform.python_version(),
        'platform_python_implementation': platform.python_implementation(),
        'python_version': '.'.join(platform.python_version_tuple()[:2]),
        'sys_platform': sys.platform,
    },
}))
"""


@dataclass(frozen=True)
class Interpreter:
    """One interpreter as it answered the probe (``executable`` is the path it was run as)."""

    executable: str
    real_executable: str  # symlinks resolved: what a venv made from it is keyed by
    version: str  # "3.13.0"
    implementation: str  # "CPython", "PyPy"
    free_threaded: bool  # built with Py_GIL_DISABLED ("3.13t")
    gil_enabled: bool  # at start-up, before any extension module could turn it back on
    is_venv: bool
    prefix: str
    default_start_method: str | None  # multiprocessing's default there ("fork", "forkserver")
    markers: dict[str, str]

    @property
    def label(self) -> str:
        """The version, with a "t" for a free-threaded build as the CPython docs write it."""
        return self.version + ("t" if self.free_threaded else "")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def last_words(proc: subprocess.CompletedProcess[str]) -> str:
    """What a helper said last: its last line of stderr, else of stdout (a script that is
    not Python may print there), else "no output", which is then true."""
    for stream in (proc.stderr, proc.stdout):
        lines = (stream or "").strip().splitlines()
        if lines:
            return lines[-1]
    return "no output"


def probe(executable: str, where: str) -> Interpreter:
    """What ``executable`` is; ``where`` names it in the one-line error if it cannot say."""
    try:
        proc = run_captured([executable, "-E", "-s", "-c", _PROBE], timeout=PROBE_TIMEOUT_S)
    except OSError as exc:
        raise SpecError(f"{where}: cannot run {executable} ({exc.strerror})") from None
    except TimeoutError:
        raise SpecError(
            f"{where}: {executable} did not answer within {PROBE_TIMEOUT_S} s"
        ) from None
    try:
        data = json.loads(proc.stdout.strip().splitlines()[-1])
        fields = {f.name for f in dataclasses.fields(Interpreter)}
        return Interpreter(**{k: v for k, v in data.items() if k in fields})
    except (IndexError, ValueError, TypeError):
        last = last_words(proc)
        raise SpecError(
            f"{where}: {executable} is not a Python flagbench can ask about itself ({last})"
        ) from None


# Runs with the worker's environment (the project on PYTHONPATH): each strategy is built from
# its reference ("module:attribute"), as the worker will build it, with no installed metadata.
_WORKER_CHECK = r"""
import json, re, sys, warnings
from importlib import metadata
with warnings.catch_warnings(record=True) as heard:
    warnings.simplefilter("always")
    import bench.run.worker, strategies
    asked = json.loads(sys.argv[1])
    unavailable = {}
    for name, reference in asked["strategies"].items():
        why = getattr(strategies.from_ref(name, reference), "unavailable", lambda: "")()
        if why:
            unavailable[name] = why
    # each package's modules too: a client a strategy imports as it runs can enable the GIL
    wanted = {n.lower().replace("_", "-") for n in asked["packages"]}
    for module, dists in metadata.packages_distributions().items():
        if wanted & {d.lower().replace("_", "-") for d in dists} and module.isidentifier():
            try:
                __import__(module)
            except Exception:
                pass
def version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
named = [re.search(r"enabled to load module '([^']+)'", str(w.message)) for w in heard]
gil = getattr(sys, "_is_gil_enabled", None)
print(json.dumps({"packages": {name: version(name) for name in asked["packages"]},
                  "gil_enabled": gil() if gil is not None else True,
                  "gil_enabled_by": list(dict.fromkeys(m.group(1) for m in named if m)),
                  "unavailable": unavailable}))
"""


@dataclass(frozen=True)
class WorkerCheck:
    """Whether an interpreter can run the worker, and what it runs it with."""

    error: str  # its last line of stderr; "" when the worker's imports all succeeded
    packages: dict[str, str | None] = dataclasses.field(default_factory=dict)
    gil_enabled: bool | None = None  # after those imports: an extension can turn the GIL on
    gil_enabled_by: tuple[str, ...] = ()  # the modules that did (their warning names them)
    # strategies that cannot run there, with the reason (``unavailable()``, e.g. no
    # InterpreterPoolExecutor): suites skip them on that interpreter
    unavailable: dict[str, str] = dataclasses.field(default_factory=dict)


def check_worker(
    executable: str, package_names: list[str], strategy_names: Sequence[str] | None = None
) -> WorkerCheck:
    """Import what the worker imports, in ``executable``, as a trial will run it: the named
    strategies (default: the built-ins), and report the packages' versions."""

    names = strategies.builtin_names() if strategy_names is None else strategy_names
    asked = {"strategies": {n: strategies.ref(n) for n in names}, "packages": package_names}
    try:
        proc = run_captured(
            [executable, "-c", _WORKER_CHECK, json.dumps(asked)],
            timeout=PROBE_TIMEOUT_S,
            env=worker_env(),
        )
    except (OSError, TimeoutError) as exc:
        return WorkerCheck(str(exc))
    if proc.returncode != 0:
        return WorkerCheck(last_words(proc))
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    # strategies import their client libraries only when they run: ask for each package
    missing = [name for name, version in data["packages"].items() if version is None]
    if missing:
        return WorkerCheck(f"not installed there: {', '.join(missing)}", data["packages"])
    return WorkerCheck(
        "",
        data["packages"],
        data["gil_enabled"],
        tuple(data.get("gil_enabled_by", ())),
        data.get("unavailable", {}),
    )


@dataclass(frozen=True)
class TrialPython:
    """An interpreter as a run uses it: what the suite asked for, what the worker runs as."""

    requested: str  # the workload's ``python`` ("" for the running interpreter)
    executable: str  # a venv's python, or the interpreter itself
    interpreter: Interpreter
    venv: str | None  # the venv flagbench made for it; None when used as it is
    check: WorkerCheck
    built_from_source: tuple[str, ...] = ()  # what its venv's pip had to build (no wheel)

    def meta(self) -> dict[str, Any]:
        """Its entry in ``meta.json``'s ``interpreters``."""
        i = self.interpreter
        return {
            "requested": self.requested,
            "path": i.real_executable,
            "executable": self.executable,
            "venv": self.venv,
            "version": i.version,
            "label": i.label,
            "implementation": i.implementation,
            "free_threaded": i.free_threaded,
            "gil_enabled": i.gil_enabled
            if self.check.gil_enabled is None
            else self.check.gil_enabled,
            "gil_enabled_by": list(self.check.gil_enabled_by),
            "default_start_method": i.default_start_method,
            "packages": self.check.packages,
            "built_from_source": list(self.built_from_source),
        }
