"""Every test knob of the cluster, and the counters, through the real client stack."""

from __future__ import annotations

from typing import Any

import pytest

from sansio_mtdc.errors import RPCError, UsageError
from sansio_mtdc.server import Cluster
from sansio_mtdc.tl import api

from .wiring import NOW, Client, cluster, installed_key, sign_in

F = api.functions
T = api.types
PHONE = "9996621234"
GET_ME = F.users.GetUsers(id=[T.InputUserSelf()])


def client_on(c: Cluster, dc_id: int, seed: int | str = 1, **kw: Any) -> Client:
    client = Client(c, dc_id, seed=seed, **kw)
    key, salt = installed_key(c, dc_id, seed)
    client.use_key(key, salt)
    return client


def test_migrate_user_then_carry_the_authorization_over() -> None:
    c = cluster()
    old = client_on(c, 2)
    sign_in(old, PHONE)
    c.migrate_user(PHONE, 4)
    assert old.invoke(GET_ME) == RPCError(303, "USER_MIGRATE_4")
    assert old.invoke(F.updates.GetState()) == RPCError(303, "USER_MIGRATE_4")
    exported = old.invoke(F.auth.ExportAuthorization(dc_id=4))
    new = client_on(c, 4, seed=2)
    imported = new.invoke(F.auth.ImportAuthorization(id=exported.id, bytes=exported.bytes))
    assert imported.user.id == int(PHONE)
    assert new.invoke(GET_ME)[0].id == int(PHONE)
    assert c.user(PHONE).home_dc == 4 and c.user(int(PHONE)).former_homes == {2}
    assert (c.counters.exports[2], c.counters.imports[4]) == (1, 1)
    with pytest.raises(UsageError):
        c.migrate_user("12345", 1)
    with pytest.raises(UsageError):
        c.migrate_user(PHONE, 9)


def test_phone_migrate_then_sign_in_on_the_right_dc() -> None:
    c = cluster()
    first = client_on(c, 1)
    assert sign_in(first, "9996631111") == RPCError(303, "PHONE_MIGRATE_3")
    right = Client(c, 3, seed=2)
    right.login_key()
    assert sign_in(right, "9996631111").user.phone == "9996631111"


def test_flood_wait_n_times_on_one_dc() -> None:
    c = cluster()
    two, three = client_on(c, 2), client_on(c, 3, seed=2)
    c.inject_flood_wait("help.getNearestDc", 12, times=2, dc_id=2)
    assert three.invoke(F.help.GetNearestDc()).this_dc == 3
    assert two.invoke(F.help.GetNearestDc()) == RPCError(420, "FLOOD_WAIT_12")
    assert two.invoke(F.help.GetConfig()).this_dc == 2
    assert two.invoke(F.help.GetNearestDc()) == RPCError(420, "FLOOD_WAIT_12")
    assert two.invoke(F.help.GetNearestDc()).this_dc == 2
    assert c.counters.executions("help.getNearestDc", 2) == 1
    assert c.counters.injected[(2, "help.getNearestDc")] == 2
    assert RPCError(420, "FLOOD_WAIT_12").value == 12


@pytest.mark.parametrize(("code", "message", "unbinds"), [
    (500, "INTERNAL", False), (401, "AUTH_KEY_UNREGISTERED", True),
    (401, "SESSION_REVOKED", True), (400, "SOMETHING_ODD", False),
])
def test_inject_any_error_once_on_a_chosen_dc(code: int, message: str, unbinds: bool) -> None:
    c = cluster()
    home = client_on(c, 2)
    sign_in(home, PHONE)
    other = client_on(c, 2, seed=2)
    c.inject_error(code, message, dc_id=2)
    assert other.invoke(F.help.GetConfig()) == RPCError(code, message)
    assert other.invoke(F.help.GetConfig()).this_dc == 2
    assert isinstance(home.invoke(GET_ME), list)  # the knob fired once, on the other key
    c.inject_error(code, message, method="users.getUsers")
    outcome = home.invoke(GET_ME)
    assert outcome == RPCError(code, message)
    after = home.invoke(GET_ME)
    assert after == RPCError(401, "AUTH_KEY_UNREGISTERED") if unbinds else isinstance(after,
                                                                                       list)


def test_drop_after_received_packets_does_not_run_the_dropped_one() -> None:
    c = cluster()
    c.drop_connections_after(1, direction="received", dc_id=2)
    client = client_on(c, 2)
    assert client.invoke(F.help.GetConfig()).this_dc == 2  # packet 1
    assert client.invoke(F.help.GetNearestDc(), token="cut") is None  # packet 2: cut
    reason = client.conn.close_reason
    assert reason is not None and (reason.kind, reason.reason) == ("dropped", "received")
    assert c.counters.executions("help.getNearestDc") == 0
    client.reconnect()  # the session sends it again on the next connection
    assert client.outcome("cut").this_dc == 2
    assert c.counters.executions("help.getNearestDc") == 1
    assert c.counters.closes["dropped"] == 1


def test_drop_after_sent_packets_executes_once_and_resends_the_answer() -> None:
    c = cluster()
    client = client_on(c, 2)
    sign_in(client, PHONE)
    c.drop_connections_after(0, direction="sent", dc_id=2)
    client.reconnect()
    assert client.invoke(F.updates.GetState(), token="state") is None
    assert c.counters.executions("updates.getState") == 1
    reason = client.conn.close_reason
    assert reason is not None and (reason.kind, reason.reason) == ("dropped", "sent")
    client.reconnect()
    assert isinstance(client.outcome("state"), T.updates.State)
    assert c.counters.executions("updates.getState") == 1


