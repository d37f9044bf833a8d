"""Import time of the library beside Telethon and Pyrogram, each in a fresh interpreter."""

from __future__ import annotations

import importlib.util
import statistics
import subprocess
import sys

from .harness import fmt_time

_MODULES = [("sansio_mtdc", "sansio_mtdc"), ("telethon", "telethon"), ("pyrogram", "pyrogram")]


def import_seconds(module: str, runs: int) -> float:
    """Median wall time of ``import module`` in a fresh interpreter, as ``-X importtime`` counts
    it (the cumulative time of the top-level import)."""
    samples = []
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True, text=True, check=True,
        )
        for line in proc.stderr.splitlines():
            parts = [p.strip() for p in line.split("|")]
            if len(parts) == 3 and parts[2] == module:
                samples.append(int(parts[1]) / 1e6)
    return statistics.median(samples)


def run(table_factory, quick: bool) -> None:  # type: ignore[no-untyped-def]
    table = table_factory("import time (python -X importtime, median)",
                          ["library", "time", "vs us"])
    runs = 3 if quick else 9
    ours = import_seconds("sansio_mtdc", runs)
    for label, module in _MODULES:
        if importlib.util.find_spec(module) is None:
            table.add(label, "not installed", "")
            continue
        t = ours if module == "sansio_mtdc" else import_seconds(module, runs)
        table.add(label, fmt_time(t), f"{t / ours:.1f}x")
    table.print()
