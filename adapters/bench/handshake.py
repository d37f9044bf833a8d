"""Auth-key handshake: client-side CPU time per handshake, beside Telethon and Pyrogram.

Every client talks to our server half (:class:`~sansio_mtdc.handshake.ServerHandshake`, with the
reference cluster's RSA key) through an in-memory wire; only the client's CPU time is counted
(``time.process_time`` around our client's calls; for Telethon and Pyrogram, the whole run minus
the time spent inside the server half).  Telethon runs its own ``do_authentication`` over its own
``MTProtoPlainSender``; Pyrogram its own ``Auth.create``; both coroutines complete without an event
loop because the wire never blocks.

Each configuration runs in a fresh interpreter, once as installed and once with gmpy2 blocked
(``sys.modules["gmpy2"] = None`` before anything is imported), so that the "pure Python" figures
are really that.  The first handshake of a process (schema parsing, the fixed-base table) is
reported apart from the median of the rest.
"""

from __future__ import annotations

import importlib.util
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Coroutine
from typing import Any

from sansio_mtdc.crypto import REFERENCE_CLUSTER_KEYS, reference_cluster_key
from sansio_mtdc.handshake import ClientHandshake, ServerHandshake

from .harness import fmt_time

__all__ = ["InMemoryWire", "pyrogram_handshake", "run", "sansio_handshake", "telethon_handshake"]

NOW = 1_782_740_645.0
#: Telethon 1.45 turns g^ab into bytes without its leading zeros, so one key in 256 fails its own
#: new_nonce_hash1 check ("Step 3 invalid new nonce hash"); it then starts over on a new
#: connection, and so does this benchmark (the failed attempt is not counted).
TELETHON_ATTEMPTS = 4
LIBRARIES = ("sansio_mtdc", "telethon", "pyrogram")


def seeded_random(seed: object) -> Any:
    rng = random.Random(str(seed))
    return rng.randbytes


def new_server(seed: object) -> ServerHandshake:
    return ServerHandshake(private_key=reference_cluster_key(), dc_id=2,
                           random=seeded_random(f"server-{seed}"), now=NOW)


