"""``flagbench python install 3.13t``: a CPython (free-threaded or not) built from source, once.

Comparing the GIL build of a version with its free-threaded build should not start with an
afternoon of reading build docs. The source comes from what the machine can reach: a tarball
already in the cache, else the Debian source package (``apt-get source --download-only
python3.X``: its ``.orig.tar.xz`` is upstream's ``Python-X.Y.Z.tar.xz``, byte for byte). It is
configured (``--disable-gil`` for a "t" build), built with ``make -j<cores>`` and installed
into ``<cache>/pythons/X.Y.Z[t]`` (``FLAGBENCH_PYTHONS_DIR``, else the XDG cache folder), which
``--python 3.13t`` then finds. A finished prefix (its interpreter answers with the version
and build asked for) is reused, never rebuilt; a build that fails or is interrupted leaves no
prefix behind. What cannot be done (no compiler, no ``deb-src`` source, a version whose
source apt cannot fetch) is one ``PythonBuildError`` line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bench._exceptions import PythonBuildError
from bench._subprocess import run_captured, started

ENV_VAR = "FLAGBENCH_PYTHONS_DIR"
MARKER = "flagbench-python.txt"
_SPEC = re.compile(r"(3)\.(\d+)(?:\.(\d+))?(t?)")
FIRST_FREE_THREADED = (3, 13)
ADD_SOURCE = (
    "add a deb-src source as root, e.g. /etc/apt/sources.list.d/trixie-src.sources with "
    "'Types: deb-src', 'URIs: http://deb.debian.org/debian', 'Suites: trixie', "
    "'Components: main', then run apt-get update"
)
# (what runs, the most it may take); a stuck step is stopped rather than waited on for ever
_STEPS = (("configure", 900), ("make", 5400), ("make install", 1200))

Say = Callable[[str], None]


@dataclass(frozen=True)
class Target:
    """What the user asked for: ``3.13t`` (any 3.13 patch release) or ``3.13.5``."""

    minor: tuple[int, int]
    patch: int | None
    free_threaded: bool

    @property
    def package(self) -> str:
        return f"python{self.minor[0]}.{self.minor[1]}"

    def folder(self, version: str) -> str:
        return version + ("t" if self.free_threaded else "")

    def __str__(self) -> str:
        v = ".".join(map(str, self.minor)) + (f".{self.patch}" if self.patch is not None else "")
        return v + ("t" if self.free_threaded else "")


def parse_target(spec: str) -> Target:
    """``3.13``, ``3.13t``, ``3.13.5t``; a PythonBuildError names what is allowed."""
    m = _SPEC.fullmatch(spec.strip())
    if m is None:
        raise PythonBuildError(
            f"python install {spec!r}: give a CPython version such as 3.13, or 3.13t for "
            "its free-threaded build (3.13.5t for an exact release)"
        )
    minor = (int(m.group(1)), int(m.group(2)))
    target = Target(minor, int(m.group(3)) if m.group(3) else None, bool(m.group(4)))
    if minor < (3, 10):
        raise PythonBuildError(f"python install {spec}: flagbench needs Python 3.10 or later")
    if target.free_threaded and minor < FIRST_FREE_THREADED:
        raise PythonBuildError(
            f"python install {spec}: free-threaded builds exist from 3.13 on; "
            f"ask for {minor[0]}.{minor[1]} (the GIL build) or 3.13t"
        )
    return target


def pythons_dir() -> Path:
    """``FLAGBENCH_PYTHONS_DIR``, else ``$XDG_CACHE_HOME/flagbench/pythons``."""
    chosen = os.environ.get(ENV_VAR)
    if chosen:
        return Path(chosen).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "flagbench" / "pythons"


def installed(root: Path, target: Target) -> list[tuple[tuple[int, ...], Path]]:
    """(version, executable) of the finished builds of ``target`` under ``root``, newest last."""
    found = []
    for exe in root.glob("*/bin/python3"):
        name = exe.parent.parent.name
        m = _SPEC.fullmatch(name)
        if m is None or not m.group(3) or bool(m.group(4)) != target.free_threaded:
            continue
        version = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
        fits = version[:2] == target.minor and target.patch in (None, version[2])
        if fits and _answers(exe, version, target.free_threaded):
            found.append((version, exe))
    return sorted(found)


def _answers(exe: Path, version: tuple[int, ...], threaded: bool) -> bool:
    """A finished build: it runs, is the version its folder says, and is the build asked for
    (the marker is written last; a prefix from before markers must import ssl and ensurepip)."""
    if not (exe.parent.parent / MARKER).exists():
        check = "import ssl, ensurepip, hashlib"
    else:
        check = "pass"
    code = (
        f"{check}; import sys, sysconfig; "
        "print('.'.join(map(str, sys.version_info[:3])), "
        "bool(sysconfig.get_config_var('Py_GIL_DISABLED')))"
    )
    try:
        proc = run_captured([str(exe), "-E", "-s", "-c", code], timeout=60)
    except (OSError, TimeoutError):
        return False
    want = f"{'.'.join(map(str, version))} {threaded}"
    return proc.returncode == 0 and proc.stdout.strip() == want


def install(spec: str, say: Say) -> Path:
    """The executable of a build of ``spec``: found in the cache, or built now."""
    target = parse_target(spec)
    root = pythons_dir()
    done = installed(root, target)
    if done:
        exe = done[-1][1]
        (exe.parent.parent / MARKER).touch()  # a build from before markers, that answered
        say(f"Python {spec}: already built, reused: {exe}")
        return exe
    _need_compiler()
    started = time.monotonic()
    tarball = source_tarball(target, root / "src", say)
    version = _version_of(tarball)
    prefix = root / target.folder(version)
    if prefix.exists():  # a prefix that did not answer above: an interrupted build
        say(f"{prefix} is not a finished build; removing it")
        shutil.rmtree(prefix)
    _build(tarball, version, target, prefix, root, say)
    exe = prefix / "bin" / "python3"
    if not _answers(exe, tuple(int(p) for p in version.split(".")), target.free_threaded):
        shutil.rmtree(prefix, ignore_errors=True)
        raise PythonBuildError(f"the build of {version} in {prefix} does not run as asked")
    (prefix / MARKER).write_text(f"{target.folder(version)} built by flagbench\n")
    say(f"Python {target.folder(version)}: ready in {_mins(time.monotonic() - started)}: {exe}")
    return exe


def _mins(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _need_compiler() -> None:
    missing = [tool for tool in ("cc", "make") if shutil.which(tool) is None]
    if missing:
        raise PythonBuildError(
            f"building Python needs a C compiler and make; not on PATH: {', '.join(missing)} "
            "(install them, e.g. apt-get install build-essential)"
        )


def source_tarball(target: Target, src: Path, say: Say) -> Path:
    """``Python-X.Y.Z.tar.xz`` for ``target``: from ``src``, else fetched with apt into it."""
    cached = sorted(
        (tuple(int(p) for p in m.group(1).split(".")), p)
        for p in src.glob("Python-*.tar.xz")
        if (m := re.fullmatch(r"Python-(\d+\.\d+\.\d+)\.tar\.xz", p.name))
    )
    fits = [p for v, p in cached if v[:2] == target.minor and target.patch in (None, v[2])]
    if fits:
        say(f"source: {fits[-1]} (cached)")
        return fits[-1]
    if shutil.which("apt-get") is None:
        raise PythonBuildError(
            f"no source of Python {target}: apt-get is not here; put upstream's "
            f"Python-X.Y.Z.tar.xz into {src}"
        )
    version = _apt_source_version(target)
    try:
        src.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PythonBuildError(
            f"cannot make {src} ({exc.strerror}); choose another folder with {ENV_VAR}"
        ) from None
    say(f"source: apt-get source --download-only {target.package}={version}")
    with tempfile.TemporaryDirectory(prefix=".apt-", dir=src) as tmp:
        proc = run_captured(
            ["apt-get", "source", "--download-only", f"{target.package}={version}"],
            timeout=900,
            cwd=tmp,
        )
        origs = list(Path(tmp).glob("*.orig.tar.xz"))
        if proc.returncode != 0 or not origs:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise PythonBuildError(
                f"the source of Python {target} cannot be had here: apt-get source "
                f"{target.package}={version} failed ({last})"
            )
        upstream = _version_of(origs[0])
        final = src / f"Python-{upstream}.tar.xz"
        os.replace(origs[0], final)
    return final


def _apt_source_version(target: Target) -> str:
    """The newest version of ``python3.X`` that apt's deb-src sources list (and fit ``target``)."""
    try:
        kinds = run_captured(["apt-get", "indextargets", "--format", "$(IDENTIFIER)"], 60)
        listed = run_captured(["apt-cache", "showsrc", "--only-source", target.package], 60)
    except (OSError, TimeoutError) as exc:
        raise PythonBuildError(f"cannot ask apt for the source of Python {target}: {exc}") from None
    if "Sources" not in kinds.stdout.split():
        raise PythonBuildError(
            f"no source of Python {target}: apt has no deb-src source; {ADD_SOURCE}"
        )
    versions = re.findall(r"^Version: (\S+)", listed.stdout, flags=re.M)
    fitting = [
        v
        for v in versions
        if target.patch is None
        or v.split("-")[0] == f"{target.minor[0]}.{target.minor[1]}.{target.patch}"
    ]
    if not fitting:
        have = ", ".join(versions) or "none"
        raise PythonBuildError(
            f"the source of Python {target} cannot be had here: apt's deb-src sources list "
            f"{target.package} versions: {have} (add a source that has it, e.g. sid, or put "
            f"upstream's Python-X.Y.Z.tar.xz into {pythons_dir() / 'src'})"
        )
    return max(fitting, key=lambda v: [int(x) for x in re.findall(r"\d+", v)])


