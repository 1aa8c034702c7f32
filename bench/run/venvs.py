"""A venv per interpreter of the ``python`` axis, with the worker's packages: made once, reused.

Comparing interpreters should not start with installing flagbench's dependencies by hand into
each of them. Each interpreter gets its own venv under the cache folder (``FLAGBENCH_VENV_DIR``,
else ``$XDG_CACHE_HOME/flagbench/venvs``, else ``~/.cache/flagbench/venvs``), named after its
implementation and version and keyed by a hash of its real path, its version and the exact
requirement list (the ``worker`` extra, markers evaluated for it): a new interpreter build or a
changed dependency gets a new venv, and an unchanged one is never rebuilt.

A venv is built in a temporary folder beside its final place and renamed into it once pip and
an import of the worker have succeeded, with a marker file written last before the rename. A
crash or Ctrl-C mid-way leaves only the temporary folder, which the next creation sweeps; a
folder at the final place without a matching marker is not trusted and is rebuilt. A lock file
per venv keeps two runs that start together from building it twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement

from bench._exceptions import VenvError
from bench._subprocess import run_captured
from bench.run.interpreters import Interpreter, check_worker

ENV_VAR = "FLAGBENCH_VENV_DIR"
MARKER = "flagbench-venv.json"
LAYOUT = 1  # how venvs are made; a change makes new ones rather than trusting old ones
VENV_TIMEOUT_S = 300
PIP_TIMEOUT_S = 1800
# What must not leak from the harness's environment into pip and the new venv.
_UNSET = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PIP_USER", "PIP_TARGET", "PIP_PREFIX")

Note = Callable[[str], None]


def cache_dir() -> Path:
    """Where the venvs live: ``FLAGBENCH_VENV_DIR``, else the XDG cache folder."""
    chosen = os.environ.get(ENV_VAR)
    if chosen:
        return Path(chosen).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"  # as the XDG spec says
    return base / "flagbench" / "venvs"


@dataclass(frozen=True)
class Venv:
    path: Path
    requirements: tuple[str, ...]
    created: bool  # made by this call (else found in the cache)
    built_from_source: tuple[str, ...] = ()  # "name version" of what pip had to build

    @property
    def python(self) -> str:
        return str(self.path / "bin" / "python")


def venv_name(base: Interpreter, requirements: list[str]) -> str:
    """``cpython-3.12.1-<hash>``: readable in a listing, keyed by everything that matters."""
    key = json.dumps(
        {
            "layout": LAYOUT,
            "python": base.real_executable,
            "version": base.label,
            "implementation": base.implementation,
            "requirements": requirements,
            **({"pip": list(_pip_options(base))} if _pip_options(base) else {}),
        },
        sort_keys=True,
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return f"{base.implementation.lower()}-{base.label}-{digest}"


def ensure_venv(
    base: Interpreter, requirements: list[str], root: Path, note: Note, where: str
) -> Venv:
    """The venv of ``base`` with ``requirements``, from the cache or made now (``where``
    names the interpreter in messages; ``note`` hears what is being made, and where).
    Raises VenvError in one line."""
    name = venv_name(base, requirements)
    final = root / name
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VenvError(
            f"{where}: cannot make the venv cache folder {root} ({exc.strerror}); "
            f"choose another with {ENV_VAR}"
        ) from None
    with _locked(
        root / f".{name}.lock",
        lambda: note(f"{where}: waiting for another flagbench that is creating {final}"),
    ):
        if _trusted(final, name):
            return Venv(final, tuple(requirements), False, _from_source(final / MARKER))
        if final.exists() or final.is_symlink():
            note(f"{where}: {final} is not a finished venv (no {MARKER}); rebuilding it")
            _discard(final, root, name)
        _sweep(root, name)
        note(
            f"{where}: creating a venv for Python {base.label} ({base.real_executable}) with "
            f"{', '.join(requirements)} in {final}; this is done once"
        )
        started = time.monotonic()
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=root))
        try:
            tmp.chmod(0o755)  # mkdtemp's 0700 is for secrets; a venv is readable as usual
            packages, from_source = _build(base, tmp, requirements, where, final)
            marker = {
                "name": name,
                "layout": LAYOUT,
                "python": base.real_executable,
                "version": base.label,
                "implementation": base.implementation,
                "requirements": requirements,
                "packages": packages,
                "built_from_source": from_source,
                "pip_options": list(_pip_options(base)),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            (tmp / MARKER).write_text(json.dumps(marker, indent=1), encoding="utf-8")
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        built = f"; built from source (no wheel for it): {', '.join(from_source)}"
        note(
            f"{where}: venv ready after {time.monotonic() - started:.0f} s{built if from_source else ''}"
        )
    return Venv(final, tuple(requirements), True, tuple(from_source))


def _pip_options(base: Interpreter) -> tuple[str, ...]:
    """A free-threaded build prefers an older release's wheel to a newer one's sdist: few
    packages ship cp313t wheels yet, and building pandas from source took over 10 minutes."""
    return ("--prefer-binary",) if base.free_threaded else ()


def _from_source(marker: Path) -> tuple[str, ...]:
    try:
        return tuple(json.loads(marker.read_text(encoding="utf-8")).get("built_from_source", ()))
    except (OSError, ValueError):
        return ()


def _trusted(final: Path, name: str) -> bool:
    """A finished venv: the marker written last before the rename, naming this very key."""
    try:
        marker = json.loads((final / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return marker.get("name") == name and os.access(final / "bin" / "python", os.X_OK)


@contextlib.contextmanager
def _locked(path: Path, on_wait: Callable[[], None]) -> Iterator[None]:
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)  # the holder's steps all have timeouts
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _discard(final: Path, root: Path, name: str) -> None:
    """Move an untrusted folder out of the way first: even a half-done removal frees the name."""
    aside = Path(tempfile.mkdtemp(prefix=f".{name}.broken-", dir=root))
    os.rename(final, aside / "venv")
    shutil.rmtree(aside, ignore_errors=True)


def _sweep(root: Path, name: str) -> None:
    """Remove what interrupted creations of this venv left (we hold its lock: none is live)."""
    for leftover in root.glob(f".{name}.*-*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _UNSET}
    env.update(PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


def _build(
    base: Interpreter, tmp: Path, requirements: list[str], where: str, final: Path
) -> tuple[dict[str, str | None], list[str]]:
    """venv, pip install, then the worker's imports; the installed versions, and what pip
    built from a source distribution (its ``--report`` says where each package came from)."""
    fail = f"{where}: could not create its venv in {final}"
    _step(
        [base.executable, "-m", "venv", str(tmp)], VENV_TIMEOUT_S, f"{fail}: python -m venv failed"
    )
    python = str(tmp / "bin" / "python")
    report = tmp / "pip-report.json"
    pip = [python, "-m", "pip", "install", "--quiet", *_pip_options(base), "--report", str(report)]
    _step(
        [*pip, *requirements],
        PIP_TIMEOUT_S,
        f"{fail}: pip install failed (it needs PyPI or your package index)",
    )
    check = check_worker(python, [Requirement(r).name for r in requirements])
    if check.error:
        raise VenvError(f"{fail}: the worker does not import there: {check.error}")
    return check.packages, built_from_source(report)


def built_from_source(report: Path) -> list[str]:
    """ "name version" of each package pip installed from anything but a wheel."""
    try:
        items = json.loads(report.read_text(encoding="utf-8")).get("install", [])
    except (OSError, ValueError):
        return []
    return [
        f"{i['metadata']['name']} {i['metadata']['version']}"
        for i in items
        if not str(i.get("download_info", {}).get("url", "")).endswith(".whl")
    ]


def _step(cmd: list[str], timeout: float, fail: str) -> None:
    try:
        proc = run_captured(cmd, timeout, env=_env())
    except TimeoutError:
        raise VenvError(f"{fail}: no result after {timeout:.0f} s") from None
    except OSError as exc:
        raise VenvError(f"{fail}: {exc.strerror}") from None
    if proc.returncode != 0:
        raise VenvError(f"{fail}: {_reason(proc.stdout + proc.stderr)}")


def _reason(output: str) -> str:
    """pip's first ERROR line says what went wrong; the rest repeats it."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("ERROR:")]
    return (errors or lines or ["no output"])[0]
