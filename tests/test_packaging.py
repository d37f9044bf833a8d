"""Packaging and CI stay in step with the tree and the README."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = set()
    for top, name in (("sansio_mtdc", "sansio_mtdc"), ("adapters", "sansio_mtdc.adapters")):
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top).parts
            found.add(".".join((name, *rel)))
    assert found == listed, f"missing: {found - listed}, stale: {listed - found}"


def test_readme_starts_with_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^python3 -m venv .*$", readme, flags=re.M)
    assert len(commands) >= 2, "README must start with the demo command and the test command"
    demo, test = commands[0], commands[1]
    assert "sansio_mtdc" in demo
    assert test.endswith("python -m pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    install = test.removesuffix(" && python -m pytest")
    assert install in ci, ".ci/run must install exactly as the README says"
    assert "python -m pytest" in ci
