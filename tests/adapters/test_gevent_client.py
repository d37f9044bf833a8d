"""The gevent client on real loopback sockets against the reference cluster on a real OS
thread (nothing is monkey-patched: the hub and that thread run side by side), in what only it
has: a timeout and cancellation by killing, close ending spawned calls, a thousand greenlets
at once, calls from another OS thread refused, writes that wait for a slow peer, a close
during a silent connect; and no socket or greenlet left behind.  The scenarios it shares with
the threaded client are in ``test_blocking_clients.py``."""

from __future__ import annotations

import os
import secrets
import threading

import pytest

gevent = pytest.importorskip("gevent")

from sansio_mtdc.adapters.gevent_client import GeventClient  # noqa: E402
from sansio_mtdc.adapters.proxy import FaultProxy  # noqa: E402
from sansio_mtdc.adapters.serve import ClusterThread  # noqa: E402
from sansio_mtdc.client import Limits  # noqa: E402
from sansio_mtdc.client.errors import RequestCancelled, RequestTimeout  # noqa: E402
from sansio_mtdc.client.events import Failed  # noqa: E402
from sansio_mtdc.dc.endpoint import Endpoint  # noqa: E402
from sansio_mtdc.errors import UsageError  # noqa: E402
from sansio_mtdc.sim.scenarios import phone_of, self_request  # noqa: E402
from sansio_mtdc.tl import api  # noqa: E402

from .support import (  # noqa: E402
    BOUND,
    SILENT,
    UNCLOSED_SOCKETS_FAIL,
    Ends,
    config_of,
    settled_in_the_hub,
    sign_in,
)

pytestmark = [
    pytest.mark.timeout(120),
    *UNCLOSED_SOCKETS_FAIL,
    pytest.mark.usefixtures("greenlets_left_behind"),
]


def test_timeout_and_a_kill_end_the_request_in_the_machine(cluster: ClusterThread) -> None:
    ends = Ends()
    with GeventClient(config_of(cluster, dc=2), on_event=ends) as client:
        sign_in(client, phone_of(2))
        cluster.call(lambda c: c.delay_answers(30.0, method="users.getUsers"))
        with pytest.raises(RequestTimeout):
            client.invoke(self_request(), timeout=0.2)
        assert client.client.pending == 0
        ran = cluster.call(lambda c: c.counters.executions("users.getUsers"))
        call = client.spawn_invoke(self_request())
        assert settled_in_the_hub(lambda: cluster.call(
            lambda c: c.counters.executions("users.getUsers")) > ran)  # sent, unanswered
        call.kill()
        assert client.client.pending == 0
        assert [e for e in ends.of(Failed) if isinstance(e.error, RequestCancelled)]
        cluster.call(lambda c: c.delay_answers(0, method="users.getUsers"))
        [me] = client.invoke(self_request(), timeout=BOUND)
        assert me.self
    assert all(count == 1 for count in ends.ends.values())


def test_close_ends_pending_requests_and_refuses_new_ones(cluster: ClusterThread) -> None:
    client = GeventClient(config_of(cluster, dc=2))
    with client:
        sign_in(client, phone_of(2))
        cluster.call(lambda c: c.delay_answers(30.0))
        pending = [client.spawn_invoke(self_request()) for _ in range(3)]
        gevent.sleep(0.05)
    for call in pending:
        assert call.dead and isinstance(call.exception, RequestCancelled)
    with pytest.raises(UsageError):
        client.invoke(self_request())
    client.close()  # twice is fine


def test_a_thousand_greenlets_all_answered_once(cluster: ClusterThread) -> None:
    ends = Ends()
    with GeventClient(config_of(cluster, dc=2), on_event=ends) as client:
        sign_in(client, phone_of(2))
        before = cluster.call(lambda c: c.counters.executions("help.getConfig"))
        calls = [client.spawn_invoke(api.functions.help.GetConfig()) for _ in range(1000)]
        gevent.joinall(calls, timeout=BOUND, raise_error=True)
        assert [call.value.this_dc for call in calls] == [2] * 1000
        assert client.client.pending == 0
    assert cluster.call(lambda c: c.counters.executions("help.getConfig")) - before == 1000
    assert len(ends.ends) == 1002 and set(ends.ends.values()) == {1}


def test_misuse_is_refused(cluster: ClusterThread) -> None:
    with GeventClient(config_of(cluster, dc=2)) as client:
        with pytest.raises(UsageError):
            client.invoke(object())
        refused: list[BaseException] = []

        def elsewhere() -> None:  # another OS thread has another hub
            try:
                client.invoke(api.functions.help.GetNearestDc())
            except UsageError as exc:
                refused.append(exc)

        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()
        assert refused
        assert client.invoke(api.functions.help.GetNearestDc()).this_dc == 2


# --- faults on the wire, through the FaultProxy ------------------------------------------


def test_writes_wait_for_a_peer_that_reads_slowly(cluster: ClusterThread,
                                                  proxy: FaultProxy) -> None:
    """Eight MiB of upload at once behind a delaying proxy: the kernel's buffers fill and the
    writer greenlet waits in ``sendall`` while the others go on."""
    ends = Ends()
    with GeventClient(config_of(cluster, dc=2), on_event=ends) as client:
        sign_in(client, phone_of(2))
        proxy.delay(0.3, direction="up")
        file_id = secrets.randbits(63)
        parts = [client.spawn_invoke(api.functions.upload.SaveFilePart(
            file_id=file_id, file_part=n, bytes=os.urandom(512 * 1024)), timeout=BOUND)
            for n in range(16)]
        gevent.joinall(parts, timeout=BOUND, raise_error=True)
        assert [part.value for part in parts] == [True] * 16
    assert cluster.call(lambda c: c.counters.executions("upload.saveFilePart")) == 16
    assert set(ends.ends.values()) == {1}


# --- the candidates' race and failures -----------------------------------------------------


def test_close_during_a_silent_connect(cluster: ClusterThread) -> None:
    port = cluster.running.addresses[2][1]
    config = config_of(cluster, dc=2, endpoints=(Endpoint(2, SILENT[0], port, ipv6=True),),
                       limits=Limits(connect_timeout=60.0))
    with GeventClient(config) as client:
        call = client.spawn_invoke(api.functions.help.GetNearestDc())
        gevent.sleep(0.1)  # the attempt is under way
    assert isinstance(call.exception, RequestCancelled)