class InMemoryWire:
    """A connection straight into a :class:`ServerHandshake`, with the async ``connect``,
    ``send``, ``recv`` and ``close`` that Telethon's and Pyrogram's connections have.  Time spent
    inside the server half is added up in ``server_seconds``."""

    def __init__(self, server: ServerHandshake) -> None:
        self.server = server
        self.server_seconds = 0.0
        self._inbox: list[bytes] = []

    def deliver(self, payload: bytes) -> None:
        start = time.process_time()
        self.server.receive(payload, now=NOW)
        self._inbox.extend(self.server.data_to_send())
        self.server_seconds += time.process_time() - start

    async def connect(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def send(self, data: bytes) -> None:
        self.deliver(bytes(data))

    async def recv(self) -> bytes:
        return self._inbox.pop(0)

    async def close(self) -> None:
        return None


def complete(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that never has to wait, without an event loop."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    coroutine.close()
    raise RuntimeError("the in-memory handshake had to wait for something")


def sansio_handshake(seed: object, server: ServerHandshake | None = None) -> tuple[bytes, float]:
    """Our client against our server half: ``(auth key, client CPU seconds)``."""
    server = server or new_server(seed)
    rnd = seeded_random(f"client-{seed}")
    start = time.process_time()
    client = ClientHandshake(dc_id=2, keys=REFERENCE_CLUSTER_KEYS, random=rnd, now=NOW)
    outgoing = client.data_to_send()
    spent = time.process_time() - start
    while not client.done:
        for payload in outgoing:
            server.receive(payload, now=NOW)
        answers = server.data_to_send()
        start = time.process_time()
        for payload in answers:
            client.receive(payload, now=NOW)
        outgoing = client.data_to_send()
        spent += time.process_time() - start
    assert client.result is not None
    return client.result.auth_key.key, spent


_telethon_ready = False


def telethon_handshake(server: ServerHandshake) -> tuple[bytes, float]:
    """Telethon's ``do_authentication`` against ``server``: ``(auth key, client CPU seconds)``.
    Telethon is told the reference cluster's key (its own key table is global)."""
    global _telethon_ready
    import logging
    from collections import defaultdict

    from telethon.crypto import rsa
    from telethon.network.authenticator import do_authentication
    from telethon.network.mtprotoplainsender import MTProtoPlainSender

    if not _telethon_ready:
        rsa.add_key(reference_cluster_key().public.to_pem(), old=False)
        _telethon_ready = True
    wire = InMemoryWire(server)
    loggers: Any = defaultdict(lambda: logging.getLogger("telethon"))
    start = time.process_time()
    sender = MTProtoPlainSender(wire, loggers=loggers)
    auth_key, _time_offset = complete(do_authentication(sender))
    spent = time.process_time() - start - wire.server_seconds
    return bytes(auth_key.key), spent


_pyrogram_ready = False


class _PyrogramClient:
    """The attributes of ``pyrogram.Client`` that ``Auth`` reads."""

    def __init__(self, wire: InMemoryWire) -> None:
        self.ipv6 = False
        self.proxy = None
        self.protocol_factory = None
        self.loop = None
        self.server_time = NOW
        self.connection_factory = lambda **kwargs: wire


def pyrogram_handshake(server: ServerHandshake) -> tuple[bytes, float]:
    """Pyrogram's ``Auth.create`` against ``server``: ``(auth key, client CPU seconds)``."""
    global _pyrogram_ready
    from pyrogram.crypto import rsa
    from pyrogram.session.auth import Auth

    if not _pyrogram_ready:
        key = reference_cluster_key().public
        rsa.server_public_keys[key.fingerprint] = rsa.PublicKey(key.n, key.e)
        _pyrogram_ready = True
    wire = InMemoryWire(server)
    start = time.process_time()
    auth = Auth(_PyrogramClient(wire), 2, "127.0.0.1", 443, False)  # type: ignore[arg-type]
    auth_key = complete(auth.create())  # type: ignore[no-untyped-call]
    spent = time.process_time() - start - wire.server_seconds
    return bytes(auth_key), spent


def _one(library: str, seed: int) -> float:
    for attempt in range(TELETHON_ATTEMPTS):
        server = new_server(f"{seed}-{attempt}")
        if library == "sansio_mtdc":
            key, spent = sansio_handshake(seed, server)
        elif library == "pyrogram":
            key, spent = pyrogram_handshake(server)
        else:
            try:
                key, spent = telethon_handshake(server)
            except Exception as exc:  # its SecurityError: see TELETHON_ATTEMPTS
                if type(exc).__name__ != "SecurityError":
                    raise
                continue
        assert server.result is not None and server.result.auth_key.key == key, library
        return spent
    raise RuntimeError(f"Telethon failed {TELETHON_ATTEMPTS} handshakes in a row")


def measure(runs: int) -> dict[str, Any]:
    """In this process: ``{library: {"first": s, "median": s, "runs": n}}`` for each library
    that is installed, plus whether gmpy2 is in use."""
    from sansio_mtdc.crypto.arith import gmpy2_module

    out: dict[str, Any] = {"gmpy2": gmpy2_module() is not None}
    for library in LIBRARIES:
        if importlib.util.find_spec(library) is None:
            continue
        samples = [_one(library, seed) for seed in range(runs + 1)]
        out[library] = {"first": samples[0], "median": statistics.median(samples[1:]),
                        "runs": runs}
    return out


_CHILD = """
import json, sys
if {block}:
    sys.modules["gmpy2"] = None
from sansio_mtdc.adapters.bench.handshake import measure
print(json.dumps(measure({runs})))
"""


def _child(block_gmpy2: bool, runs: int) -> dict[str, Any]:
    code = _CHILD.format(block=block_gmpy2, runs=runs)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"the measuring interpreter failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def run(table_factory, quick: bool) -> None:  # type: ignore[no-untyped-def]
    runs = 8 if quick else 40
    table = table_factory(
        f"auth-key handshake, client CPU per handshake (median of {runs}, in-memory server)",
        ["client", "gmpy2", "median", "vs us", "first in process"])
    for block in (True, False):
        figures = _child(block, runs)
        mode = "yes" if figures["gmpy2"] else "no"
        ours = figures["sansio_mtdc"]["median"]
        for library in LIBRARIES:
            if library not in figures:
                table.add(library, mode, "not installed", "", "")
                continue
            row = figures[library]
            table.add(library, mode, fmt_time(row["median"]), f"{row['median'] / ours:.2f}x",
                      fmt_time(row["first"]))
    table.print()
    print("targets: under 40 ms without gmpy2, under 15 ms with it (Telethon and Pyrogram use "
          "neither gmpy2 nor a fixed-base table, so their two rows differ by noise only)")
