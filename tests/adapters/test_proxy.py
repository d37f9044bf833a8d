"""``FaultProxy`` between plain blocking sockets: a client, and an upstream the test accepts
itself, so that every byte and every way of ending is seen from both ends."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sansio_mtdc.adapters.proxy import FaultProxy, ProxyStats
from sansio_mtdc.adapters.serve import ClusterThread
from sansio_mtdc.errors import UsageError
from sansio_mtdc.server import ClusterConfig

from .support import blocking_key

#: how long a socket waits before the test fails (nothing here should come close)
PATIENCE = 10.0
#: a sleep may end this much before its time on the loop's clock
SLACK = 0.01
THREAD_NAME = "sansio_mtdc proxy"


@pytest.fixture(autouse=True)
def no_proxy_thread_left() -> Iterator[None]:
    yield
    assert not any(t.name == THREAD_NAME for t in threading.enumerate())


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        sock.settimeout(PATIENCE)
        yield sock


@pytest.fixture
def proxy(listener: socket.socket) -> Iterator[FaultProxy]:
    with FaultProxy({1: listener.getsockname()[:2]}) as running:
        yield running


def connect(proxy: FaultProxy, listener: socket.socket, key: int = 1,
            ) -> tuple[socket.socket, socket.socket]:
    """A client through the proxy and the upstream's end of the same connection."""
    client = socket.create_connection(proxy.addresses[key], timeout=PATIENCE)
    server, _ = listener.accept()
    server.settimeout(PATIENCE)
    return client, server


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    parts = bytearray()
    while len(parts) < size:
        data = sock.recv(min(size - len(parts), 1 << 16))
        assert data, f"EOF after {len(parts)} of {size} bytes"
        parts += data
    return bytes(parts)


def read_to_end(sock: socket.socket) -> tuple[bytes, str]:
    """Everything until the connection ends, and how it ended: ``"eof"`` or ``"reset"``."""
    parts = bytearray()
    while True:
        try:
            data = sock.recv(1 << 16)
        except ConnectionResetError:
            return bytes(parts), "reset"
        if not data:
            return bytes(parts), "eof"
        parts += data


def eventually(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.005)


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


# --- forwarding ------------------------------------------------------------------------------


def test_two_mebibytes_pass_unchanged_both_ways_at_once(proxy: FaultProxy,
                                                         listener: socket.socket) -> None:
    up, down = os.urandom(2 << 20), os.urandom(2 << 20)
    client, server = connect(proxy, listener)
    with client, server:
        senders = [threading.Thread(target=client.sendall, args=(up,)),
                   threading.Thread(target=server.sendall, args=(down,))]
        for sender in senders:
            sender.start()
        # the upstream is read to the end before the client reads anything: the proxy holds
        # the other way back meanwhile instead of failing or losing bytes
        assert recv_exactly(server, len(up)) == up
        assert recv_exactly(client, len(down)) == down
        for sender in senders:
            sender.join()
        assert proxy.stats() == ProxyStats(accepted=1, live=1, bytes_up=len(up),
                                           bytes_down=len(down))


def test_a_half_close_is_forwarded_and_a_clean_close_stays_clean(
        proxy: FaultProxy, listener: socket.socket) -> None:
    client, server = connect(proxy, listener)
    with client, server:
        client.sendall(b"last words")
        client.shutdown(socket.SHUT_WR)
        assert read_to_end(server) == (b"last words", "eof")
        server.sendall(b"the answer still gets through")
        server.shutdown(socket.SHUT_WR)
        assert read_to_end(client) == (b"the answer still gets through", "eof")
    eventually(lambda: proxy.stats().live == 0)
    assert proxy.stats().cut == proxy.stats().dropped == 0


