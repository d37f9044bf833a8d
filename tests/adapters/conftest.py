"""Fixtures of the adapters' client tests: the reference cluster on a thread of its own, the
fault proxy in front of it, addresses that refuse or never answer a connect, and the checks
that a client left nothing behind.  None is autouse: a module asks for what it needs (the leak
checks with ``pytest.mark.usefixtures``)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from sansio_mtdc.adapters.proxy import FaultProxy
from sansio_mtdc.adapters.serve import ClusterThread

from .support import no_greenlet_left_behind, no_thread_left_behind


@pytest.fixture
def cluster() -> Iterator[ClusterThread]:
    thread = ClusterThread()
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture
def proxy(cluster: ClusterThread) -> Iterator[FaultProxy]:
    """The fault proxy in front of every DC, advertised by the cluster's help.getConfig."""
    with FaultProxy(cluster.running.addresses) as proxy:
        cluster.call(lambda c: c.advertise(proxy.addresses))
        yield proxy


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port nobody listens on (bound, never listening: connects are refused)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A loopback port whose accept queue is full: new connects get no answer at all (the SYN
    is dropped), like an address behind a broken route."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):  # fill the backlog (its size is rounded up by the kernel)
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for filler in fillers:
        filler.close()
    listener.close()


@pytest.fixture
def threads_left_behind(cluster: ClusterThread) -> Iterator[None]:
    """After the test every socket the client opened is closed and its I/O thread is gone
    (the cluster's side of the sockets closes on its own thread: it is waited for)."""
    with no_thread_left_behind():
        yield


@pytest.fixture
def greenlets_left_behind(cluster: ClusterThread) -> Iterator[None]:
    """After the test every socket the client opened is closed and every greenlet it started
    is dead (the cluster's side of the sockets closes on its own thread: it is waited for)."""
    with no_greenlet_left_behind():
        yield
