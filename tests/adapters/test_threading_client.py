"""The threaded client on real loopback sockets against the reference cluster on its own thread:
the DC scenarios with their round-trip counts, restart, FLOOD_WAIT, timeouts, cancellation, many
calling threads, a cut and a split connection through the FaultProxy, the candidate race, and
no socket or thread left behind, failures included."""

from __future__ import annotations

import collections
import concurrent.futures
import gc
import hashlib
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sansio_mtdc.adapters.proxy import FaultProxy
from sansio_mtdc.adapters.serve import ClusterThread
from sansio_mtdc.adapters.storage import SQLiteStore
from sansio_mtdc.adapters.threading_client import ThreadedClient
from sansio_mtdc.client import ClientConfig, Limits
from sansio_mtdc.client.errors import (
    ConnectionFailedError,
    RequestCancelled,
    RequestTimeout,
)
from sansio_mtdc.client.events import AuthKeyCreated, Event, Failed, Result, Retrying
from sansio_mtdc.dc.endpoint import Endpoint
from sansio_mtdc.errors import UsageError
from sansio_mtdc.sim.addresses import client_config
from sansio_mtdc.sim.scenarios import (
    file_request,
    phone_of,
    self_request,
    send_code_request,
    sign_in_request,
)
from sansio_mtdc.tl import api

pytestmark = [
    pytest.mark.timeout(120),
    # a socket dropped without close() is a leak even though the collector closes it
    pytest.mark.filterwarnings("error::ResourceWarning",
                               "error::pytest.PytestUnraisableExceptionWarning"),
]

#: a generous bound so that a broken test fails instead of hanging (not a speed check)
BOUND = 30.0
#: addresses of the IPv6 discard prefix (RFC 6666): nothing answers there.  A connect hangs
#: until it times out, or until the network gives up on the route (about 3 s in some sandboxes)
SILENT = [f"100::{n}" for n in range(1, 7)]
PART = 1 << 20


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def settled(check: Callable[[], bool]) -> bool:
    """Whether ``check`` holds within :data:`BOUND` (other threads may still be finishing)."""
    done = threading.Event()
    for _ in range(int(BOUND / 0.02)):
        if check():
            return True
        done.wait(0.02)
    return check()


@pytest.fixture
def cluster() -> Iterator[ClusterThread]:
    thread = ClusterThread()
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture(autouse=True)
def nothing_left_behind(cluster: ClusterThread) -> Iterator[None]:
    """After each test every socket the client opened is closed and its I/O thread is gone
    (the cluster's side of the sockets closes on its own thread: it is waited for)."""
    fds, threads = open_fds(), set(threading.enumerate())
    yield
    gc.collect()  # a socket nobody closed warns now, inside the test
    assert settled(lambda: open_fds() <= fds), open_fds() - fds
    assert settled(lambda: set(threading.enumerate()) <= threads)


def config_of(cluster: ClusterThread, **options: Any) -> ClientConfig:
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


def sign_in(client: ThreadedClient, phone: str) -> Any:
    sent = client.invoke(send_code_request(phone))
    return client.invoke(sign_in_request(phone, sent.phone_code_hash)).user


def download(client: ThreadedClient, document: Any, size: int, dc: int) -> bytes:
    """The first part without its DC (a FILE_MIGRATE tells), the others sent there directly."""
    parts = [client.invoke(file_request(document, offset=offset), dc=dc if offset else None)
             for offset in range(0, size, PART)]
    return b"".join(part.bytes for part in parts)


def test_cold_start_and_phone_migrate_sign_in(cluster: ClusterThread) -> None:
    with ThreadedClient(config_of(cluster, dc=2)) as client:
        rounds = client.round_trips
        sent = client.invoke(send_code_request(phone_of(3)), timeout=BOUND)
        assert client.round_trips - rounds == 10  # cold start and PHONE_MIGRATE_3, as simulated
        assert client.client.home_dc == 3
        auth = client.invoke(sign_in_request(phone_of(3), sent.phone_code_hash))
        assert auth.user.phone == phone_of(3)
    counters = cluster.call(lambda c: c.counters)
    assert counters.handshakes[2] == 1 and counters.handshakes[3] == 1


