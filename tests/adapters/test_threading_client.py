"""The threaded client on real loopback sockets against the reference cluster on its own
thread, in what only it has: futures (a timeout, a cancel, close ending the pending ones),
many calling threads at once, calls from its own I/O thread refused, writes that wait for a
slow peer, a close during a silent connect; and no socket or thread left behind.  The
scenarios it shares with the gevent client are in ``test_blocking_clients.py``."""

from __future__ import annotations

import concurrent.futures
import os
import secrets
import threading
from typing import Any

import pytest

from sansio_mtdc.adapters.proxy import FaultProxy
from sansio_mtdc.adapters.serve import ClusterThread
from sansio_mtdc.adapters.threading_client import ThreadedClient
from sansio_mtdc.client import Limits
from sansio_mtdc.client.errors import RequestCancelled, RequestTimeout
from sansio_mtdc.dc.endpoint import Endpoint
from sansio_mtdc.errors import UsageError
from sansio_mtdc.sim.scenarios import phone_of, self_request
from sansio_mtdc.tl import api

from .support import BOUND, SILENT, UNCLOSED_SOCKETS_FAIL, Ends, config_of, settled, sign_in

pytestmark = [
    pytest.mark.timeout(120),
    *UNCLOSED_SOCKETS_FAIL,
    pytest.mark.usefixtures("threads_left_behind"),
]


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


def test_close_during_a_silent_connect(cluster: ClusterThread) -> None:
    port = cluster.running.addresses[2][1]
    config = config_of(cluster, dc=2, endpoints=(Endpoint(2, SILENT[0], port, ipv6=True),),
                       limits=Limits(connect_timeout=60.0))
    client = ThreadedClient(config)
    with client:
        future = client.submit(api.functions.help.GetNearestDc())
    with pytest.raises(RequestCancelled):
        future.result(BOUND)
