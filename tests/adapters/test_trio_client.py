"""The trio client on real loopback sockets against the reference cluster, served on a thread
of its own: the client machine's scenarios with their round-trip counts, a restart without a
key, FLOOD_WAIT, timeouts and cancel scopes, exactly-once under load and under a broken network
(through the fault proxy), the candidate race, and no leaked file descriptors."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

trio = pytest.importorskip("trio")
trio_testing = pytest.importorskip("trio.testing")

from sansio_mtdc.adapters.proxy import FaultProxy  # noqa: E402
from sansio_mtdc.adapters.serve import SAMPLE_FILE_SIZE, ClusterThread  # noqa: E402
from sansio_mtdc.adapters.storage import SQLiteStore  # noqa: E402
from sansio_mtdc.adapters.trio_client import TrioClient, open_trio_client  # noqa: E402
from sansio_mtdc.client import ClientConfig, Limits  # noqa: E402
from sansio_mtdc.client.errors import (  # noqa: E402
    ConnectionFailedError,
    FloodWaitError,
    RequestCancelled,
    RequestTimeout,
)
from sansio_mtdc.client.events import (  # noqa: E402
    AuthKeyCreated,
    Event,
    Failed,
    Result,
    Retrying,
)
from sansio_mtdc.dc.endpoint import Endpoint  # noqa: E402
from sansio_mtdc.errors import RPCError, UsageError  # noqa: E402
from sansio_mtdc.server import sample_data  # noqa: E402
from sansio_mtdc.sim.addresses import client_config  # noqa: E402
from sansio_mtdc.sim.scenarios import (  # noqa: E402
    file_request,
    phone_of,
    self_request,
    send_code_request,
    sign_in_request,
)
from sansio_mtdc.tl import api  # noqa: E402

from .support import (  # noqa: E402
    BOUND,
    UNCLOSED_SOCKETS_FAIL,
    download_async,
    leaked_fds,
    open_fds,
    sign_in_async,
)

#: a socket left for the garbage collector to close is a leak too, whatever the count says
pytestmark = UNCLOSED_SOCKETS_FAIL

T = TypeVar("T")

def run(main: Callable[[], Awaitable[T]]) -> T:
    async def bounded() -> T:
        with trio.fail_after(BOUND):
            return await main()

    result: T = trio.run(bounded)
    return result


def config_of(cluster: ClusterThread, **options: Any) -> ClientConfig:
    return client_config(cluster.running.cluster, dc=2, **options)


def ended_once(seen: list[Event]) -> Counter[int]:
    """How many times each request ended, from the machine's own events."""
    return Counter(e.rid for e in seen if isinstance(e, Result | Failed))


class SmallParts:
    """4 KiB parts of DC 2's sample file, fetched concurrently, each kept by its offset."""

    def __init__(self, cluster: ClusterThread) -> None:
        self.stored = cluster.running.files[2]
        self.got: dict[int, bytes] = {}

    async def fetch(self, client: TrioClient, offset: int) -> None:
        part = await client.invoke(file_request(self.stored.document, offset=offset, limit=4096))
        self.got[offset] = part.bytes

    def as_sampled(self) -> bool:
        """Whether every part fetched holds the sample file's bytes at its offset."""
        expected = sample_data(2, SAMPLE_FILE_SIZE)
        return all(data == expected[offset:offset + 4096] for offset, data in self.got.items())


# --- the DC scenarios ---------------------------------------------------------------------


def test_cold_start_phone_migrate_sign_in_and_file_migrate(cluster: ClusterThread) -> None:
    before = open_fds()
    stored = cluster.running.files[4]

    async def main() -> None:
        async with open_trio_client(config_of(cluster)) as client:
            rounds = client.round_trips
            sent = await client.invoke(send_code_request(phone_of(3)))
            assert client.round_trips - rounds == 10  # the protocol minimum, as simulated
            assert client.client.home_dc == 3
            auth = await client.invoke(sign_in_request(phone_of(3), sent.phone_code_hash))
            assert auth.user.phone == phone_of(3)
            rounds = client.round_trips
            data = await download_async(client, stored.document, stored.size, 4)
            assert client.round_trips - rounds == 6 + 1  # FILE_MIGRATE_4, then part two
            assert len(data) == SAMPLE_FILE_SIZE
            assert hashlib.sha256(data).hexdigest() == stored.sha256

    run(main)
    counters = cluster.running.cluster.counters
    assert counters.exports[3] == 1 and counters.imports[4] == 1
    assert counters.executions("upload.getFile", 4) == 2
    assert not leaked_fds(before)


