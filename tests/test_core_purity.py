"""The core never does I/O, reads a clock or draws randomness: it takes them as inputs.

These tests read the core's source (not what happens to be imported at run time), so an import
hidden in a function body is caught too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parent.parent / "sansio_mtdc"
FORBIDDEN_MODULES = {
    "socket", "asyncio", "threading", "selectors", "ssl", "time", "sqlite3", "gevent", "trio",
    "subprocess", "random", "secrets", "multiprocessing", "concurrent",
}
FORBIDDEN_CALLS = {("os", "urandom"), ("datetime", "now"), ("datetime", "utcnow")}


def core_files() -> list[Path]:
    return sorted(p for p in CORE.rglob("*.py"))


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def test_core_files_exist() -> None:
    assert len(core_files()) > 3


@pytest.mark.parametrize("path", core_files(), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_imports_no_io(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    bad = [f"line {line}: import {mod}" for line, mod in imported_modules(tree)
           if mod.split(".")[0] in FORBIDDEN_MODULES]
    assert not bad, f"{path.name} imports I/O, clock or randomness: {bad}"
    calls = [f"line {n.lineno}: {n.value.id}.{n.attr}" for n in ast.walk(tree)
             if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
             and (n.value.id, n.attr) in FORBIDDEN_CALLS]
    assert not calls, f"{path.name} reads a clock or random source: {calls}"


@pytest.mark.parametrize("path", core_files(), ids=lambda p: str(p.relative_to(CORE)))
def test_core_does_not_import_adapters(path: Path) -> None:
    if path.name == "__main__.py":
        return  # the command line entry point only forwards to the adapters
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = ("." * node.level) + (node.module or "")
            where = f"{path.name}:{node.lineno}"
            assert "adapters" not in target.split("."), f"{where} imports {target}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert "adapters" not in alias.name.split("."), f"{path.name} imports {alias.name}"


def test_import_is_cheap_and_pulls_no_io() -> None:
    """``import sansio_mtdc`` loads no I/O module and parses no schema."""
    code = (
        "import sys; before = set(sys.modules); import sansio_mtdc; "
        "new = set(sys.modules) - before; "
        "print(','.join(sorted(new)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.strip().split(","))
    assert not {m for m in loaded if m.split(".")[0] in FORBIDDEN_MODULES}, loaded