def test_file_migrate_download_with_export_and_import(cluster: ClusterThread) -> None:
    stored = cluster.running.files[4]
    with ThreadedClient(config_of(cluster, dc=2)) as client:
        sign_in(client, phone_of(2))
        rounds = client.round_trips
        data = download(client, stored.document, stored.size, 4)
        assert client.round_trips - rounds == 6 + 1  # FILE_MIGRATE_4 flow, then part two
    assert len(data) == stored.size == 1_300_000
    assert hashlib.sha256(data).hexdigest() == stored.sha256
    counters = cluster.call(lambda c: c.counters)
    assert counters.exports[2] == 1 and counters.imports[4] == 1
    assert counters.executions("upload.getFile", 4) == 2


def test_user_migrate_follows_the_user(cluster: ClusterThread) -> None:
    with ThreadedClient(config_of(cluster, dc=2)) as client:
        sign_in(client, phone_of(2))
        cluster.call(lambda c: c.migrate_user(phone_of(2), 4))
        rounds = client.round_trips
        [me] = client.invoke(self_request(), timeout=BOUND)
        assert me.self and client.client.home_dc == 4
        assert client.round_trips - rounds == 6
    assert cluster.call(lambda c: c.counters.imports[4]) == 1


def test_restart_from_sqlite_makes_no_new_key(cluster: ClusterThread, tmp_path: Path) -> None:
    path = tmp_path / "account.session"
    first = Ends()
    with ThreadedClient(config_of(cluster, dc=2), store=SQLiteStore(path),
                        on_event=first) as client:
        sign_in(client, phone_of(2))
    assert first.of(AuthKeyCreated)
    handshakes = cluster.call(lambda c: sum(c.counters.handshakes.values()))
    second = Ends()
    with ThreadedClient(config_of(cluster, dc=2), store=SQLiteStore(path),
                        on_event=second) as client:
        [me] = client.invoke(self_request(), timeout=BOUND)
        assert me.self and client.round_trips == 2  # connect, then the request
    assert not second.of(AuthKeyCreated)
    assert cluster.call(lambda c: sum(c.counters.handshakes.values())) == handshakes


def test_flood_wait_is_waited_out_and_the_request_runs_once(cluster: ClusterThread) -> None:
    ends = Ends()
    config = config_of(cluster, dc=2, limits=Limits(flood_wait_ceiling=5.0))
    with ThreadedClient(config, on_event=ends) as client:
        sign_in(client, phone_of(2))
        cluster.call(lambda c: c.inject_error(420, "FLOOD_WAIT_1", method="users.getUsers"))
        [me] = client.invoke(self_request(), timeout=BOUND)
        assert me.self
    [retry] = ends.of(Retrying)
    assert retry.delay >= 1.0 and "FLOOD_WAIT_1" in retry.reason
    counters = cluster.call(lambda c: c.counters)
    assert counters.injected[2, "users.getUsers"] == 1
    assert counters.executions("users.getUsers") == 1


def test_timeout_and_cancel_end_the_request_in_the_machine(cluster: ClusterThread) -> None:
    ends = Ends()
    with ThreadedClient(config_of(cluster, dc=2), on_event=ends) as client:
        sign_in(client, phone_of(2))
        cluster.call(lambda c: c.delay_answers(30.0, method="users.getUsers"))
        with pytest.raises(RequestTimeout):
            client.invoke(self_request(), timeout=0.2)
        assert client.client.pending == 0
        ran = cluster.call(lambda c: c.counters.executions("users.getUsers"))
        future = client.submit(self_request())
        assert settled(lambda: cluster.call(
            lambda c: c.counters.executions("users.getUsers")) > ran)  # sent, unanswered
        assert future.cancel()
        assert ends.cancelled.wait(BOUND)  # the cancel reached the machine
        assert client.client.pending == 0
        cluster.call(lambda c: c.delay_answers(0, method="users.getUsers"))
        [me] = client.invoke(self_request(), timeout=BOUND)
        assert me.self
    assert all(count == 1 for count in ends.ends.values())