def test_file_migrate_from_a_user_signed_in_on_dc2(cluster: ClusterThread) -> None:
    stored = cluster.running.files[4]
    seen: list[Event] = []

    async def main() -> None:
        async with open_trio_client(config_of(cluster), on_event=seen.append) as client:
            await sign_in_async(client, 2)
            rounds = client.round_trips
            data = await download_async(client, stored.document, stored.size, 4)
            assert client.round_trips - rounds == 6 + 1
            assert hashlib.sha256(data).hexdigest() == stored.sha256
            assert client.client.home_dc == 2

    run(main)
    counters = cluster.running.cluster.counters
    assert counters.exports[2] == 1 and counters.imports[4] == 1
    assert all(n == 1 for n in ended_once(seen).values())


def test_user_migrate_follows_the_user(cluster: ClusterThread) -> None:
    async def main() -> None:
        async with open_trio_client(config_of(cluster)) as client:
            await sign_in_async(client, 2)
            cluster.call(lambda c: c.migrate_user(phone_of(2), 5))
            rounds = client.round_trips
            [me] = await client.invoke(self_request())
            assert me.self and me.phone == phone_of(2)
            assert client.client.home_dc == 5
            assert client.round_trips - rounds == 6

    run(main)
    assert cluster.running.cluster.counters.imports[5] == 1


def test_restart_from_sqlite_makes_no_new_key(cluster: ClusterThread, tmp_path: Path) -> None:
    path = tmp_path / "account.session"
    config = config_of(cluster)
    first: list[Event] = []
    second: list[Event] = []

    async def sign_up() -> None:
        async with open_trio_client(config, store=SQLiteStore(path),
                                    on_event=first.append) as client:
            await sign_in_async(client, 2)

    async def resume() -> None:
        async with open_trio_client(config, store=SQLiteStore(path),
                                    on_event=second.append) as client:
            rounds = client.round_trips
            [me] = await client.invoke(self_request())
            assert me.self and client.round_trips - rounds == 2  # connect, then the request

    run(sign_up)
    handshakes = sum(cluster.running.cluster.counters.handshakes.values())
    run(resume)
    assert [e for e in first if isinstance(e, AuthKeyCreated)]
    assert not [e for e in second if isinstance(e, AuthKeyCreated)]
    assert sum(cluster.running.cluster.counters.handshakes.values()) == handshakes


def test_flood_wait_is_waited_out_then_above_the_ceiling_raised(cluster: ClusterThread) -> None:
    seen: list[Event] = []
    config = config_of(cluster, limits=Limits(flood_wait_ceiling=5.0))

    async def main() -> None:
        async with open_trio_client(config, on_event=seen.append) as client:
            await sign_in_async(client, 2)
            cluster.call(lambda c: c.inject_error(420, "FLOOD_WAIT_1", method="users.getUsers"))
            [me] = await client.invoke(self_request())  # the timer task waits the second out
            assert me.self
            assert [e.delay for e in seen if isinstance(e, Retrying)] == [1.0]
            cluster.call(lambda c: c.inject_flood_wait("users.getUsers", 30))
            with pytest.raises(FloodWaitError) as caught:
                await client.invoke(self_request())
            assert caught.value.seconds == 30

    run(main)
    assert cluster.running.cluster.counters.executions("users.getUsers") == 1


def test_an_rpc_error_is_raised_and_the_block_keeps_its_exception(
        cluster: ClusterThread) -> None:
    async def main() -> None:
        async with open_trio_client(config_of(cluster)) as client:
            cluster.call(lambda c: c.inject_error(400, "PHONE_NUMBER_INVALID",
                                                  method="auth.sendCode"))
            with pytest.raises(RPCError) as caught:
                await client.invoke(send_code_request(phone_of(2)))
            assert caught.value.message == "PHONE_NUMBER_INVALID"
            raise KeyError("from the block")

    with pytest.raises(KeyError, match="from the block"):  # not an ExceptionGroup
        run(main)


