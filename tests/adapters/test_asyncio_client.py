"""The asyncio client on real loopback sockets against the reference cluster, served on the
same event loop: the client machine's scenarios, their round-trip counts, exactly-once under
load, timeouts, cancellation, faults on the wire through the FaultProxy (cuts both ways,
split packets, a slow link), the candidate race, and no leaked sockets."""

from __future__ import annotations

import asyncio
import hashlib
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from sansio_mtdc.adapters.asyncio_client import AsyncClient
from sansio_mtdc.adapters.proxy import FaultProxy
from sansio_mtdc.adapters.serve import RunningCluster, serve_cluster
from sansio_mtdc.adapters.storage import SQLiteStore
from sansio_mtdc.client import ClientConfig, Limits
from sansio_mtdc.client.errors import (
    ConnectionFailedError,
    FloodWaitError,
    RequestCancelled,
    RequestTimeout,
)
from sansio_mtdc.client.events import AuthKeyCreated, Event
from sansio_mtdc.dc.endpoint import Endpoint
from sansio_mtdc.errors import UsageError
from sansio_mtdc.sim.addresses import client_config
from sansio_mtdc.sim.scenarios import (
    phone_of,
    self_request,
    send_code_request,
    sign_in_request,
)
from sansio_mtdc.tl import api

from .support import BOUND, Ends, download_async, leaked_fds, open_fds, sign_in_async


@pytest.fixture
async def running() -> AsyncIterator[RunningCluster]:
    async with serve_cluster() as cluster:
        yield cluster


def document_part(running: RunningCluster, dc: int) -> tuple[object, str, int]:
    stored = running.files[dc]
    return stored.document, stored.sha256, stored.size


async def test_phone_migrate_sign_in_and_file_from_another_dc(running: RunningCluster) -> None:
    counters = running.cluster.counters
    async with AsyncClient(client_config(running.cluster, dc=2)) as client:
        rounds = client.round_trips
        sent = await asyncio.wait_for(client.invoke(send_code_request(phone_of(3))), BOUND)
        assert client.round_trips - rounds == 10  # the protocol minimum, as simulated
        assert client.client.home_dc == 3
        auth = await client.invoke(sign_in_request(phone_of(3), sent.phone_code_hash))
        assert auth.user.phone == phone_of(3)
        document, sha256, size = document_part(running, 4)
        rounds = client.round_trips
        data = await asyncio.wait_for(download_async(client, document, size, 4), BOUND)
        assert hashlib.sha256(data).hexdigest() == sha256 and len(data) == size
        assert client.round_trips - rounds == 6 + 1  # FILE_MIGRATE_4 flow, then the second part
    assert counters.exports[3] == 1 and counters.imports[4] == 1
    assert counters.executions("upload.getFile", 4) == 2


async def test_user_migrate_follows_the_user(running: RunningCluster) -> None:
    async with AsyncClient(client_config(running.cluster, dc=2)) as client:
        await sign_in_async(client, 2)
        running.cluster.migrate_user(phone_of(2), 5)
        rounds = client.round_trips
        [me] = await asyncio.wait_for(client.invoke(self_request()), BOUND)
        assert me.self and client.client.home_dc == 5
        assert client.round_trips - rounds == 6
    assert running.cluster.counters.imports[5] == 1


async def test_restart_from_sqlite_makes_no_new_key(running: RunningCluster,
                                                    tmp_path: Path) -> None:
    path = tmp_path / "account.session"
    config = client_config(running.cluster, dc=2)
    async with AsyncClient(config, store=SQLiteStore(path)) as client:
        await sign_in_async(client, 2)
    handshakes = sum(running.cluster.counters.handshakes.values())
    seen: list[Event] = []
    async with AsyncClient(config, store=SQLiteStore(path), on_event=seen.append) as client:
        rounds = client.round_trips
        [me] = await asyncio.wait_for(client.invoke(self_request()), BOUND)
        assert me.self and client.round_trips - rounds == 2  # connect, then the request
    assert not [e for e in seen if isinstance(e, AuthKeyCreated)]
    assert sum(running.cluster.counters.handshakes.values()) == handshakes


