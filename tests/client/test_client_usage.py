"""Misuse raises UsageError and changes nothing; late reports are ignored; nothing the network
does raises."""

from __future__ import annotations

import math
from typing import Any

import pytest

from sansio_mtdc.client.actions import Close, Connect, Send
from sansio_mtdc.client.config import ClientConfig, Limits
from sansio_mtdc.client.events import ConnectionStateChanged, Failed
from sansio_mtdc.client.machine import Client
from sansio_mtdc.client.state import ClientState, StateError
from sansio_mtdc.errors import UsageError
from sansio_mtdc.sim import DEFAULT_START
from sansio_mtdc.tl import api

from .worlds import World, seeded, self_request, signed_in

NOW = DEFAULT_START


def fresh() -> Client:
    world = World.make(seed="usage")
    return world.client


def actions(client: Client) -> list[Any]:
    out = []
    while (action := client.next_action()) is not None:
        out.append(action)
    return out


def events(client: Client) -> list[Any]:
    out = []
    while (event := client.next_event()) is not None:
        out.append(event)
    return out


def connected(client: Client) -> int:
    """Invoke a request and report its connection made; the conn_id."""
    client.invoke(api.functions.help.GetConfig(), now=NOW)
    connect = next(a for a in actions(client) if isinstance(a, Connect))
    client.connection_made(connect.conn_id, now=NOW, address=connect.candidates[0])
    return connect.conn_id


def snapshot(client: Client) -> tuple[Any, ...]:
    return (client.pending, client.home_dc, client.get_timer(), client.state.to_json())


@pytest.mark.parametrize("kwargs", [
    {"timeout": -1}, {"timeout": 0}, {"timeout": math.nan}, {"timeout": math.inf},
    {"timeout": True}, {"dc": 0}, {"dc": -2}, {"dc": "2"}, {"now": -1.0}, {"now": math.nan},
    {"now": float(1 << 31)}, {"now": "now"},
])
def test_bad_invoke_arguments(kwargs: dict[str, Any]) -> None:
    client = fresh()
    before = snapshot(client)
    arguments = {"now": NOW, **kwargs}
    with pytest.raises(UsageError):
        client.invoke(api.functions.help.GetConfig(), **arguments)
    assert snapshot(client) == before
    assert not actions(client) and not events(client)


class _Unserializable:
    def __bytes__(self) -> bytes:
        raise RuntimeError("no")


@pytest.mark.parametrize("request_", [object(), 42, _Unserializable(), b"\x01"],
                         ids=["object", "int", "raises", "short"])
def test_bad_requests(request_: Any) -> None:
    client = fresh()
    with pytest.raises(UsageError):
        client.invoke(request_, now=NOW)
    assert client.pending == 0 and not actions(client)


def test_a_service_message_is_refused_by_the_session_as_a_failure() -> None:
    from sansio_mtdc.tl import mtproto

    world = signed_in("service")
    rid = world.invoke(mtproto.types.MsgsAck(msg_ids=[4]))
    world.run(rid)
    ending = world.net.outcome(rid)
    assert isinstance(ending, Failed) and isinstance(ending.error, UsageError)


def test_invoke_after_close() -> None:
    client = fresh()
    client.close(now=NOW)
    with pytest.raises(UsageError):
        client.invoke(api.functions.help.GetConfig(), now=NOW)
    client.close(now=NOW)  # closing twice is harmless


def test_unknown_connection_ids() -> None:
    client = fresh()
    connected(client)
    before = snapshot(client)
    for report in (lambda: client.connection_made(99, now=NOW),
                   lambda: client.receive_data(99, b"x", now=NOW),
                   lambda: client.connection_lost(99, now=NOW),
                   lambda: client.connection_failed(99, now=NOW),
                   lambda: client.receive_data("1", b"x", now=NOW)):  # type: ignore[arg-type]
        with pytest.raises(UsageError):
            report()
    assert snapshot(client) == before


def test_a_connection_reported_made_twice() -> None:
    client = fresh()
    conn_id = connected(client)
    before = snapshot(client)
    with pytest.raises(UsageError):
        client.connection_made(conn_id, now=NOW)
    with pytest.raises(UsageError):
        client.connection_failed(conn_id, now=NOW)
    assert snapshot(client) == before


def test_data_before_the_connection_is_made() -> None:
    client = fresh()
    client.invoke(api.functions.help.GetConfig(), now=NOW)
    connect = next(a for a in actions(client) if isinstance(a, Connect))
    with pytest.raises(UsageError):
        client.receive_data(connect.conn_id, b"\x00" * 8, now=NOW)
    with pytest.raises(UsageError):
        client.receive_data(connect.conn_id, "text", now=NOW)  # type: ignore[arg-type]


