"""The structure docs/architecture.md describes, held against the code.

Read from the source (``ast``), so nothing is imported: import circles, the direction of
imports between bench's stage packages, function-level imports that only defer something
heavy (and say so), the size of modules, and the map that names every module.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bench", "flags_server", "strategies")
# bench's stages, in the order of the data's way; a module imports its own stage or earlier ones.
STAGES = {"define": 1, "results": 2, "run": 3, "present": 4, "integrations": 5, "cli": 6, "soak": 6}
MAX_LINES = 500


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module (a package's module when ``from pkg import mod``)
    line: int
    in_function: bool


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_of(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


MODULES = _modules()


def _imports(module: str, path: Path) -> list[Import]:
    tree = ast.parse(path.read_text())
    in_function = {
        id(node)
        for fn in ast.walk(tree)
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in ast.walk(fn)
    }
    found = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = module.split(".")
                if path.name != "__init__.py":
                    here = here[:-1]
                here = here[: len(here) - node.level + 1]
                base = ".".join([*here, base] if base else here)
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names
            ]
        for target in targets:
            if target.split(".")[0] in PACKAGES:
                while target not in MODULES and "." in target:
                    target = target.rpartition(".")[0]
                found.append(Import(module, target, node.lineno, id(node) in in_function))
    return found


IMPORTS = [imp for module, path in MODULES.items() for imp in _imports(module, path)]


def _stage(module: str) -> int:
    parts = module.split(".")
    if parts[0] != "bench":
        return 0  # the flag server and the strategies are below the whole harness
    if len(parts) == 1 or parts[1] == "__main__":
        return 9  # the package's own __init__ and __main__ stand above everything
    return STAGES.get(parts[1], 0)  # 0: the shared base (_atomic, _exceptions, system, ...)


def test_there_are_no_import_circles():
    graph: dict[str, set[str]] = {}
    for imp in IMPORTS:
        if imp.target != imp.source:
            graph.setdefault(imp.source, set()).add(imp.target)
    circles = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                circles.append(" -> ".join([*stack[stack.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_imports_point_down_the_stages():
    """define <- results <- run <- present <- integrations <- cli: never the other way."""
    upward = [
        f"{imp.source}:{imp.line} imports {imp.target}"
        for imp in IMPORTS
        if imp.source.startswith("bench")
        and _stage(imp.target) > _stage(imp.source)
        and imp.target.split(".")[:2] != imp.source.split(".")[:2]
    ]
    assert upward == []


def test_the_server_and_the_strategies_do_not_import_the_harness():
    wrong = [
        f"{imp.source} imports {imp.target}"
        for imp in IMPORTS
        if (imp.source.startswith("flags_server") and not imp.target.startswith("flags_server"))
        or (imp.source.startswith("strategies") and imp.target.startswith("bench"))
    ]
    assert wrong == []


def _deferred(path: Path, line: int) -> bool:
    """A ``deferred:`` comment on the import or on the comment and import lines just above."""
    lines = path.read_text().splitlines()
    i = line - 1
    while i >= 0:
        text = lines[i].strip()
        if "deferred:" in text:
            return True
        if i < line - 1 and not text.startswith(("import ", "from ", "#")):
            return False
        i -= 1
    return False


def test_a_function_level_import_says_what_heavy_thing_it_defers():
    """Imports at the top, so the structure shows; inside a function only to defer a heavy or
    optional dependency, with a ``# deferred: why`` comment."""
    third_party_too = []
    for path in MODULES.values():
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(fn):
                    if isinstance(node, (ast.Import, ast.ImportFrom)) and not _deferred(
                        path, node.lineno
                    ):
                        third_party_too.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert third_party_too == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_past_the_size_where_it_has_two_jobs(module):
    assert len(MODULES[module].read_text().splitlines()) <= MAX_LINES


def test_the_map_names_every_module():
    """docs/architecture.md is the newcomer's map: each module is named on the line of its
    folder (``bench/run/``: ``runner.py`` ...); a module it does not name is not on the map."""
    lines = (ROOT / "docs" / "architecture.md").read_text().splitlines()
    missing = []
    for path in MODULES.values():
        if path.name == "__init__.py":
            continue
        folder = f"{path.parent.relative_to(ROOT)}/"
        if not any(f"`{folder}`" in line and f"`{path.name}`" in line for line in lines):
            missing.append(str(path.relative_to(ROOT)))
    assert missing == []


def test_every_stage_package_says_its_job_and_what_it_may_import():
    for stage in ("define", "results", "run", "present", "integrations"):
        doc = ast.get_docstring(ast.parse((ROOT / "bench" / stage / "__init__.py").read_text()))
        assert doc and "Imports:" in doc, stage


def test_the_worker_imports_only_what_a_worker_venv_has():
    """A trial's worker runs in a venv with the ``worker`` extra only (``bench.run.venvs``):
    importing it must not need the harness's own packages."""
    import subprocess
    import sys

    harness_only = ["pandas", "numpy", "pyarrow", "scipy", "matplotlib", "packaging", "hdrh"]
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {harness_only!r}:\n"
        "            raise ModuleNotFoundError(f'No module named {name!r} (harness only)')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import bench.run.worker, strategies\n"
        "for name in strategies.names():\n"
        "    if name != 'dask':\n"
        "        strategies.get(name)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr


def test_the_project_root_is_the_checkout():
    from bench.define.dependencies import PROJECT_ROOT

    assert (PROJECT_ROOT / "pyproject.toml").is_file() and PROJECT_ROOT == ROOT


def test_the_files_started_first_exist():
    """tests/conftest.py's LONGEST_FIRST names files by path: a renamed one would only start
    later, unnoticed."""
    from tests.conftest import LONGEST_FIRST, ROOT

    assert [name for name in LONGEST_FIRST if not (ROOT / name).is_file()] == []
