"""Every fuzz target runs for a short while, so that none of them rots."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"
TARGETS = sorted(p for p in FUZZ.glob("*.py") if not p.name.startswith("_"))


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris is not installed")
@pytest.mark.parametrize("target", TARGETS, ids=lambda p: p.stem)
def test_fuzz_target_smoke(target: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(target), "-runs=3000", "-max_total_time=30", "-seed=1",
         f"-artifact_prefix={tmp_path}/"],
        capture_output=True, text=True, timeout=240,
    )
    tail = (proc.stdout + proc.stderr)[-3000:]
    assert proc.returncode == 0, f"{target.name} found a crash:\n{tail}"
    assert "Done" in tail or "DONE" in tail, tail
