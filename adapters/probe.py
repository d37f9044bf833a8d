"""``python -m sansio_mtdc probe``: can this machine reach Telegram, and what does Telegram say?

A fresh :class:`AsyncClient` (no session file: a new auth key each run) connects to one DC of
the built-in bootstrap table, production or test, and asks ``help.getConfig`` and
``help.getNearestDc``.  The answer is printed as this_dc, the nearest DC and the dc_options.

A probe is a diagnosis, so it fails fast and says why: as soon as the first connection to the
DC ends before its handshake finished (every candidate address refused, unroutable or silent,
or something that is not MTProto answered), it prints one line naming the DC, the addresses and
the reason, and exits 2.  ``--timeout`` bounds everything else.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from sansio_mtdc.client import ClientConfig, Limits
from sansio_mtdc.client.events import ConnectionStateChanged, Event
from sansio_mtdc.crypto.rsa import KeyRegistry, RSAPublicKey
from sansio_mtdc.dc.bootstrap import bootstrap_endpoints
from sansio_mtdc.dc.endpoint import FLAG_NAMES, Endpoint
from sansio_mtdc.errors import MTDCError, RPCError
from sansio_mtdc.tl import api

from .asyncio_client import AsyncClient

__all__ = [
    "EXIT_ANSWERED_ERROR",
    "EXIT_OK",
    "EXIT_UNREACHABLE",
    "ProbeFailed",
    "Probed",
    "config_from_json",
    "main",
    "probe",
]

EXIT_OK = 0
#: the DC answered, with an error (a bad api_id or api_hash, typically)
EXIT_ANSWERED_ERROR = 1
#: the DC could not be reached, or did not answer in time (also: bad arguments)
EXIT_UNREACHABLE = 2
#: a candidate address that does not answer a connect is given up after this long at most
CONNECT_TIMEOUT = 5.0
#: addresses named in a failure line before "..."
SHOWN_ADDRESSES = 2


class ProbeFailed(Exception):
    """The probe did not get its answer; ``status`` is the exit status, ``str()`` the line."""

    def __init__(self, message: str, status: int = EXIT_UNREACHABLE) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Probed:
    """What the DC answered, and how long the probe took."""

    place: str  # "Telegram test DC 2"
    config: Any  # api.types.Config
    nearest: Any  # api.types.NearestDc
    seconds: float


def _explain(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "no answer to the connect"
    if isinstance(error, OSError) and (error.errno or error.strerror):
        text = os.strerror(error.errno) if error.errno else str(error.strerror)
        return text[0].lower() + text[1:]
    return str(error) or type(error).__name__


def _where(endpoints: list[Endpoint]) -> str:
    shown: list[str] = []
    for e in endpoints:
        text = f"[{e.host}]:{e.port}" if e.ipv6 else f"{e.host}:{e.port}"
        if text not in shown:
            shown.append(text)
    more = ", ..." if len(shown) > SHOWN_ADDRESSES else ""
    return ", ".join(shown[:SHOWN_ADDRESSES]) + more


async def probe(config: ClientConfig, *, timeout: float, place: str | None = None) -> Probed:
    """Ask DC ``config.dc`` for help.getConfig and help.getNearestDc; raise
    :class:`ProbeFailed` with a one-line reason when that cannot be done within ``timeout``.
    ``place`` names the DC in what is printed (default: Telegram's)."""
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    if place is None:
        place = f"Telegram {'test' if config.test_mode else 'production'} DC {config.dc}"
    lost: asyncio.Future[str] = loop.create_future()
    connected = handshaken = False

    def on_event(event: Event) -> None:
        nonlocal connected, handshaken
        if type(event) is ConnectionStateChanged and event.dc_id == config.dc:
            if event.state == "handshaking":
                connected = True
            elif event.state == "ready":
                handshaken = True
            elif event.state == "closed" and not handshaken and not lost.done():
                lost.set_result(event.reason or "closed")

    client = AsyncClient(config, on_event=on_event)
    candidates = client.client.table.candidates(
        config.dc, purpose="main", ipv6=config.ipv6, obfuscated=config.obfuscated,
        now=time.time())
    where = f"{place} ({_where(candidates)})"
    try:
        async with client:
            answers: asyncio.Future[tuple[Any, Any]] = asyncio.gather(
                client.invoke(api.functions.help.GetConfig()),
                client.invoke(api.functions.help.GetNearestDc()))
            watched: set[asyncio.Future[Any]] = {answers, lost}
            done, _ = await asyncio.wait(watched, timeout=timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
            if answers in done:
                answer, nearest = answers.result()
                return Probed(place, answer, nearest, time.perf_counter() - started)
            answers.cancel()
            await asyncio.gather(answers, return_exceptions=True)
            if lost in done:
                raise ProbeFailed(f"could not reach {where}: "
                                  f"{_why_lost(lost.result(), client.dial_errors)}")
            stage = ("help.getConfig was not answered" if handshaken
                     else "the handshake did not finish" if connected
                     else "no connection was made")
            raise ProbeFailed(f"no answer from {where} within {timeout:g} s ({stage})")
    except RPCError as exc:
        raise ProbeFailed(f"{place} answered {exc.code} {exc.message}" + (
            " (check --api-id and --api-hash)" if "API_ID" in exc.message else ""),
            EXIT_ANSWERED_ERROR) from exc
    except MTDCError as exc:
        raise ProbeFailed(f"{place}: {exc}") from exc


def _why_lost(reason: str, errors: list[BaseException]) -> str:
    """The reason a connection ended before its handshake, in words: the OS's errors when no
    candidate connected, the machine's reason when one connected but the talk failed."""
    if reason == "connection failed":
        reasons = dict.fromkeys(_explain(error) for error in errors)  # each once, in order
        return "; ".join(reasons) or "no candidate address answered"
    if reason.startswith("framing"):
        return (f"a connection opened, but what answered is not an MTProto server "
                f"({reason}); a proxy or firewall may be in the way")
    return f"the connection closed before the handshake finished ({reason})"


# --- printing ----------------------------------------------------------------------------------

def print_answer(probed: Probed, out: TextIO) -> None:
    config, nearest = probed.config, probed.nearest
    print(f"{probed.place} answered help.getConfig and help.getNearestDc "
          f"in {probed.seconds:.2f} s", file=out)
    print(f"this_dc:     {config.this_dc}", file=out)
    print(f"nearest DC:  {nearest.nearest_dc} (country {nearest.country}, "
          f"this_dc {nearest.this_dc})", file=out)
    date = datetime.fromtimestamp(config.date, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    print(f"config date: {date}, expires {config.expires - config.date} s later", file=out)
    print(f"dc_options ({len(config.dc_options)}):", file=out)
    rows = [(str(o.id), f"[{o.ip_address}]:{o.port}" if o.ipv6 else f"{o.ip_address}:{o.port}",
             " ".join([*(f for f in FLAG_NAMES if getattr(o, f, False)),
                       *(["secret"] if getattr(o, "secret", None) else [])]))
            for o in config.dc_options]
    width = max([len("address"), *(len(r[1]) for r in rows)])
    print(f"  {'id':>4}  {'address':<{width}}  flags", file=out)
    for dc_id, address, flags in rows:
        print(f"  {dc_id:>4}  {address:<{width}}  {flags}".rstrip(), file=out)


# --- the command -------------------------------------------------------------------------------

def config_from_json(path: str, *, api_id: int, api_hash: str, dc: int,
                     limits: Limits) -> ClientConfig:
    """A configuration for the cluster that ``serve --config-out`` described in ``path``
    (addresses, RSA key, test mode): a stand-in for Telegram."""
    data = json.loads(Path(path).read_text())
    endpoints = [Endpoint(int(dc_id), host, int(port))
                 for dc_id, (host, port) in data["dcs"].items()]
    endpoints += [Endpoint(int(dc_id), host, int(port), ipv6=True)
                  for dc_id, (host, port) in data.get("dcs_ipv6", {}).items()]
    keys = KeyRegistry([RSAPublicKey.from_pem(data["rsa_public_pem"])], read_only=True)
    return ClientConfig(api_id=api_id, api_hash=api_hash, dc=dc,
                        test_mode=bool(data["test_mode"]), endpoints=tuple(endpoints),
                        rsa_keys=keys, follow_nearest_dc=False, limits=limits)


def _config(*, api_id: int, api_hash: str, test: bool, dc: int, timeout: float,
            endpoints_json: str | None) -> ClientConfig:
    # half the budget at most for one silent address, so that its end is told, not timed out
    limits = Limits(connect_timeout=min(CONNECT_TIMEOUT, timeout / 2))
    if endpoints_json is not None:
        try:
            config = config_from_json(endpoints_json, api_id=api_id, api_hash=api_hash,
                                      dc=dc, limits=limits)
        except (OSError, ValueError, KeyError, TypeError, MTDCError) as exc:
            raise ProbeFailed(f"cannot read {endpoints_json}: {exc}") from exc
        known = {e.dc_id for e in config.endpoints or ()}
    else:
        config = ClientConfig(api_id=api_id, api_hash=api_hash, dc=dc, test_mode=test,
                              follow_nearest_dc=False, limits=limits)
        known = {e.dc_id for e in bootstrap_endpoints(test_mode=test)}
    if dc not in known:
        raise ProbeFailed(f"DC {dc} is not in the table (DCs {', '.join(map(str, sorted(known)))})")
    return config


def main(*, api_id: int, api_hash: str, test: bool = False, dc: int = 2,
         timeout: float = 15.0, endpoints_json: str | None = None,
         out: TextIO | None = None, err: TextIO | None = None) -> int:
    """The ``probe`` command: the answer on ``out``, or one line on ``err``; the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        if not timeout > 0:
            raise ProbeFailed("--timeout is a positive number of seconds")
        try:
            config = _config(api_id=api_id, api_hash=api_hash, test=test, dc=dc,
                             timeout=timeout, endpoints_json=endpoints_json)
        except MTDCError as exc:  # ClientConfig refusing an argument
            raise ProbeFailed(str(exc)) from exc
        place = None if endpoints_json is None else f"DC {dc} of {endpoints_json}"
        probed = asyncio.run(probe(config, timeout=timeout, place=place))
    except ProbeFailed as exc:
        print(f"probe: {exc}", file=err)
        return exc.status
    print_answer(probed, out)
    return EXIT_OK
