"""Requests per second through a real client on loopback, beside Telethon and Pyrogram.

The reference cluster runs as ``python -m sansio_mtdc serve`` in a process of its own (its CPU
is not the client's), and every client asks it the same cheap request, help.getNearestDc, once
connected and keyed: one at a time (each waits for its answer: latency-bound) and 100 in flight
(throughput-bound).  Beside them, the bare machine: a Client and the cluster wired together in
memory through the simulated network with zero latency, both in this process; it is the cost of
the protocol work without sockets or an event loop.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sansio_mtdc.client import ClientConfig
from sansio_mtdc.crypto.rsa import KeyRegistry, RSAPublicKey
from sansio_mtdc.dc.endpoint import Endpoint

from .harness import fmt_time

#: requests timed per run, and concurrent ones in the parallel runs
SEQUENTIAL, PARALLEL, IN_FLIGHT = 2000, 10000, 100
HOME_DC = 2


@contextmanager
def _served() -> Iterator[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as workdir:
        out = Path(workdir) / "cluster.json"
        process = subprocess.Popen(
            [sys.executable, "-m", "sansio_mtdc", "serve", "--port-base", "0", "--dcs", "3",
             "--sample-size", "0", "--config-out", str(out)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while not out.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the reference cluster did not start")
                time.sleep(0.01)
            yield json.loads(out.read_text())
        finally:
            process.terminate()
            process.wait(10)


def _config(served: dict[str, Any]) -> ClientConfig:
    endpoints = tuple(Endpoint(int(dc), host, port) for dc, (host, port) in served["dcs"].items())
    keys = KeyRegistry([RSAPublicKey.from_pem(served["rsa_public_pem"])], read_only=True)
    return ClientConfig(api_id=1, api_hash="bench", dc=HOME_DC, test_mode=True,
                        endpoints=endpoints, rsa_keys=keys, follow_nearest_dc=False)


Rates = tuple[float, float, float]


async def _rates(call: Callable[[], Awaitable[Any]], quick: bool) -> Rates:
    """Requests per second one at a time, then with IN_FLIGHT in flight, and the client's own
    CPU time per request one at a time (what the client costs, whatever the server's speed)."""
    sequential, parallel = (SEQUENTIAL // 10, PARALLEL // 10) if quick else (SEQUENTIAL,
                                                                           PARALLEL)
    for _ in range(20):  # warm up (the connection, the key, the first-use imports)
        await call()
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(sequential):
        await call()
    one = sequential / (time.perf_counter() - start)
    cpu_each = (time.process_time() - cpu) / sequential
    semaphore = asyncio.Semaphore(IN_FLIGHT)

    async def bounded() -> None:
        async with semaphore:
            await call()

    start = time.perf_counter()
    await asyncio.gather(*[bounded() for _ in range(parallel)])
    many = parallel / (time.perf_counter() - start)
    return one, many, cpu_each


async def _ours(served: dict[str, Any], quick: bool) -> Rates:
    from sansio_mtdc.tl import api

    from ..asyncio_client import AsyncClient

    request = api.functions.help.GetNearestDc()
    async with AsyncClient(_config(served)) as client:
        return await _rates(lambda: client.invoke(request), quick)


async def _telethon(served: dict[str, Any], quick: bool) -> Rates | None:
    if importlib.util.find_spec("telethon") is None:
        return None
    from telethon import TelegramClient, functions
    from telethon.crypto import rsa
    from telethon.sessions import MemorySession

    rsa.add_key(served["rsa_public_pem"], old=False)
    session = MemorySession()
    session.set_dc(HOME_DC, *served["dcs"][str(HOME_DC)])
    client = TelegramClient(session, 1, "bench", receive_updates=False)
    await client.connect()
    try:
        return await _rates(lambda: client(functions.help.GetNearestDcRequest()), quick)
    finally:
        await client.disconnect()


async def _pyrogram(served: dict[str, Any], quick: bool) -> Rates | None:
    if importlib.util.find_spec("pyrogram") is None:
        return None
    from pyrogram import Client
    from pyrogram.connection import Connection
    from pyrogram.crypto import rsa
    from pyrogram.raw.functions.help import GetNearestDc  # type: ignore[attr-defined,unused-ignore]

    key = RSAPublicKey.from_pem(served["rsa_public_pem"])
    rsa.server_public_keys[key.fingerprint] = rsa.PublicKey(key.n, key.e)
    host, served_port = served["dcs"][str(HOME_DC)]

    class ToCluster(Connection):  # type: ignore[misc,unused-ignore]
        """Pyrogram dials its built-in test DC 2 address first: point it at the cluster."""

        def __init__(self, dc_id: int, server_address: str, port: int, *args: Any,
                     **kwargs: Any) -> None:
            super().__init__(dc_id, host, served_port, *args, **kwargs)

    app = Client("bench", api_id=1, api_hash="bench", in_memory=True, no_updates=True,
                 test_mode=True, connection_factory=ToCluster)
    await app.connect()
    try:
        return await _rates(lambda: app.invoke(GetNearestDc()), quick)
    finally:
        await app.disconnect()


def _bare(quick: bool) -> Rates:
    """The machine and the cluster in memory: requests per second, one at a time and with
    IN_FLIGHT in flight (both sides' protocol work, no sockets, no event loop)."""
    from sansio_mtdc.client import Client
    from sansio_mtdc.server import Cluster
    from sansio_mtdc.sim.addresses import cluster_config
    from sansio_mtdc.sim.network import SimNetwork
    from sansio_mtdc.tl import api

    cluster = Cluster(cluster_config(3, test_mode=True), random=os.urandom)
    net = SimNetwork(cluster, latency=1e-6)  # virtual time: no cost
    client = Client(net.client_config(dc=HOME_DC, follow_nearest_dc=False), random=os.urandom)
    request = api.functions.help.GetNearestDc()

    def batch(size: int) -> None:
        rids = [client.invoke(request, now=net.now) for _ in range(size)]
        net.run(client, until=lambda: all(net.outcome(r) is not None for r in rids))

    batch(20)
    sequential, parallel = (SEQUENTIAL // 10, PARALLEL // 10) if quick else (SEQUENTIAL,
                                                                           PARALLEL)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(sequential):
        batch(1)
    one = sequential / (time.perf_counter() - start)
    cpu_each = (time.process_time() - cpu) / sequential
    start = time.perf_counter()
    for _ in range(parallel // IN_FLIGHT):
        batch(IN_FLIGHT)
    many = parallel / (time.perf_counter() - start)
    return one, many, cpu_each


def _best(runs: list[Rates | None]) -> Rates | None:
    """The best of interleaved runs: the machine is shared, noise only ever slows a run."""
    done = [r for r in runs if r is not None]
    if not done:
        return None
    return (max(r[0] for r in done), max(r[1] for r in done), min(r[2] for r in done))


def run(table_factory, quick: bool) -> None:  # type: ignore[no-untyped-def]
    table = table_factory(
        "adapter: help.getNearestDc on loopback (server in its own process; best of "
        f"{1 if quick else 3} interleaved runs)",
        ["client", "one at a time", f"{IN_FLIGHT} in flight", "client CPU per request",
         "vs telethon (rate, rate, CPU)"])
    clients: list[tuple[str, Callable[[dict[str, Any]], Rates | None]]] = [
        ("sansio_mtdc AsyncClient", lambda served: asyncio.run(_ours(served, quick))),
        ("telethon 1.45", lambda served: asyncio.run(_telethon(served, quick))),
        ("pyrogram (kurigram)", lambda served: _safe(
            lambda: asyncio.run(_pyrogram(served, quick)))),
    ]
    runs: dict[str, list[Rates | None]] = {name: [] for name, _ in clients}
    with _served() as served:
        for _ in range(1 if quick else 3):
            for name, measure in clients:
                runs[name].append(measure(served))
    rows = [(name, _best(runs[name])) for name, _ in clients]
    rows.append(("bare machine + cluster in memory", _bare(quick)))
    telethon = rows[1][1]
    for name, rates in rows:
        if rates is None:
            table.add(name, "-", "-", "-", "-")
            continue
        versus = ("-" if telethon is None else
                  f"{rates[0] / telethon[0]:.2f}x / {rates[1] / telethon[1]:.2f}x / "
                  f"{telethon[2] / rates[2]:.2f}x")
        table.add(name, f"{rates[0]:,.0f}/s", f"{rates[1]:,.0f}/s", fmt_time(rates[2]), versus)
    table.print()


def _safe(run_it: Callable[[], Rates | None]) -> Rates | None:
    try:
        return run_it()
    except Exception as exc:  # a third-party client's internals moved: say so, keep the rest
        print(f"  (pyrogram run failed: {exc!r})", file=sys.stderr)
        return None
