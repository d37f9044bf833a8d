"""``python -m sansio_mtdc``: forwards to the command line in :mod:`sansio_mtdc.adapters`."""

from __future__ import annotations

import importlib
import sys


def main(argv: list[str] | None = None) -> int:
    # Imported by name: the I/O layer is installed beside the core, not part of it.
    cli = importlib.import_module("sansio_mtdc.adapters.cli")
    return int(cli.main(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    raise SystemExit(main())
