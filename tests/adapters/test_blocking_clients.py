"""The blocking clients, threaded and gevent, on real loopback sockets against the reference
cluster on its own thread, through the same scenarios: the DC flows with their round-trip
counts, a restart without a new key, FLOOD_WAIT, a cut and a split connection through the
FaultProxy, the candidate race, and no socket left behind, nor a thread (threaded client) or
a greenlet (gevent client).  What only one of them has (futures and many calling threads;
greenlets spawned and killed by the thousand) is tested in its own module."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sansio_mtdc.adapters.proxy import FaultProxy
from sansio_mtdc.adapters.serve import ClusterThread
from sansio_mtdc.adapters.storage import SQLiteStore
from sansio_mtdc.adapters.threading_client import ThreadedClient
from sansio_mtdc.client import ClientConfig, Limits
from sansio_mtdc.client.errors import ConnectionFailedError
from sansio_mtdc.client.events import AuthKeyCreated, Retrying
from sansio_mtdc.dc.endpoint import Endpoint
from sansio_mtdc.sim.addresses import client_config
from sansio_mtdc.sim.scenarios import (
    phone_of,
    self_request,
    send_code_request,
    sign_in_request,
)
from sansio_mtdc.tl import api

from .support import (
    BOUND,
    SILENT,
    UNCLOSED_SOCKETS_FAIL,
    Ends,
    config_of,
    download,
    no_greenlet_left_behind,
    no_thread_left_behind,
    sign_in,
)

pytestmark = [pytest.mark.timeout(120), *UNCLOSED_SOCKETS_FAIL]


@pytest.fixture(params=["threading", "gevent"])
def client_class(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Each blocking client class in turn (gevent's skipped where gevent is missing)."""
    if request.param == "gevent":
        pytest.importorskip("gevent")
        from sansio_mtdc.adapters.gevent_client import GeventClient

        yield GeventClient
    else:
        yield ThreadedClient


@pytest.fixture(autouse=True)
def nothing_left_behind(client_class: Any, cluster: ClusterThread) -> Iterator[None]:
    """After each test every socket the client opened is closed, and its I/O thread is gone
    (threaded client) or every greenlet it started is dead (gevent client)."""
    leak_check = (no_thread_left_behind if client_class is ThreadedClient
                  else no_greenlet_left_behind)
    with leak_check():
        yield


def test_cold_start_and_phone_migrate_sign_in(client_class: Any, cluster: ClusterThread) -> None:
    with client_class(config_of(cluster, dc=2)) as client:
        rounds = client.round_trips
        sent = client.invoke(send_code_request(phone_of(3)), timeout=BOUND)
        assert client.round_trips - rounds == 10  # cold start and PHONE_MIGRATE_3, as simulated
        assert client.client.home_dc == 3
        auth = client.invoke(sign_in_request(phone_of(3), sent.phone_code_hash))
        assert auth.user.phone == phone_of(3)
    counters = cluster.call(lambda c: c.counters)
    assert counters.handshakes[2] == 1 and counters.handshakes[3] == 1


def test_file_migrate_download_with_export_and_import(client_class: Any,
                                                      cluster: ClusterThread) -> None:
    stored = cluster.running.files[4]
    with client_class(config_of(cluster, dc=2)) as client:
        sign_in(client, phone_of(2))
        rounds = client.round_trips
        data = download(client, stored.document, stored.size, 4)
        assert client.round_trips - rounds == 6 + 1  # FILE_MIGRATE_4 flow, then part two
    assert len(data) == stored.size == 1_300_000
    assert hashlib.sha256(data).hexdigest() == stored.sha256
    counters = cluster.call(lambda c: c.counters)
    assert counters.exports[2] == 1 and counters.imports[4] == 1
    assert counters.executions("upload.getFile", 4) == 2


def test_user_migrate_follows_the_user(client_class: Any, cluster: ClusterThread) -> None:
    with client_class(config_of(cluster, dc=2)) as client:
        sign_in(client, phone_of(2))
        cluster.call(lambda c: c.migrate_user(phone_of(2), 4))
        rounds = client.round_trips
        [me] = client.invoke(self_request(), timeout=BOUND)
        assert me.self and client.client.home_dc == 4
        assert client.round_trips - rounds == 6
    assert cluster.call(lambda c: c.counters.imports[4]) == 1