async def test_flood_wait_is_waited_out_then_above_the_ceiling_raised(
        running: RunningCluster) -> None:
    config = client_config(running.cluster, dc=2,
                           limits=Limits(flood_wait_ceiling=1.0))
    async with AsyncClient(config) as client:
        await sign_in_async(client, 2)
        running.cluster.inject_flood_wait("users.getUsers", 1)
        [me] = await asyncio.wait_for(client.invoke(self_request()), BOUND)
        assert me.self
        running.cluster.inject_flood_wait("users.getUsers", 30)
        with pytest.raises(FloodWaitError) as caught:
            await asyncio.wait_for(client.invoke(self_request()), BOUND)
        assert caught.value.seconds == 30
    assert running.cluster.counters.executions("users.getUsers") == 1


async def test_timeout_and_cancellation_end_the_request_in_the_machine(
        running: RunningCluster) -> None:
    async with AsyncClient(client_config(running.cluster, dc=2)) as client:
        await sign_in_async(client, 2)
        running.cluster.delay_answers(5.0, method="users.getUsers")
        running.wake()
        with pytest.raises(RequestTimeout):
            await client.invoke(self_request(), timeout=0.2)
        assert client.client.pending == 0
        task = asyncio.ensure_future(client.invoke(self_request()))
        await asyncio.sleep(0.1)
        assert client.client.pending == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert client.client.pending == 0
        running.cluster.delay_answers(0, method="users.getUsers")
        [me] = await asyncio.wait_for(client.invoke(self_request()), BOUND)
        assert me.self


async def test_a_thousand_concurrent_requests_all_answered_once(running: RunningCluster) -> None:
    async with AsyncClient(client_config(running.cluster, dc=2)) as client:
        await sign_in_async(client, 2)
        before = running.cluster.counters.executions("help.getConfig")
        results = await asyncio.wait_for(asyncio.gather(
            *[client.invoke(api.functions.help.GetConfig()) for _ in range(1000)]), BOUND)
        assert len(results) == 1000 and all(r.this_dc == 2 for r in results)
        assert client.client.pending == 0
    assert running.cluster.counters.executions("help.getConfig") - before == 1000


async def test_close_ends_pending_requests_and_leaks_no_socket(running: RunningCluster) -> None:
    before = open_fds()
    client = AsyncClient(client_config(running.cluster, dc=2))
    async with client:
        await sign_in_async(client, 2)
        running.cluster.delay_answers(5.0)
        running.wake()
        pending = [asyncio.ensure_future(client.invoke(self_request())) for _ in range(3)]
        await asyncio.sleep(0.05)
    for task in pending:
        with pytest.raises(RequestCancelled):
            await task
    with pytest.raises(UsageError):
        await client.invoke(self_request())
    assert not await asyncio.to_thread(leaked_fds, before)


async def test_no_candidate_answers_fails_the_request_and_leaks_nothing(
        running: RunningCluster, refused_port: int) -> None:
    before = open_fds()
    config = client_config(running.cluster, dc=2, endpoints=(
        Endpoint(2, "127.0.0.1", refused_port),),
        limits=Limits(max_reconnects=2, reconnect_base=0.01, reconnect_cap=0.02))
    async with AsyncClient(config) as client:
        with pytest.raises(ConnectionFailedError):
            await asyncio.wait_for(client.invoke(api.functions.help.GetNearestDc()), BOUND)
    assert not await asyncio.to_thread(leaked_fds, before)


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6 on this machine")
async def test_a_silent_ipv4_candidate_costs_only_the_stagger(black_hole: int) -> None:
    try:
        cluster_cm = serve_cluster(ipv6_host="::1")
        running = await cluster_cm.__aenter__()
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback: {exc}")
    try:
        good = running.ipv6_addresses[2]
        config: ClientConfig = client_config(
            running.cluster, dc=2, ipv6="allow", endpoints=(
                Endpoint(2, "127.0.0.1", black_hole), Endpoint(2, good[0], good[1], ipv6=True)),
            limits=Limits(connect_timeout=60.0))
        async with AsyncClient(config) as client:
            # without the race this would wait for the 60 s connect timeout first
            nearest = await asyncio.wait_for(
                client.invoke(api.functions.help.GetNearestDc()), 10.0)
            assert nearest.this_dc == 2
    finally:
        await cluster_cm.__aexit__(None, None, None)


