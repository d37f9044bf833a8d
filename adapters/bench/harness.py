"""Timing helpers shared by the benchmark sections."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence


def per_call(fn: Callable[[], object], *, quick: bool = False, min_time: float = 0.2,
             repeat: int = 7) -> float:
    """Median seconds per call of ``fn``: the loop count is grown until one run takes
    ``min_time``, then ``repeat`` runs are timed (3 and a tenth of the time when ``quick``)."""
    if quick:
        min_time, repeat = min_time / 10, 3
    number = 1
    while True:
        elapsed = _time_loop(fn, number)
        if elapsed >= min_time or number >= 1 << 24:
            break
        number *= 2 if elapsed == 0 else max(2, min(10, int(min_time / elapsed) + 1))
    runs = [_time_loop(fn, number) / number for _ in range(repeat)]
    return statistics.median(runs)


def _time_loop(fn: Callable[[], object], number: int) -> float:
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        return time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()


def fmt_time(seconds: float) -> str:
    if seconds < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def fmt_rate(nbytes: int, seconds: float) -> str:
    return f"{nbytes / seconds / 1e6:.0f} MB/s"


class Table:
    """A plain text table printed when the section ends."""

    def __init__(self, title: str, columns: Sequence[str]) -> None:
        self.title = title
        self.columns = list(columns)
        self.rows: list[list[str]] = []

    def add(self, *cells: object) -> None:
        self.rows.append([str(c) for c in cells])

    def print(self) -> None:
        widths = [len(c) for c in self.columns]
        for row in self.rows:
            for i, cell in enumerate(row):
                widths[i] = max(widths[i], len(cell))
        print(f"\n== {self.title}")
        print("  ".join(c.ljust(w) for c, w in zip(self.columns, widths)))
        print("  ".join("-" * w for w in widths))
        for row in self.rows:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