def test_close_ends_pending_requests_and_refuses_new_ones(cluster: ClusterThread) -> None:
    client = ThreadedClient(config_of(cluster, dc=2))
    with client:
        sign_in(client, phone_of(2))
        cluster.call(lambda c: c.delay_answers(30.0))
        pending = [client.submit(self_request()) for _ in range(3)]
    for future in pending:
        with pytest.raises(RequestCancelled):
            future.result(BOUND)
    with pytest.raises(UsageError):
        client.invoke(self_request())
    client.close()  # twice is fine


def test_eight_threads_fifty_requests_each_all_answered_once(cluster: ClusterThread) -> None:
    ends = Ends()
    with ThreadedClient(config_of(cluster, dc=2), on_event=ends) as client:
        sign_in(client, phone_of(2))
        before = cluster.call(lambda c: c.counters.executions("help.getConfig"))
        start = threading.Barrier(8)

        def caller() -> list[int]:
            start.wait()
            return [client.invoke(api.functions.help.GetConfig()).this_dc for _ in range(50)]

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = [dc for got in pool.map(lambda _: caller(), range(8)) for dc in got]
        assert answers == [2] * 400
        assert client.client.pending == 0
    assert cluster.call(lambda c: c.counters.executions("help.getConfig")) - before == 400
    assert len(ends.ends) == 402 and set(ends.ends.values()) == {1}


def test_misuse_is_refused(cluster: ClusterThread) -> None:
    with ThreadedClient(config_of(cluster, dc=2)) as client:
        with pytest.raises(UsageError):
            client.invoke(object())  # raised on the I/O thread, handed back
        seen: list[BaseException] = []
        done = threading.Event()

        def from_the_io_thread(_: concurrent.futures.Future[Any]) -> None:
            try:
                client.invoke(api.functions.help.GetNearestDc())
            except UsageError as exc:
                seen.append(exc)
            done.set()

        client.submit(api.functions.help.GetNearestDc()).add_done_callback(from_the_io_thread)
        assert done.wait(BOUND) and seen


# --- faults on the wire, through the FaultProxy ------------------------------------------


@pytest.fixture
def proxy(cluster: ClusterThread) -> Iterator[FaultProxy]:
    with FaultProxy(cluster.running.addresses) as proxy:
        cluster.call(lambda c: c.advertise(proxy.addresses))
        yield proxy


def test_a_connection_cut_mid_download_loses_nothing(cluster: ClusterThread,
                                                     proxy: FaultProxy) -> None:
    stored = cluster.running.files[4]
    ends = Ends()
    with ThreadedClient(config_of(cluster, dc=2), on_event=ends) as client:
        sign_in(client, phone_of(2))
        proxy.cut_after(300_000, direction="down", key=4)  # inside the first 1 MiB part
        data = download(client, stored.document, stored.size, 4)
    assert hashlib.sha256(data).hexdigest() == stored.sha256
    assert proxy.stats(4).cut == 1
    assert set(ends.ends.values()) == {1} and len(ends.ends) == 4


def test_packets_split_in_half_both_ways(cluster: ClusterThread, proxy: FaultProxy) -> None:
    stored = cluster.running.files[4]
    ends = Ends()
    with ThreadedClient(config_of(cluster, dc=2), on_event=ends) as client:
        proxy.split_writes(direction="up", pause=0.05, times=4)
        proxy.split_writes(direction="down", pause=0.05, times=4)
        sign_in(client, phone_of(2))
        proxy.split_writes(direction="down", pause=0.05, key=4, times=4)
        data = download(client, stored.document, stored.size, 4)
    assert hashlib.sha256(data).hexdigest() == stored.sha256
    assert set(ends.ends.values()) == {1} and len(ends.ends) == 4


