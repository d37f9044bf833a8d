"""The command line: ``python -m sansio_mtdc <command>``.

Each command is one entry of :data:`COMMANDS`: its help line, a function that declares its
arguments, and a function that runs it and returns the exit status.  The runners import what
they need when they run, so that ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["COMMANDS", "Command", "main"]


@dataclass(frozen=True, slots=True)
class Command:
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


# --- bench -------------------------------------------------------------------------------------

def _bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sections", nargs="*", help="sections to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (smoke run)")


def _run_bench(args: argparse.Namespace) -> int:
    from .bench import run

    return run(args.sections, quick=args.quick)


# --- serve -------------------------------------------------------------------------------------

def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    from sansio_mtdc.server.config import DEFAULT_FIRST_PORT, MAX_DCS

    from .serve import SAMPLE_FILE_SIZE

    parser.add_argument("--host", default="127.0.0.1", help="IPv4 address to listen on")
    parser.add_argument("--port-base", type=int, default=DEFAULT_FIRST_PORT,
                        help="DC n listens on port-base + n; 0 picks free ports "
                             "(default: %(default)s)")
    parser.add_argument("--dcs", type=int, default=5, choices=range(1, MAX_DCS + 1),
                        metavar="N", help="how many DCs to run (default: %(default)s)")
    parser.add_argument("--ipv6-host", default=None, metavar="ADDRESS",
                        help="also listen on this IPv6 address (::1) and advertise it")
    parser.add_argument("--test-mode", action=argparse.BooleanOptionalAction, default=True,
                        help="pose as Telegram's test servers: DC ids +10000 in the handshake "
                             "(default: on)")
    parser.add_argument("--config-out", default=None, metavar="FILE",
                        help="write the addresses, RSA key and sample files here as JSON")
    parser.add_argument("--sample-size", type=int, default=SAMPLE_FILE_SIZE, metavar="BYTES",
                        help="size of the sample file placed on each DC (default: %(default)s)")
    parser.add_argument("--log-level", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="INFO: connections, handshakes, migrations; DEBUG: bytes too")


def _run_serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return asyncio.run(_serve_until_signalled(args))


async def _serve_until_signalled(args: argparse.Namespace) -> int:
    from sansio_mtdc.server import ClusterConfig

    from .serve import serve_cluster

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    config = ClusterConfig(dc_count=args.dcs, test_mode=args.test_mode)
    async with serve_cluster(config, host=args.host, port_base=args.port_base,
                             ipv6_host=args.ipv6_host,
                             sample_size=args.sample_size or None) as running:
        if args.config_out:
            running.write_config(args.config_out)
            logging.getLogger("sansio_mtdc.serve").info("config written to %s",
                                                        args.config_out)
        await stop.wait()
    return 0


# --- demo --------------------------------------------------------------------------------------

def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--verbose", action="store_true",
                        help="also log the client and the cluster to stderr")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print the summary table only")


def _run_demo(args: argparse.Namespace) -> int:
    from .demo import main as demo

    return demo(verbose=args.verbose, quiet=args.quiet)


# --- probe -------------------------------------------------------------------------------------

def _probe_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api-id", type=int, required=True, metavar="ID",
                        help="your application's api_id (https://my.telegram.org/apps)")
    parser.add_argument("--api-hash", required=True, metavar="HASH",
                        help="your application's api_hash")
    parser.add_argument("--test", action="store_true",
                        help="Telegram's test DCs instead of the production ones")
    parser.add_argument("--dc", type=int, default=2, metavar="N",
                        help="the DC to ask (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=15.0, metavar="S",
                        help="give up after this many seconds (default: %(default)s)")
    # a loopback cluster standing in for Telegram: the JSON of ``serve --config-out``
    parser.add_argument("--endpoints-json", default=None, help=argparse.SUPPRESS)


def _run_probe(args: argparse.Namespace) -> int:
    from .probe import main as probe

    return probe(api_id=args.api_id, api_hash=args.api_hash, test=args.test, dc=args.dc,
                 timeout=args.timeout, endpoints_json=args.endpoints_json)


#: command name -> what it is; add an entry to add a command
COMMANDS: dict[str, Command] = {
    "bench": Command("run the benchmarks and print the tables", _bench_arguments, _run_bench),
    "serve": Command("serve the reference DC cluster on local sockets until interrupted",
                     _serve_arguments, _run_serve),
    "demo": Command("run a client against the reference cluster on loopback, step by step",
                    _demo_arguments, _run_demo),
    "probe": Command("connect to Telegram and print its config (this_dc, nearest DC, "
                     "dc_options)", _probe_arguments, _run_probe),
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m sansio_mtdc")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        command.arguments(sub.add_parser(name, help=command.help))
    args = parser.parse_args(argv)
    return COMMANDS[args.command].run(args)