def _version_of(tarball: Path) -> str:
    """The release in a tarball, from its top folder ``Python-X.Y.Z/``."""
    try:
        with tarfile.open(tarball) as tar:
            first = tar.next()
    except (OSError, tarfile.TarError) as exc:
        raise PythonBuildError(f"{tarball} is not a readable tarball ({exc})") from None
    m = re.match(r"Python-(\d+\.\d+\.\d+)(/|$)", first.name if first else "")
    if m is None:
        raise PythonBuildError(f"{tarball} is not a CPython source tarball")
    return m.group(1)


def _build(tarball: Path, version: str, target: Target, prefix: Path, root: Path, say: Say) -> None:
    """Configure, make and install; the build folder always goes, the prefix on failure."""
    logs = root / "logs"
    logs.mkdir(exist_ok=True)
    log = logs / f"{target.folder(version)}.log"
    work = Path(tempfile.mkdtemp(prefix=f".build-{target.folder(version)}-", dir=root))
    jobs = max(1, len(os.sched_getaffinity(0)))
    configure = ["./configure", f"--prefix={prefix}", "--with-ensurepip=install"]
    if target.free_threaded:
        configure.append("--disable-gil")
    commands = [configure, ["make", f"-j{jobs}"], ["make", "install"]]
    try:
        say(f"unpacking {tarball.name} (build log: {log})")
        with tarfile.open(tarball) as tar:
            tar.extractall(work, filter="data")
        tree = work / f"Python-{version}"
        t0 = time.monotonic()
        with open(log, "w", encoding="utf-8") as out:
            for (name, limit), cmd in zip(_STEPS, commands, strict=True):
                say(
                    f"{name} ({' '.join(cmd[1:]) or 'default'}): started at {_mins(time.monotonic() - t0)}"
                )
                _step(cmd, tree, out, limit, name, log)
        say(f"built and installed in {_mins(time.monotonic() - t0)}")
    except BaseException:
        shutil.rmtree(prefix, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _step(cmd: list[str], cwd: Path, out: IO[str], limit: float, name: str, log: Path) -> None:
    """One build step, its output in the log; stopped with its children after ``limit``."""
    with started(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT) as proc:
        try:
            rc = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            raise PythonBuildError(
                f"{name} took over {limit:.0f} s; stopped (log: {log})"
            ) from None
    if rc != 0:
        raise PythonBuildError(f"{name} failed with status {rc}; the end of {log} says why")
