"""``python -m sansio_mtdc``: the command line lives with the I/O code in :mod:`sansio_mtdc.adapters`."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from .adapters.cli import main as cli_main

    return cli_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    raise SystemExit(main())
