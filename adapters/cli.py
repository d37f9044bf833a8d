"""The command line: ``python -m sansio_mtdc <command>``."""

from __future__ import annotations

import argparse


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m sansio_mtdc")
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("bench", help="run the benchmarks and print the tables")
    bench.add_argument("sections", nargs="*", help="sections to run (default: all)")
    bench.add_argument("--quick", action="store_true", help="fewer repetitions (smoke run)")
    args = parser.parse_args(argv)
    if args.command == "bench":
        from .bench import run

        return run(args.sections, quick=args.quick)
    parser.error(f"unknown command {args.command}")
    return 2