def test_late_reports_for_a_closed_connection_are_ignored() -> None:
    client = fresh()
    conn_id = connected(client)
    client.receive_data(conn_id, b"\x08\x00\x00\x00" + b"\x01" * 8, now=NOW)  # no handshake
    closes = [a for a in actions(client) if isinstance(a, Close)]
    assert [c.conn_id for c in closes] == [conn_id]
    before = snapshot(client)
    client.receive_data(conn_id, b"more", now=NOW)
    client.connection_lost(conn_id, now=NOW)
    client.connection_made(conn_id, now=NOW)
    client.connection_failed(conn_id, now=NOW)
    assert snapshot(client) == before


@pytest.mark.parametrize("garbage", [
    b"\x00", b"\xef" * 100, bytes(range(256)), b"\x04\x00\x00\x00" + b"\x00" * 4,
    b"\xfc\xff\xff\xff", b"\x6c\xfe\xff\xff", b"\x44\xfe\xff\xff",
])
def test_garbage_never_raises_and_the_request_survives(garbage: bytes) -> None:
    client = fresh()
    conn_id = connected(client)
    client.receive_data(conn_id, garbage, now=NOW)
    client.handle_timer(now=NOW + 100)
    assert client.pending == 1
    client.close(now=NOW + 101)
    failed = [e for e in events(client) if isinstance(e, Failed)]
    assert len(failed) == 1


def test_connection_state_events_say_why() -> None:
    client = fresh()
    conn_id = connected(client)
    client.receive_data(conn_id, b"\x04\x00\x00\x00\x6c\xfe\xff\xff", now=NOW)  # -404
    closed = [e for e in events(client) if isinstance(e, ConnectionStateChanged)
              and e.state == "closed"]
    assert closed and "404" in (closed[0].reason or "")


def test_config_checks() -> None:
    with pytest.raises(UsageError):
        ClientConfig(api_id=1, api_hash="h", limits="fast")  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        ClientConfig(api_id=1, api_hash="h", layer=0)
    with pytest.raises(UsageError):
        ClientConfig(api_id=1, api_hash="h", session_limits=Limits())  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        Client("config", random=seeded(0))  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        Client(ClientConfig(api_id=1, api_hash="h"), random=b"")  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        Client(ClientConfig(api_id=1, api_hash="h", dc=9), random=seeded(0))


def test_state_of_the_other_mode_is_refused() -> None:
    config = ClientConfig(api_id=1, api_hash="h", test_mode=True)
    with pytest.raises(StateError):
        Client(config, state=ClientState(home_dc=2), random=seeded(0))


def test_bootstrap_tables() -> None:
    client = Client(ClientConfig(api_id=1, api_hash="h"), random=seeded(0))
    client.invoke(api.functions.help.GetConfig(), now=NOW)
    connect = next(a for a in actions(client) if isinstance(a, Connect))
    assert connect.dc_id == 2 and connect.candidates[0].host == "149.154.167.51"
    test = Client(ClientConfig(api_id=1, api_hash="h", test_mode=True, dc=1), random=seeded(0))
    test.invoke(api.functions.help.GetConfig(), now=NOW)
    connect = next(a for a in actions(test) if isinstance(a, Connect))
    assert connect.candidates[0].host == "149.154.175.10"


def test_max_pending() -> None:
    client = Client(World.make(seed=1).net.client_config(limits=Limits(max_pending=2)),
                    random=seeded(0))
    for _ in range(2):
        client.invoke(api.functions.help.GetConfig(), now=NOW)
    rid = client.invoke(api.functions.help.GetConfig(), now=NOW)
    failed = [e for e in events(client) if isinstance(e, Failed)]
    assert [f.rid for f in failed] == [rid]
    assert client.pending == 2


def test_a_new_client_connects_first_and_sends_on_connection_made() -> None:
    world = World.make(seed="order")
    client = world.client
    client.invoke(self_request(), now=NOW)
    [connect] = actions(client)
    assert isinstance(connect, Connect)
    assert connect.dc_id == 2 and connect.purpose == "main"
    assert connect.transport == "intermediate"
    client.connection_made(connect.conn_id, now=NOW, address=connect.candidates[0])
    [send] = actions(client)
    assert isinstance(send, Send) and send.conn_id == connect.conn_id
    assert send.data[:4] == b"\xee\xee\xee\xee"  # the intermediate tag, then req_pq_multi