def test_each_key_reaches_its_own_upstream() -> None:
    with socket.create_server(("127.0.0.1", 0)) as one, \
            socket.create_server(("127.0.0.1", 0)) as two:
        one.settimeout(PATIENCE)
        two.settimeout(PATIENCE)
        with FaultProxy({1: one.getsockname()[:2], 2: two.getsockname()[:2]}) as proxy:
            assert proxy.addresses.keys() == {1, 2}
            assert proxy.addresses[1] != proxy.addresses[2]
            for key, upstream in ((2, two), (1, one)):
                client, server = connect(proxy, upstream, key)
                with client, server:
                    client.sendall(f"to {key}".encode())
                    assert recv_exactly(server, 4) == f"to {key}".encode()
            assert proxy.stats(1).bytes_up == proxy.stats(2).bytes_up == 4
            assert proxy.stats().bytes_up == 8


def test_a_reset_on_one_side_resets_the_other(proxy: FaultProxy,
                                              listener: socket.socket) -> None:
    client, server = connect(proxy, listener)
    with client, server:
        client.sendall(b"x")
        assert recv_exactly(server, 1) == b"x"
        server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        server.close()
        assert read_to_end(client) == (b"", "reset")
    eventually(lambda: proxy.stats().live == 0)


def send_until_blocked(sock: socket.socket, cap: int) -> int:
    """Send zeros until nothing more is taken for a while (or ``cap`` bytes); how many went."""
    sock.setblocking(False)
    block = bytes(1 << 16)
    sent = 0
    try:
        while sent < cap:
            try:
                sent += sock.send(block)
            except BlockingIOError:
                _, writable, _ = select.select([], [sock], [], 0.5)
                if not writable:
                    break
    finally:
        sock.settimeout(PATIENCE)
    return sent


def test_the_sender_waits_while_the_receiver_does_not_read(proxy: FaultProxy,
                                                           listener: socket.socket) -> None:
    """Backpressure: with an upstream that never reads, the client's sends stop being taken
    after a bounded amount, instead of the proxy reading everything into memory."""
    client, server = connect(proxy, listener)
    with client, server:
        sent = send_until_blocked(client, 256 << 20)
        assert sent < 256 << 20
        assert proxy.stats().bytes_up < sent
        # and all of it arrives once the upstream reads
        threading.Thread(target=client.shutdown, args=(socket.SHUT_WR,)).start()
        data, end = read_to_end(server)
        assert (len(data), end) == (sent, "eof")


def test_bytes_held_by_a_delay_are_bounded_too(proxy: FaultProxy,
                                               listener: socket.socket) -> None:
    proxy.delay(PATIENCE * 10, direction="up")
    client, server = connect(proxy, listener)
    with client, server:
        sent = send_until_blocked(client, 256 << 20)
        assert sent < 256 << 20
        assert proxy.stats().bytes_up == 0
        proxy.drop_all()  # rather than wait for the delay
        assert read_to_end(server) == (b"", "reset")


def test_an_unreachable_upstream_resets_the_client() -> None:
    with socket.create_server(("127.0.0.1", 0)) as gone:
        address = gone.getsockname()[:2]
    with FaultProxy({1: address}) as proxy, socket.socket() as client:
        client.settimeout(PATIENCE)
        try:
            client.connect(proxy.addresses[1])
        except ConnectionResetError:
            pass  # the reset came before connect() looked
        else:
            assert read_to_end(client) == (b"", "reset")
        eventually(lambda: proxy.stats().live == 0)
        assert proxy.stats().accepted == 1


# --- cut_after -------------------------------------------------------------------------------


def test_cut_down_delivers_exactly_n_bytes_then_resets_both(proxy: FaultProxy,
                                                             listener: socket.socket) -> None:
    payload = os.urandom(300_000)
    proxy.cut_after(100_000, direction="down")
    client, server = connect(proxy, listener)
    with client, server:
        try:
            server.sendall(payload)
            upstream_saw_reset = False
        except (ConnectionResetError, BrokenPipeError):  # the reset came while it wrote
            upstream_saw_reset = True
        assert read_to_end(client) == (payload[:100_000], "reset")
        assert upstream_saw_reset or read_to_end(server)[1] == "reset"
    eventually(lambda: proxy.stats().live == 0)
    assert proxy.stats() == ProxyStats(accepted=1, cut=1, bytes_down=100_000)
    # fired once: the next connection is left alone
    client, server = connect(proxy, listener)
    with client, server:
        server.sendall(payload)
        assert recv_exactly(client, len(payload)) == payload