# --- time and cancellation ----------------------------------------------------------------


def test_timeout_and_cancel_scope_end_the_request_in_the_machine_once(
        cluster: ClusterThread) -> None:
    seen: list[Event] = []

    def cancelled() -> list[Event]:
        return [e for e in seen if type(e) is Failed and type(e.error) is RequestCancelled]

    async def main() -> None:
        async with open_trio_client(config_of(cluster), on_event=seen.append) as client:
            await sign_in_async(client, 2)
            cluster.call(lambda c: c.delay_answers(5.0, method="users.getUsers"))
            with pytest.raises(RequestTimeout):
                await client.invoke(self_request(), timeout=0.2)
            assert client.client.pending == 0
            with trio.move_on_after(0.2) as scope:
                await client.invoke(self_request())
            assert scope.cancelled_caught and client.client.pending == 0
            assert len(cancelled()) == 1
            async with trio.open_nursery() as nursery:  # a task cancelled from its nursery
                for _ in range(3):
                    nursery.start_soon(client.invoke, self_request())
                await trio_testing.wait_all_tasks_blocked()
                assert client.client.pending == 3
                nursery.cancel_scope.cancel()
            assert client.client.pending == 0 and len(cancelled()) == 4
            cluster.call(lambda c: c.delay_answers(0, method="users.getUsers"))
            [me] = await client.invoke(self_request())
            assert me.self

    run(main)
    assert all(n == 1 for n in ended_once(seen).values())


def test_closing_ends_pending_requests_and_leaks_nothing(cluster: ClusterThread) -> None:
    before = open_fds()
    outcomes: list[BaseException] = []

    async def pending(client: TrioClient) -> None:
        try:
            await client.invoke(self_request())
        except RequestCancelled as exc:
            outcomes.append(exc)

    async def main() -> TrioClient:
        async with trio.open_nursery() as outer, open_trio_client(config_of(cluster)) as client:
            await sign_in_async(client, 2)
            cluster.call(lambda c: c.delay_answers(5.0))
            for _ in range(3):
                outer.start_soon(pending, client)
            await trio_testing.wait_all_tasks_blocked()
            assert client.client.pending == 3
        with pytest.raises(UsageError):
            await client.invoke(self_request())
        return client

    client = run(main)
    assert len(outcomes) == 3 and client.client.closed
    assert not leaked_fds(before)


def test_two_hundred_concurrent_requests_all_answered_once(cluster: ClusterThread) -> None:
    seen: list[Event] = []
    parts = SmallParts(cluster)

    async def main() -> None:
        async with open_trio_client(config_of(cluster), on_event=seen.append) as client:
            await sign_in_async(client, 2)
            async with trio.open_nursery() as nursery:
                for i in range(200):
                    nursery.start_soon(parts.fetch, client, i * 4096)
            assert client.client.pending == 0

    run(main)
    assert len(parts.got) == 200
    assert parts.as_sampled()
    assert cluster.running.cluster.counters.executions("upload.getFile", 2) == 200
    assert all(n == 1 for n in ended_once(seen).values())


# --- connecting ---------------------------------------------------------------------------


def test_every_candidate_refused_fails_the_request_and_leaks_nothing(
        cluster: ClusterThread, refused_port: int) -> None:
    before = open_fds()
    config = config_of(cluster, endpoints=(
        Endpoint(2, "127.0.0.1", refused_port), Endpoint(2, "::1", refused_port, ipv6=True)),
        limits=Limits(max_reconnects=2, reconnect_base=0.01, reconnect_cap=0.02))

    async def main() -> None:
        async with open_trio_client(config) as client:
            with pytest.raises(ConnectionFailedError):
                await client.invoke(api.functions.help.GetNearestDc())
            assert client.dial_errors
            assert all(isinstance(e, ConnectionRefusedError) for e in client.dial_errors)

    run(main)
    assert not leaked_fds(before)


def test_a_refused_first_candidate_gives_way_to_the_next(
        cluster: ClusterThread, refused_port: int) -> None:
    good = cluster.running.addresses[2]
    config = config_of(cluster, endpoints=(
        Endpoint(2, "127.0.0.1", refused_port), Endpoint(2, *good)))

    async def main() -> None:
        async with open_trio_client(config) as client:
            nearest = await client.invoke(api.functions.help.GetNearestDc())
            assert nearest.this_dc == 2

    run(main)