def test_restart_from_sqlite_makes_no_new_key(client_class: Any, cluster: ClusterThread,
                                              tmp_path: Path) -> None:
    path = tmp_path / "account.session"
    first = Ends()
    with client_class(config_of(cluster, dc=2), store=SQLiteStore(path),
                      on_event=first) as client:
        sign_in(client, phone_of(2))
    assert first.of(AuthKeyCreated)
    handshakes = cluster.call(lambda c: sum(c.counters.handshakes.values()))
    second = Ends()
    with client_class(config_of(cluster, dc=2), store=SQLiteStore(path),
                      on_event=second) as client:
        [me] = client.invoke(self_request(), timeout=BOUND)
        assert me.self and client.round_trips == 2  # connect, then the request
    assert not second.of(AuthKeyCreated)
    assert cluster.call(lambda c: sum(c.counters.handshakes.values())) == handshakes


def test_flood_wait_is_waited_out_and_the_request_runs_once(client_class: Any,
                                                            cluster: ClusterThread) -> None:
    ends = Ends()
    config = config_of(cluster, dc=2, limits=Limits(flood_wait_ceiling=5.0))
    with client_class(config, on_event=ends) as client:
        sign_in(client, phone_of(2))
        cluster.call(lambda c: c.inject_error(420, "FLOOD_WAIT_1", method="users.getUsers"))
        [me] = client.invoke(self_request(), timeout=BOUND)
        assert me.self
    [retry] = ends.of(Retrying)
    assert retry.delay >= 1.0 and "FLOOD_WAIT_1" in retry.reason
    counters = cluster.call(lambda c: c.counters)
    assert counters.injected[2, "users.getUsers"] == 1
    assert counters.executions("users.getUsers") == 1


# --- faults on the wire, through the FaultProxy ------------------------------------------


def test_a_connection_cut_mid_download_loses_nothing(client_class: Any, cluster: ClusterThread,
                                                     proxy: FaultProxy) -> None:
    stored = cluster.running.files[4]
    ends = Ends()
    with client_class(config_of(cluster, dc=2), on_event=ends) as client:
        sign_in(client, phone_of(2))
        proxy.cut_after(300_000, direction="down", key=4)  # inside the first 1 MiB part
        data = download(client, stored.document, stored.size, 4)
    assert hashlib.sha256(data).hexdigest() == stored.sha256
    assert proxy.stats(4).cut == 1
    assert set(ends.ends.values()) == {1} and len(ends.ends) == 4


def test_packets_split_in_half_both_ways(client_class: Any, cluster: ClusterThread,
                                         proxy: FaultProxy) -> None:
    stored = cluster.running.files[4]
    ends = Ends()
    with client_class(config_of(cluster, dc=2), on_event=ends) as client:
        proxy.split_writes(direction="up", pause=0.05, times=4)
        proxy.split_writes(direction="down", pause=0.05, times=4)
        sign_in(client, phone_of(2))
        proxy.split_writes(direction="down", pause=0.05, key=4, times=4)
        data = download(client, stored.document, stored.size, 4)
    assert hashlib.sha256(data).hexdigest() == stored.sha256
    assert set(ends.ends.values()) == {1} and len(ends.ends) == 4


# --- the candidates' race and failures -----------------------------------------------------


def test_silent_ipv6_candidates_cost_only_the_stagger(client_class: Any, cluster: ClusterThread,
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
    with client_class(config) as client:
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


def test_six_silent_candidates_then_ipv6_loopback(client_class: Any,
                                                  ipv6_cluster: ClusterThread,
                                                  refused_port: int) -> None:
    """IPv4 refused, then six silent IPv6 addresses before ``::1``: one new attempt per
    stagger, so ``::1`` starts at 1.5 s while the silent ones still hang (one at a time would
    take 18 s at the least, past the 10 s bound)."""
    host, port = ipv6_cluster.running.ipv6_addresses[2]
    silent = tuple(Endpoint(2, address, port, ipv6=True) for address in SILENT)
    config: ClientConfig = ipv6_cluster.call(lambda c: client_config(c, dc=2, limits=Limits(
        connect_timeout=60.0), endpoints=(Endpoint(2, "127.0.0.1", refused_port), *silent,
                                          Endpoint(2, host, port, ipv6=True))))
    with client_class(config) as client:
        assert client.invoke(api.functions.help.GetNearestDc(), timeout=10.0).this_dc == 2


def test_no_candidate_answers_fails_the_request(client_class: Any, cluster: ClusterThread,
                                                refused_port: int) -> None:
    config = config_of(cluster, dc=2, endpoints=(Endpoint(2, "127.0.0.1", refused_port),),
                       limits=Limits(max_reconnects=2, reconnect_base=0.01, reconnect_cap=0.02))
    with client_class(config) as client, pytest.raises(ConnectionFailedError):
        client.invoke(api.functions.help.GetNearestDc(), timeout=BOUND)