def test_a_cut_waits_for_a_slow_reader_before_the_reset(proxy: FaultProxy,
                                                       listener: socket.socket) -> None:
    """A reset throws away what the kernel still holds: the bytes let through must have
    reached the client first, even one that reads only after the cut."""
    payload = os.urandom(300_000)
    proxy.cut_after(60_000, direction="down")
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # room for little at once
    client.settimeout(PATIENCE)
    client.connect(proxy.addresses[1])
    server, _ = listener.accept()
    with client, server:
        with contextlib.suppress(OSError):
            server.sendall(payload)
        eventually(lambda: proxy.stats().cut == 1)
        assert read_to_end(client) == (payload[:60_000], "reset")


def test_cut_up_delivers_exactly_n_bytes_then_resets_both(proxy: FaultProxy,
                                                           listener: socket.socket) -> None:
    proxy.cut_after(10, direction="up")
    client, server = connect(proxy, listener)
    with client, server:
        server.sendall(b"hello")  # the other way is not counted
        assert recv_exactly(client, 5) == b"hello"
        with contextlib.suppress(OSError):
            client.sendall(b"0123456789abcdef")
        assert read_to_end(server) == (b"0123456789", "reset")
        assert read_to_end(client) == (b"", "reset")
    assert proxy.stats().cut == 1


def test_cut_counts_each_connection_from_when_it_was_armed(proxy: FaultProxy,
                                                           listener: socket.socket) -> None:
    early_client, early_server = connect(proxy, listener)
    with early_client, early_server:
        early_client.sendall(bytes(50))
        assert recv_exactly(early_server, 50) == bytes(50)
        proxy.cut_after(20, direction="up", times=2)
        late_client, late_server = connect(proxy, listener)
        with late_client, late_server:
            for sock in (early_client, late_client, early_client, late_client):
                with contextlib.suppress(OSError):
                    sock.sendall(b"0123456789abcde")  # 15 bytes, 30 per connection
            assert read_to_end(early_server) == (b"0123456789abcde01234", "reset")
            assert read_to_end(late_server) == (b"0123456789abcde01234", "reset")
    assert proxy.stats().cut == 2
    client, server = connect(proxy, listener)  # both times used up
    with client, server:
        client.sendall(bytes(100))
        assert recv_exactly(server, 100) == bytes(100)


def test_cut_after_zero_for_one_key_leaves_the_others_alone() -> None:
    with socket.create_server(("127.0.0.1", 0)) as one, \
            socket.create_server(("127.0.0.1", 0)) as two:
        one.settimeout(PATIENCE)
        two.settimeout(PATIENCE)
        with FaultProxy({1: one.getsockname()[:2], 2: two.getsockname()[:2]}) as proxy:
            proxy.cut_after(0, direction="up", key=2)
            client, server = connect(proxy, one, 1)
            with client, server:
                client.sendall(b"fine")
                assert recv_exactly(server, 4) == b"fine"
            client, server = connect(proxy, two, 2)
            with client, server:
                with contextlib.suppress(OSError):
                    client.sendall(b"x")
                assert read_to_end(server) == (b"", "reset")
                assert read_to_end(client) == (b"", "reset")
            assert (proxy.stats(1).cut, proxy.stats(2).cut) == (0, 1)


# --- split_writes and delay ------------------------------------------------------------------