def test_writes_wait_for_a_peer_that_reads_slowly(cluster: ClusterThread,
                                                  proxy: FaultProxy) -> None:
    """Eight MiB of upload at once behind a delaying proxy: the kernel's buffers fill, sends
    come back partial and the rest waits for the socket to be writable again."""
    ends = Ends()
    with ThreadedClient(config_of(cluster, dc=2), on_event=ends) as client:
        sign_in(client, phone_of(2))
        proxy.delay(0.3, direction="up")
        file_id = secrets.randbits(63)
        parts = [client.submit(api.functions.upload.SaveFilePart(
            file_id=file_id, file_part=n, bytes=os.urandom(512 * 1024)), timeout=BOUND)
            for n in range(16)]
        assert [part.result(BOUND) for part in parts] == [True] * 16
    assert cluster.call(lambda c: c.counters.executions("upload.saveFilePart")) == 16
    assert set(ends.ends.values()) == {1}


# --- the candidates' race and failures -----------------------------------------------------


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port nobody listens on (bound, never listening: connects are refused)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


def test_silent_ipv6_candidates_cost_only_the_stagger(cluster: ClusterThread,
                                                      refused_port: int) -> None:
    """IPv6 preferred, and silent; IPv4 starts one stagger later (a refused address, so at
    once the next silent one, then the good one): connected after about 0.5 s.  Waiting for
    each silent one to fail instead would take at least two connect failures (6 s where the
    network reports them, 120 s with the 60 s connect timeout), past the 3 s bound."""
    host, port = cluster.running.addresses[2]
    config = config_of(cluster, dc=2, ipv6="prefer", limits=Limits(connect_timeout=60.0),
                       endpoints=(Endpoint(2, SILENT[0], port, ipv6=True),
                                  Endpoint(2, SILENT[1], port, ipv6=True),
                                  Endpoint(2, host, refused_port), Endpoint(2, host, port)))
    with ThreadedClient(config) as client:
        assert client.invoke(api.functions.help.GetNearestDc(), timeout=3.0).this_dc == 2


@pytest.fixture
def ipv6_cluster() -> Iterator[ClusterThread]:
    thread = ClusterThread(ipv6_host="::1")
    try:
        thread.start()
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback: {exc}")
    yield thread
    thread.stop()


def test_six_silent_candidates_then_ipv6_loopback(ipv6_cluster: ClusterThread,
                                                  refused_port: int) -> None:
    """IPv4 refused, then six silent IPv6 addresses before ``::1``: one new attempt per
    stagger, so ``::1`` starts at 1.5 s while the silent ones still hang (one at a time would
    take 18 s at the least, past the 10 s bound)."""
    host, port = ipv6_cluster.running.ipv6_addresses[2]
    silent = tuple(Endpoint(2, address, port, ipv6=True) for address in SILENT)
    config: ClientConfig = ipv6_cluster.call(lambda c: client_config(c, dc=2, limits=Limits(
        connect_timeout=60.0), endpoints=(Endpoint(2, "127.0.0.1", refused_port), *silent,
                                          Endpoint(2, host, port, ipv6=True))))
    with ThreadedClient(config) as client:
        assert client.invoke(api.functions.help.GetNearestDc(), timeout=10.0).this_dc == 2


def test_no_candidate_answers_fails_the_request(cluster: ClusterThread,
                                                refused_port: int) -> None:
    config = config_of(cluster, dc=2, endpoints=(Endpoint(2, "127.0.0.1", refused_port),),
                       limits=Limits(max_reconnects=2, reconnect_base=0.01, reconnect_cap=0.02))
    with ThreadedClient(config) as client, pytest.raises(ConnectionFailedError):
        client.invoke(api.functions.help.GetNearestDc(), timeout=BOUND)


def test_close_during_a_silent_connect(cluster: ClusterThread) -> None:
    port = cluster.running.addresses[2][1]
    config = config_of(cluster, dc=2, endpoints=(Endpoint(2, SILENT[0], port, ipv6=True),),
                       limits=Limits(connect_timeout=60.0))
    client = ThreadedClient(config)
    with client:
        future = client.submit(api.functions.help.GetNearestDc())
    with pytest.raises(RequestCancelled):
        future.result(BOUND)