def test_a_silent_candidate_does_not_hold_up_the_next(black_hole: int) -> None:
    try:
        thread = ClusterThread(ipv6_host="::1")
        thread.start()
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback: {exc}")
    before = open_fds()
    try:
        good = thread.running.ipv6_addresses[2]
        # without the race the first attempt would wait out a connect timeout far beyond BOUND
        config = client_config(thread.running.cluster, dc=2, ipv6="allow", endpoints=(
            Endpoint(2, "127.0.0.1", black_hole), Endpoint(2, good[0], good[1], ipv6=True)),
            limits=Limits(connect_timeout=10 * BOUND))

        async def main() -> None:
            async with open_trio_client(config) as client:
                nearest = await client.invoke(api.functions.help.GetNearestDc())
                assert nearest.this_dc == 2

        run(main)
        assert not leaked_fds(before)  # the silent attempt was closed too
    finally:
        thread.stop()


# --- a broken network ---------------------------------------------------------------------


def proxied_config(cluster: ClusterThread, proxy: FaultProxy) -> ClientConfig:
    """The proxy's addresses as the client's first ones."""
    return config_of(cluster, endpoints=tuple(
        Endpoint(dc, host, port) for dc, (host, port) in proxy.addresses.items()))


def test_a_connection_cut_mid_download_ends_every_request_once(
        cluster: ClusterThread, proxy: FaultProxy) -> None:
    before = open_fds()
    stored = cluster.running.files[2]
    seen: list[Event] = []

    async def main() -> None:
        config = proxied_config(cluster, proxy)
        async with open_trio_client(config, on_event=seen.append) as client:
            await sign_in_async(client, 2)
            proxy.cut_after(300_000, direction="down", key=2)  # inside the first part
            data = await download_async(client, stored.document, stored.size, 2)
            assert hashlib.sha256(data).hexdigest() == stored.sha256
            [me] = await client.invoke(self_request())
            assert me.self

    run(main)
    assert proxy.stats(2).cut == 1
    assert all(n == 1 for n in ended_once(seen).values())
    assert not leaked_fds(before)


def test_split_packets_both_ways(cluster: ClusterThread, proxy: FaultProxy) -> None:
    seen: list[Event] = []

    async def main() -> None:
        async with open_trio_client(proxied_config(cluster, proxy),
                                    on_event=seen.append) as client:
            await sign_in_async(client, 2)
            proxy.split_writes(direction="down", pause=0.2, key=2, times=3)
            proxy.split_writes(direction="up", pause=0.2, key=2, at=5)
            async with trio.open_nursery() as nursery:
                for _ in range(3):
                    nursery.start_soon(client.invoke, self_request())
            [me] = await client.invoke(self_request())
            assert me.self

    run(main)
    assert all(n == 1 for n in ended_once(seen).values())
    executions = cluster.running.cluster.counters.executions("users.getUsers", 2)
    assert executions == 4


def test_every_connection_dropped_under_load_ends_every_request_once(
        cluster: ClusterThread, proxy: FaultProxy) -> None:
    seen: list[Event] = []
    parts = SmallParts(cluster)

    async def main() -> None:
        async with open_trio_client(proxied_config(cluster, proxy),
                                    on_event=seen.append) as client:
            await sign_in_async(client, 2)
            cluster.call(lambda c: c.delay_answers(0.3, method="upload.getFile"))
            async with trio.open_nursery() as nursery:
                for i in range(50):
                    nursery.start_soon(parts.fetch, client, i * 4096)
                await trio_testing.wait_all_tasks_blocked()
                assert client.client.pending == 50
                live.append(proxy.stats(2).live)
                await trio.to_thread.run_sync(proxy.drop_all)
            assert client.client.pending == 0

    live: list[int] = []
    run(main)
    # every connection open then was dropped (a media link may connect between the two reads)
    assert live[0] >= 1 and proxy.stats(2).dropped >= live[0]
    assert len(parts.got) == 50
    assert parts.as_sampled()
    assert all(n == 1 for n in ended_once(seen).values())
