"""The small parts: id memories, salt schedules, limits, init parameters, cheap import."""

from __future__ import annotations

import struct
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sansio_mtdc.errors import UsageError
from sansio_mtdc.session import (
    Answer,
    InitConnectionParams,
    SaltSchedule,
    ServerLimits,
    SessionLimits,
    wire,
)
from sansio_mtdc.session.recent import DUPLICATE, NEW, TOO_OLD, RecentIds, RecentMap
from sansio_mtdc.tl import api, decode, mtproto

from .helpers import INIT, T0, Peer, events, make_client, seeded


def test_recent_ids_forget_the_lowest() -> None:
    recent = RecentIds(3)
    for msg_id in (50, 10, 40, 30):  # a container: its id arrives before lower inner ids
        assert recent.add(msg_id) == NEW
    assert 10 not in recent and recent.floor == 10
    assert recent.add(10) == TOO_OLD and recent.add(5) == TOO_OLD
    assert recent.add(40) == DUPLICATE
    assert recent.add(20) == NEW, "above the floor and unseen: new"
    assert recent.check(30) == DUPLICATE and recent.check(20) == TOO_OLD
    assert recent.highest == 50


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 200), max_size=80), st.integers(1, 10))
def test_recent_ids_never_call_a_repeat_new(ids: list[int], size: int) -> None:
    recent = RecentIds(size)
    seen: set[int] = set()
    for msg_id in ids:
        status = recent.add(msg_id)
        if msg_id in seen:
            assert status != NEW
        seen.add(msg_id)
        assert len(recent) <= size


def test_recent_map_keeps_at_least_half() -> None:
    memory: RecentMap[int, str] = RecentMap(10)
    for n in range(100):
        memory.put(n, str(n))
        assert all(k in memory for k in range(max(0, n - 4), n + 1))
        assert len(memory) <= 10
    assert memory.get(99) == "99" and memory.get(3) is None
    with pytest.raises(UsageError):
        RecentMap(1)


def test_salt_schedule_fixed_and_misuse() -> None:
    fixed = SaltSchedule.fixed(7)
    assert fixed.current(T0) == 7 and fixed.accepts(7, T0) and not fixed.accepts(8, T0)
    assert fixed.future(T0, 5) == [(int(T0), 2**31 - 1, 7)]
    with pytest.raises(UsageError):
        SaltSchedule.fixed(1 << 64)
    with pytest.raises(UsageError):
        SaltSchedule(seeded(1), start=T0, period=0)
    with pytest.raises(UsageError):
        SaltSchedule(seeded(1), start=float("nan"))


def test_salt_schedule_forgets_old_salts() -> None:
    schedule = SaltSchedule(seeded(2), start=T0, period=10, overlap=5)
    for step in range(1000):
        schedule.current(T0 + step * 10)
    assert len(schedule._salts) <= 3


@pytest.mark.parametrize(("field", "value"), [
    ("max_pending", 0), ("ack_delay", 0.0), ("ack_delay", float("inf")),
    ("ping_interval", -1.0), ("gzip_level", 10), ("container_max_messages", 2000),
    ("container_max_bytes", 2 << 20), ("ack_batch", 9000), ("max_resends", True),
])
def test_session_limits_are_checked(field: str, value: object) -> None:
    with pytest.raises(UsageError):
        SessionLimits(**{field: value})  # type: ignore[arg-type]


def test_server_limits_are_checked() -> None:
    with pytest.raises(UsageError):
        ServerLimits(dedup_window=0)
    with pytest.raises(UsageError):
        ServerLimits(time_window_past=-1.0)
    assert SessionLimits(ping_interval=None).ping_interval is None


def test_init_connection_prefix_wraps_any_query() -> None:
    query = bytes(api.functions.help.GetConfig())
    wrapped = decode(INIT.prefix() + query)
    assert wrapped == api.functions.InvokeWithLayer(layer=INIT.layer, query=(
        api.functions.InitConnection(api_id=12345, device_model="pytest", system_version="1",
                                     app_version="0.1", system_lang_code="en", lang_pack="",
                                     lang_code="en", query=api.functions.help.GetConfig())))
    with_proxy = InitConnectionParams(
        api_id=1, device_model="d", system_version="s", app_version="a", system_lang_code="en",
        lang_pack="", lang_code="en", layer=200,
        proxy=api.types.InputClientProxy(address="1.2.3.4", port=443),
        params=api.types.JsonNull())
    inner = decode(with_proxy.prefix() + query).query
    assert inner.proxy.port == 443 and inner.params == api.types.JsonNull()
    with pytest.raises(UsageError):
        InitConnectionParams(api_id="x", device_model="d", system_version="s",  # type: ignore
                             app_version="a", system_lang_code="en", lang_pack="",
                             lang_code="en").prefix()


def test_client_constructor_misuse() -> None:
    from sansio_mtdc.session import ClientSession

    from .helpers import KEY

    with pytest.raises(UsageError):
        ClientSession(b"key", salt=1, random=seeded())  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        ClientSession(KEY, salt=1 << 64, random=seeded())
    with pytest.raises(UsageError):
        ClientSession(KEY, salt=1, random=None)  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        ClientSession(KEY, salt=1, random=seeded(), session_id=1.5)  # type: ignore[arg-type]
    client = ClientSession(KEY, salt=1, random=seeded(3))
    assert -(1 << 63) <= client.session_id < 1 << 63
    assert client.salt == 1 and client.time_offset == 0.0 and not client.connected


def test_gzip_packed_message_holding_an_answer() -> None:
    client, peer = make_client(), Peer()
    client.invoke(api.functions.help.GetNearestDc(), token=1, now=T0)
    [seen] = peer.messages(client)
    nearest = api.types.NearestDc(country="NL", this_dc=2, nearest_dc=2)
    body = wire.gzip_packed(wire.pack_rpc_result(seen.msg_id, bytes(nearest)))
    client.receive(peer.packet(body), now=T0)
    assert events(client) == [Answer(1, nearest)]


def test_msg_copy_is_not_used() -> None:
    client, peer = make_client(), Peer()
    copy = struct.pack("<I", wire.MSG_COPY) + bytes(12)
    client.receive(peer.packet(copy), now=T0)
    assert events(client) == [] and client.dropped["msg_copy"] == 1


def test_a_notification_about_an_acks_only_packet_is_harmless() -> None:
    client, peer = make_client(), Peer()
    client.receive(peer.packet(api.types.UpdatesTooLong(), msg_id=peer.msg_id(answer=False)),
                   now=T0)
    events(client)
    client.handle_timer(now=T0 + 1)
    [ack] = peer.messages(client, now=T0 + 1)
    note = mtproto.types.BadServerSalt(bad_msg_id=ack.msg_id, bad_msg_seqno=ack.seqno,
                                       error_code=48, new_server_salt=9)
    client.receive(peer.packet(note, seqno=0, now=T0 + 1), now=T0 + 1)
    assert [type(e).__name__ for e in events(client)] == ["SaltChanged"]
    assert peer.take(client, now=T0 + 1) == []


def test_importing_the_session_parses_no_schema() -> None:
    code = ("import sansio_mtdc.session, sansio_mtdc.tl.registry as r; "
            "print(sum(c._schema is not None for c in r._SCHEMAS.values()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "0"
