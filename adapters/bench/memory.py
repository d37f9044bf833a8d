"""Memory of one client with one ready connection, beside Telethon and Pyrogram clients.

Method (tracemalloc, in this process):

1. The whole procedure runs once first, so that modules, parsed schemas, generated TL classes
   and other module-level caches exist before anything is counted.
2. What an application shares between its accounts is made outside the measurement: the
   :class:`ClientConfig`, the random source, the saved state read from storage, and the
   reference cluster (whose key already knows the account).  A second row also shares one
   :class:`~sansio_mtdc.dc.DcTable` between the clients (``Client(..., table=shared)``), as a
   process serving many accounts of one application would.
3. Measured: a client is made from the saved state and one request goes through the simulated
   network, which brings its main connection up (connect, session, the answer).  The network
   (with the events it collected) is dropped, the garbage collected, and the traced memory read;
   then the client is dropped too and the memory read again.  The difference is what the client
   alone kept alive.  Its parts are told apart by the file that allocated each block.

Telethon and Pyrogram are measured the same way (made and dropped, the difference counted), but
unconnected: their objects before any network I/O, a floor for what they hold once connected.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import random
import tracemalloc
from collections import Counter
from typing import Any

from sansio_mtdc.client.machine import Client
from sansio_mtdc.dc.table import DcTable
from sansio_mtdc.sim import SimNetwork
from sansio_mtdc.sim.scenarios import World, phone_of, self_request

_PARTS = (("client machine", "sansio_mtdc/client/"), ("MTProto session", "sansio_mtdc/session/"),
          ("DC table", "sansio_mtdc/dc/"), ("auth key", "sansio_mtdc/crypto/"),
          ("transport codec", "sansio_mtdc/transport/"))


def _part(filename: str) -> str:
    for name, marker in _PARTS:
        if marker in filename:
            return name
    if filename.endswith("random.py"):
        return "MTProto session"  # the session's padding pool, drawn from random.randbytes
    if filename.endswith("ipaddress.py") or "tl api.types.DcOption" in filename:
        return "DC table"
    return "other"


class _Ours:
    def __init__(self) -> None:
        base = World.make(seed="memory")
        base.sign_in(phone_of(2))
        self.cluster = base.cluster
        self.state = base.saved_state()
        self.config = base.net.client_config(**base.options)
        self.random = random.Random(0).randbytes
        self.start = base.now + 60
        assert self.state.dc_table is not None
        self.table = DcTable.from_snapshot(self.state.dc_table)

    def make(self, *, shared: bool = False) -> Client:
        net = SimNetwork(self.cluster, start=self.start)
        client = Client(self.config, state=self.state, random=self.random,
                        table=self.table if shared else None)
        rid = client.invoke(self_request(), now=net.now)
        net.run(client, until=lambda: net.ended(rid))
        assert net.result(rid)[0].self
        return client


def measure(make: Any) -> tuple[int, Counter[str]]:
    """Bytes kept alive by what ``make()`` returns, and by which part."""
    make()
    gc.collect()
    tracemalloc.start(1)
    try:
        kept = make()
        gc.collect()
        with_it = tracemalloc.take_snapshot()
        held = tracemalloc.get_traced_memory()[0]
        del kept
        gc.collect()
        without = tracemalloc.take_snapshot()
        size = held - tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    parts: Counter[str] = Counter()
    for stat in with_it.compare_to(without, "filename"):
        parts[_part(stat.traceback[0].filename)] += stat.size_diff
    return size, parts


def _telethon() -> Any:
    from telethon import TelegramClient
    from telethon.sessions import StringSession

    return TelegramClient(StringSession(), 1, "hash")


def _pyrogram() -> Any:
    import pyrogram

    return pyrogram.Client("memory", api_id=1, api_hash="hash", in_memory=True,
                           no_updates=True)


def _in_a_loop(make: Any) -> tuple[int, Counter[str]]:
    async def inside() -> tuple[int, Counter[str]]:
        return measure(make)

    return asyncio.run(inside())


def run(table_factory, quick: bool) -> None:  # type: ignore[no-untyped-def]
    ours = _Ours()
    size, parts = measure(ours.make)
    table = table_factory("memory per client (tracemalloc; what dropping it frees)",
                          ["client", "bytes", "KiB", "10 000 clients"])
    table.add("sansio_mtdc, one ready connection", size, f"{size / 1024:.1f}",
              f"{size * 10_000 / 2**20:.0f} MiB")
    shared, _ = measure(lambda: ours.make(shared=True))
    table.add("  the same, DC table shared", shared, f"{shared / 1024:.1f}",
              f"{shared * 10_000 / 2**20:.0f} MiB")
    for name, marker in (("telethon", "telethon"), ("pyrogram", "pyrogram")):
        if importlib.util.find_spec(marker) is None:
            table.add(f"{name}, not connected", "not installed", "", "")
            continue
        other, _ = _in_a_loop(_telethon if name == "telethon" else _pyrogram)
        table.add(f"{name}, not connected", other, f"{other / 1024:.1f}",
                  f"{other * 10_000 / 2**20:.0f} MiB")
    table.print()
    breakdown = table_factory("sansio_mtdc client, by part", ["part", "bytes"])
    for part, count in parts.most_common():
        if count:
            breakdown.add(part, count)
    breakdown.print()
