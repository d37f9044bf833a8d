"""Benchmarks, run on demand (``python -m sansio_mtdc bench [section ...] [--quick]``).

Each section is a module in this package with a ``run(table_factory, quick)`` function; it times
the library and, where they are installed, Telethon and Pyrogram doing the same work in the same
process, and prints the figures side by side.  Nothing here is a pass/fail test: the targets are
read off these tables.
"""

from __future__ import annotations

import importlib
import sys

from .harness import Table

#: section name -> module name, in the order they run
SECTIONS: dict[str, str] = {
    "import": "imports",
    "crypto": "crypto",
    "tl": "tl",
    "transport": "transport",
    "session": "session",
    "handshake": "handshake",
    "rtt": "rtt",
    "memory": "memory",
    "adapter": "adapter",
}


def run(sections: list[str], *, quick: bool = False) -> int:
    names = sections or list(SECTIONS)
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        print(f"unknown section(s): {', '.join(unknown)}; known: {', '.join(SECTIONS)}",
              file=sys.stderr)
        return 2
    for name in names:
        module = importlib.import_module(f"{__name__}.{SECTIONS[name]}")
        module.run(Table, quick)
    return 0