async def test_a_client_belongs_to_one_event_loop(running: RunningCluster) -> None:
    client = AsyncClient(client_config(running.cluster, dc=2))
    async with client:
        await client.invoke(api.functions.help.GetNearestDc())

        def elsewhere() -> None:
            async def use() -> None:
                await client.invoke(api.functions.help.GetNearestDc())

            with pytest.raises(UsageError):
                asyncio.run(use())

        await asyncio.get_running_loop().run_in_executor(None, elsewhere)


# --- faults on the wire, through the FaultProxy ------------------------------------------


@pytest.fixture
def proxy(running: RunningCluster) -> Iterator[FaultProxy]:
    with FaultProxy(running.addresses) as proxy:
        running.cluster.advertise(proxy.addresses)
        yield proxy


@pytest.mark.parametrize("cut_at", [200, 300_000, 1_100_000])
async def test_a_connection_cut_mid_download_loses_nothing(running: RunningCluster,
                                                           proxy: FaultProxy,
                                                           cut_at: int) -> None:
    document, sha256, size = document_part(running, 4)
    ends = Ends()
    async with AsyncClient(client_config(running.cluster, dc=2), on_event=ends) as client:
        await sign_in_async(client, 2)
        proxy.cut_after(cut_at, direction="down", key=4)
        data = await asyncio.wait_for(download_async(client, document, size, 4), BOUND)
    assert hashlib.sha256(data).hexdigest() == sha256
    assert proxy.stats(4).cut == 1
    assert set(ends.ends.values()) == {1} and len(ends.ends) == 4
    assert running.cluster.counters.imports[4] == 1


async def test_a_connection_cut_on_the_way_up_runs_the_request_once(
        running: RunningCluster, proxy: FaultProxy) -> None:
    ends = Ends()
    async with AsyncClient(client_config(running.cluster, dc=2), on_event=ends) as client:
        await sign_in_async(client, 2)
        ran = running.cluster.counters.executions("help.getConfig")
        proxy.cut_after(40, direction="up", key=2)  # the next request breaks off mid-packet
        results = await asyncio.wait_for(asyncio.gather(
            *[client.invoke(api.functions.help.GetConfig()) for _ in range(20)]), BOUND)
        assert len(results) == 20
    assert proxy.stats(2).cut == 1
    assert running.cluster.counters.executions("help.getConfig") - ran == 20
    assert set(ends.ends.values()) == {1}


async def test_packets_split_in_half_both_ways(running: RunningCluster,
                                               proxy: FaultProxy) -> None:
    document, sha256, size = document_part(running, 4)
    ends = Ends()
    async with AsyncClient(client_config(running.cluster, dc=2), on_event=ends) as client:
        proxy.split_writes(direction="up", pause=0.05, times=4)
        proxy.split_writes(direction="down", pause=0.05, times=4)
        await sign_in_async(client, 2)
        proxy.split_writes(direction="down", pause=0.05, key=4, times=4)
        data = await asyncio.wait_for(download_async(client, document, size, 4), BOUND)
    assert hashlib.sha256(data).hexdigest() == sha256
    assert set(ends.ends.values()) == {1} and len(ends.ends) == 4


async def test_a_slow_network_changes_nothing_but_time(running: RunningCluster,
                                                       proxy: FaultProxy) -> None:
    proxy.delay(0.05, direction="down")
    async with AsyncClient(client_config(running.cluster, dc=2)) as client:
        rounds = client.round_trips
        sent = await asyncio.wait_for(client.invoke(send_code_request(phone_of(3))), BOUND)
        assert sent.phone_code_hash and client.round_trips - rounds == 10