def test_split_writes_delivers_the_first_half_alone(proxy: FaultProxy,
                                                    listener: socket.socket) -> None:
    payload = os.urandom(1000)
    pause = 0.3
    proxy.split_writes(direction="down", pause=pause)
    client, server = connect(proxy, listener)
    with client, server:
        started = time.monotonic()
        server.sendall(payload)
        assert client.recv(4096) == payload[:500]  # one write of its own
        assert recv_exactly(client, 500) == payload[500:]
        assert time.monotonic() - started >= pause - SLACK  # held back, never early
        server.sendall(payload)  # fired once
        assert recv_exactly(client, 1000) == payload


def test_split_writes_at_a_given_byte_and_what_follows_waits_behind(
        proxy: FaultProxy, listener: socket.socket) -> None:
    proxy.split_writes(direction="up", pause=0.1, at=1, times=2)
    proxy.delay(0.05, direction="up")
    client, server = connect(proxy, listener)
    with client, server:
        client.sendall(b"a")  # too short to split: left whole, the fault waits
        assert recv_exactly(server, 1) == b"a"
        for _ in range(2):
            client.sendall(b"\x05hello")
            assert server.recv(4096) == b"\x05"
            assert recv_exactly(server, 5) == b"hello"
        client.sendall(b"first")
        client.sendall(b"second")
        assert recv_exactly(server, 11) == b"firstsecond"


def test_delay_holds_every_chunk_in_one_direction(proxy: FaultProxy,
                                                  listener: socket.socket) -> None:
    held = 0.2
    proxy.delay(held, direction="up")
    client, server = connect(proxy, listener)
    with client, server:
        for word in (b"one ", b"two ", b"three"):
            started = time.monotonic()
            client.sendall(word)
            assert recv_exactly(server, len(word)) == word
            assert time.monotonic() - started >= held - SLACK
        server.sendall(b"down is not delayed")
        assert recv_exactly(client, 19) == b"down is not delayed"
        client.shutdown(socket.SHUT_WR)  # the EOF waits behind the bytes, too
        assert read_to_end(server) == (b"", "eof")
        proxy.clear()


def test_delay_of_one_key_overrides_the_one_for_all(proxy: FaultProxy,
                                                    listener: socket.socket) -> None:
    proxy.delay(PATIENCE * 10, direction="down")
    proxy.delay(0, direction="down", key=1)
    client, server = connect(proxy, listener)
    with client, server:
        server.sendall(b"not held")
        assert recv_exactly(client, 8) == b"not held"


def test_the_cluster_reassembles_split_and_delayed_packets() -> None:
    config = ClusterConfig(dc_count=2, test_mode=True)
    with ClusterThread(config, sample_size=None) as running, \
            FaultProxy(running.addresses) as proxy:
        proxy.split_writes(direction="up", pause=0.01, at=1, times=3)  # inside the length
        proxy.split_writes(direction="down", pause=0.01, times=3)
        proxy.delay(0.01, direction="down", key=2)
        result = blocking_key(proxy.addresses[2], 2, patience=PATIENCE)
        assert proxy.stats(2).accepted == 1
        assert proxy.stats(1).accepted == 0
    assert result.auth_key.id


# --- refuse and drop_all ---------------------------------------------------------------------


def test_refuse_closes_new_connections_before_the_upstream(proxy: FaultProxy,
                                                          listener: socket.socket) -> None:
    proxy.refuse(1)
    with socket.create_connection(proxy.addresses[1], timeout=PATIENCE) as refused:
        assert read_to_end(refused) == (b"", "eof")
    proxy.refuse(1, False)
    client, server = connect(proxy, listener)
    with client, server:
        # had the refused connection reached the upstream, accept() would have returned it
        client.sendall(b"hello")
        assert recv_exactly(server, 5) == b"hello"
    eventually(lambda: proxy.stats().live == 0)
    assert proxy.stats() == ProxyStats(accepted=2, refused=1, bytes_up=5)