def test_drop_after_on_an_open_connection() -> None:
    c = cluster()
    client = client_on(c, 2)
    client.conn.drop_after(client.conn.received_packets, direction="received")
    assert client.invoke(F.help.GetConfig(), token="x") is None
    assert client.conn.closed and c.counters.executions("help.getConfig") == 0


def test_forget_auth_key_gives_404_then_a_new_key_works() -> None:
    c = cluster()
    client = Client(c, 3)
    result = client.make_key()
    client.use_key(result.auth_key, result.server_salt)
    assert client.invoke(F.help.GetConfig()).this_dc == 3
    assert c.forget_auth_key(3, result.auth_key.id) == 1
    assert client.invoke(F.help.GetConfig()) is None
    assert client.transport_errors == [-404]
    client.session = None
    client.login_key()
    assert client.invoke(F.help.GetConfig()).this_dc == 3
    assert c.counters.handshakes[3] == 2
    assert c.forget_auth_key(3) == 1 and c.auth_keys(3) == []


def test_delay_holds_answers_until_the_timer() -> None:
    c = cluster()
    client = client_on(c, 2)
    c.delay_answers(5, dc_id=2, method="help.getConfig")
    assert client.invoke(F.help.GetConfig(), token="late") is None
    assert c.counters.executions("help.getConfig") == 1
    assert c.get_timer() == NOW + 5 and client.conn.get_timer() == NOW + 5
    assert client.invoke(F.help.GetNearestDc()).this_dc == 2  # others are not held
    client.now += 4.9
    client.conn.handle_timer(client.now)
    client.pump()
    assert client.outcome("late") is None
    client.now += 0.1
    client.conn.handle_timer(client.now)
    client.pump()
    assert client.outcome("late").this_dc == 2
    assert c.get_timer() is None
    c.delay_answers(0, dc_id=2, method="help.getConfig")
    assert client.invoke(F.help.GetConfig()).this_dc == 2


def test_delayed_answer_waits_for_the_next_connection() -> None:
    c = cluster()
    client = client_on(c, 2)
    c.delay_answers(1)
    assert client.invoke(F.help.GetConfig(), token="t") is None
    client.conn.connection_lost(now=client.now)
    client.now += 2
    c.handle_timer(client.now)
    assert c.get_timer() is None
    client.reconnect()
    assert client.outcome("t").this_dc == 2


def test_refuse_connections() -> None:
    c = cluster()
    c.refuse_connections(4)
    assert not c.accepting(4) and c.accepting(3)
    conn = c.connect(4, now=NOW)
    assert conn.closed and conn.close_reason is not None
    assert conn.close_reason.kind == "refused"
    c.refuse_connections(4, refused=False)
    assert c.accepting(4) and not c.connect(4, now=NOW).closed
    c.refuse_connections(1)
    c.clear_faults()
    assert c.accepting(1)


def test_invoke_after_msg_failed_dependency_and_timeout() -> None:
    c = cluster()
    client = client_on(c, 2)
    session = client.session
    assert session is not None
    session.invoke(F.users.GetUsers(id=[T.InputUserSelf()]), token="a", now=client.now)
    session.invoke(F.help.GetConfig(), token="b", now=client.now, after="a")
    client.pump()
    assert client.outcome("a") == RPCError(401, "AUTH_KEY_UNREGISTERED")
    assert client.outcome("b") == RPCError(400, "MSG_WAIT_FAILED")
    assert c.counters.executions("help.getConfig") == 0
    # waiting for a message the server never got: MSG_WAIT_TIMEOUT after half a second
    waiter = F.InvokeAfterMsg(msg_id=int(NOW * 2**32) & ~3, query=F.help.GetNearestDc())
    assert client.invoke(waiter, token="c") is None
    assert c.get_timer() == NOW + 0.5
    client.advance(0.5)
    assert client.outcome("c") == RPCError(400, "MSG_WAIT_TIMEOUT")


def test_knob_arguments_are_checked() -> None:
    c = cluster()
    for bad in (lambda: c.inject_error(0, ""), lambda: c.inject_error(400, "X", times=0),
                lambda: c.inject_flood_wait("m", -1), lambda: c.delay_answers(-1),
                lambda: c.drop_connections_after(-1, direction="sent"),
                lambda: c.drop_connections_after(1, direction="both"),  # type: ignore[arg-type]
                lambda: c.refuse_connections(0), lambda: c.inject_error(400, "X", dc_id=7)):
        with pytest.raises(UsageError):
            bad()


def test_advertise_replaces_the_addresses_help_get_config_lists() -> None:
    c = cluster()
    client = client_on(c, 2)
    proxied = {dc: ("127.0.0.9", 4000 + dc) for dc in c.config.dc_ids}
    c.advertise(proxied)
    options = client.invoke(F.help.GetConfig()).dc_options
    assert {(o.id, o.ip_address, o.port) for o in options} == {
        (dc, host, port) for dc, (host, port) in proxied.items()}
    with pytest.raises(UsageError):
        c.advertise({**proxied, 99: ("127.0.0.9", 4099)})
    with pytest.raises(UsageError):
        c.advertise({})
