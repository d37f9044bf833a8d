"""What the client tests of the four adapters have in common: bounds, the test cluster's
requests (sign-in, a download in parts), how each request ended, and the checks that nothing
(socket, thread, greenlet) is left behind."""

from __future__ import annotations

import collections
import contextlib
import gc
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sansio_mtdc.adapters.serve import ClusterThread
from sansio_mtdc.client import ClientConfig
from sansio_mtdc.client.errors import RequestCancelled
from sansio_mtdc.client.events import Event, Failed, Result
from sansio_mtdc.crypto import REFERENCE_CLUSTER_KEYS
from sansio_mtdc.handshake import ClientHandshake, HandshakeResult
from sansio_mtdc.server.config import TEST_DC_OFFSET
from sansio_mtdc.sim.addresses import client_config
from sansio_mtdc.sim.scenarios import file_request, phone_of, send_code_request, sign_in_request
from sansio_mtdc.transport import Full

#: a generous bound so that a broken test fails instead of hanging (not a speed check)
BOUND = 30.0
#: addresses of the IPv6 discard prefix (RFC 6666): nothing answers there.  A connect hangs
#: until it times out, or until the network gives up on the route (about 3 s in some sandboxes)
SILENT = [f"100::{n}" for n in range(1, 7)]
#: a socket dropped without close() is a leak even though the collector closes it
UNCLOSED_SOCKETS_FAIL = [pytest.mark.filterwarnings(
    "error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning")]
#: the size of a part of a file download (1 MiB)
PART = 1 << 20


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def leaked_fds(before: set[str]) -> set[str]:
    """Descriptors opened since ``before`` and still open once the cluster (and the proxy),
    on their threads in this process, had a moment to see the client's sockets go."""
    deadline = time.monotonic() + BOUND
    while (extra := open_fds() - before) and time.monotonic() < deadline:
        time.sleep(0.02)
    return extra


def settled(check: Callable[[], bool]) -> bool:
    """Whether ``check`` holds within :data:`BOUND` (other threads may still be finishing)."""
    done = threading.Event()
    for _ in range(int(BOUND / 0.02)):
        if check():
            return True
        done.wait(0.02)
    return check()


def settled_in_the_hub(check: Callable[[], bool]) -> bool:
    """Whether ``check`` holds within :data:`BOUND`; the gevent hub runs meanwhile."""
    import gevent

    with gevent.Timeout(BOUND, False):
        while not check():
            gevent.sleep(0.02)
    return check()


def live_greenlets() -> set[Any]:
    import gevent

    return {g for g in gc.get_objects() if isinstance(g, gevent.Greenlet) and not g.dead}


@contextlib.contextmanager
def no_thread_left_behind() -> Iterator[None]:
    """Afterwards every socket the client opened is closed and its I/O thread is gone (the
    cluster's side of the sockets closes on its own thread: it is waited for)."""
    fds, threads = open_fds(), set(threading.enumerate())
    yield
    gc.collect()  # a socket nobody closed warns now, inside the test
    assert settled(lambda: open_fds() <= fds), open_fds() - fds
    assert settled(lambda: set(threading.enumerate()) <= threads)


@contextlib.contextmanager
def no_greenlet_left_behind() -> Iterator[None]:
    """Afterwards every socket the client opened is closed and every greenlet it started is
    dead (the cluster's side of the sockets closes on its own thread: it is waited for), and
    nothing was monkey-patched."""
    import gevent
    from gevent import monkey

    gevent.sleep(0)  # the hub (and its loop's descriptors) exists before the count
    fds, threads, greenlets = open_fds(), set(threading.enumerate()), live_greenlets()
    yield
    gc.collect()  # a socket nobody closed warns now, inside the test
    assert not live_greenlets() - greenlets
    assert settled_in_the_hub(lambda: open_fds() <= fds), open_fds() - fds
    assert set(threading.enumerate()) <= threads
    assert not monkey.is_module_patched("socket")


def config_of(cluster: ClusterThread, **options: Any) -> ClientConfig:
    """The client's config for ``cluster``, made on the cluster's thread."""
    config: ClientConfig = cluster.call(lambda c: client_config(c, **options))
    return config


class Ends:
    """``on_event`` that counts how each request ended, to prove it ended exactly once."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.ends: collections.Counter[int] = collections.Counter()
        self.cancelled = threading.Event()

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        if isinstance(event, Result | Failed):
            self.ends[event.rid] += 1
            if isinstance(event, Failed) and isinstance(event.error, RequestCancelled):
                self.cancelled.set()

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def sign_in(client: Any, phone: str) -> Any:
    """Signs in through a blocking client (threads or gevent); the user."""
    sent = client.invoke(send_code_request(phone))
    return client.invoke(sign_in_request(phone, sent.phone_code_hash)).user


async def sign_in_async(client: Any, dc: int, number: int = 1234) -> Any:
    """Signs in the test user of ``dc`` through an async client (asyncio or trio); the user."""
    phone = phone_of(dc, number)
    sent = await client.invoke(send_code_request(phone))
    return (await client.invoke(sign_in_request(phone, sent.phone_code_hash))).user


def download(client: Any, document: Any, size: int, dc: int) -> bytes:
    """Through a blocking client, in parts: the first without its DC (a FILE_MIGRATE tells),
    the others sent there directly."""
    parts = [client.invoke(file_request(document, offset=offset), dc=dc if offset else None)
             for offset in range(0, size, PART)]
    return b"".join(part.bytes for part in parts)


async def download_async(client: Any, document: object, size: int, dc: int | None) -> bytes:
    """Through an async client, in parts: the first without its DC (a FILE_MIGRATE tells), the
    others sent there directly."""
    parts = []
    for offset in range(0, size, PART):
        part = await client.invoke(file_request(document, offset=offset),
                                   dc=dc if offset else None)
        parts.append(part.bytes)
    return b"".join(parts)


def blocking_key(address: tuple[str, int], dc_id: int, *,
                 random: Callable[[int], bytes] = os.urandom,
                 patience: float = BOUND) -> HandshakeResult:
    """An auth key made with the reference cluster over a plain blocking socket (the full
    transport), as a synchronous caller with no adapter would."""
    codec = Full("client")
    handshake = ClientHandshake(dc_id=dc_id + TEST_DC_OFFSET, keys=REFERENCE_CLUSTER_KEYS,
                                random=random, now=time.time())
    with socket.create_connection(address, timeout=patience) as sock:
        while not handshake.done:
            sock.sendall(b"".join(codec.encode(p) for p in handshake.data_to_send()))
            packets: list[Any] = []
            while not packets:
                data = sock.recv(1 << 16)
                assert data, "the server closed the connection"
                packets = codec.feed(data)
            for packet in packets:
                handshake.receive(packet, now=time.time())
    assert handshake.result is not None
    return handshake.result