def test_clear_forgets_faults_not_fired_yet(proxy: FaultProxy, listener: socket.socket) -> None:
    proxy.cut_after(0, direction="up")
    proxy.split_writes(direction="down", pause=PATIENCE * 10)
    proxy.delay(PATIENCE * 10, direction="up")
    proxy.refuse(1)
    proxy.clear()
    client, server = connect(proxy, listener)
    with client, server:
        client.sendall(b"ping")
        assert recv_exactly(server, 4) == b"ping"
        server.sendall(b"pong")
        assert recv_exactly(client, 4) == b"pong"
    assert proxy.stats().cut == proxy.stats().refused == 0


def test_drop_all_resets_every_live_connection(proxy: FaultProxy,
                                               listener: socket.socket) -> None:
    pairs = [connect(proxy, listener) for _ in range(3)]
    try:
        for client, server in pairs:
            client.sendall(b"x")
            assert recv_exactly(server, 1) == b"x"
        proxy.drop_all()
        assert proxy.stats().live == 0
        assert proxy.stats().dropped == 3
        for client, server in pairs:
            assert read_to_end(client) == (b"", "reset")
            assert read_to_end(server) == (b"", "reset")
        client, server = connect(proxy, listener)  # still serving
        with client, server:
            client.sendall(b"y")
            assert recv_exactly(server, 1) == b"y"
    finally:
        for client, server in pairs:
            client.close()
            server.close()


# --- life ------------------------------------------------------------------------------------


def test_exit_leaves_no_socket_or_thread_behind_even_mid_fault(
        listener: socket.socket) -> None:
    before = open_fds()
    with FaultProxy({1: listener.getsockname()[:2]}) as proxy:
        cut_client, cut_server = connect(proxy, listener)
        held_client, held_server = connect(proxy, listener)
        proxy.cut_after(3, direction="down", key=1)
        proxy.split_writes(direction="up", pause=PATIENCE * 10)
        proxy.delay(PATIENCE * 10, direction="down")
        with contextlib.suppress(OSError):
            cut_server.sendall(b"abcdef")  # cut, its last bytes held back by the delay
        held_client.sendall(b"split me")  # its second half held for long
        assert held_server.recv(64) == b"spli"
        proxy.refuse(1)
        with socket.create_connection(proxy.addresses[1], timeout=PATIENCE) as refused:
            assert read_to_end(refused)[0] == b""
        assert proxy.stats().live >= 2
    # stopping reset what was still open, without waiting for the held bytes
    assert read_to_end(held_client) == (b"", "reset")
    assert read_to_end(held_server) == (b"", "reset")
    assert read_to_end(cut_client) == (b"", "reset")
    for sock in (cut_client, cut_server, held_client, held_server):
        sock.close()
    assert open_fds() == before
    assert not any(t.name == THREAD_NAME for t in threading.enumerate())
    assert proxy.stats().live == 0
    proxy.stop()  # twice is harmless


def test_a_proxy_that_cannot_listen_raises_and_leaves_nothing() -> None:
    before = open_fds()
    with pytest.raises(OSError):
        FaultProxy({1: ("127.0.0.1", 9)}, host="192.0.2.1").start()
    assert open_fds() == before


def test_misuse_is_refused(proxy: FaultProxy) -> None:
    with pytest.raises(UsageError):
        FaultProxy({})
    with pytest.raises(UsageError):
        proxy.start()  # starts once
    sideways: Any = "sideways"
    misuses: list[Callable[[], object]] = [
        lambda: proxy.cut_after(-1, direction="up"),
        lambda: proxy.cut_after(1, direction=sideways),
        lambda: proxy.cut_after(1, direction="up", key=7),
        lambda: proxy.cut_after(1, direction="up", times=0),
        lambda: proxy.split_writes(direction="up", pause=-1),
        lambda: proxy.split_writes(direction="up", pause=0, at=0),
        lambda: proxy.delay(float("nan"), direction="down"),
        lambda: proxy.refuse(7),
        lambda: proxy.stats(7),
    ]
    for misuse in misuses:
        with pytest.raises(UsageError):
            misuse()
    idle = FaultProxy({1: ("127.0.0.1", 9)})
    with pytest.raises(UsageError):
        idle.drop_all()
    idle.stop()  # never started: nothing to do
