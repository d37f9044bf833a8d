"""The DC scenarios, each at the fewest round trips the protocol allows (a TCP connect counts
one, the handshake three), with what the cluster saw proving how they were done."""

from __future__ import annotations

import pytest

from sansio_mtdc.client.events import (
    AuthKeyCreated,
    AuthorizationImported,
    ExportingAuthorization,
    HomeDcChanged,
    Result,
)
from sansio_mtdc.sim import scenarios
from sansio_mtdc.sim.scenarios import SCENARIOS, Scenario

from .worlds import World, file_request, phone_of, self_request, signed_in, single_ending


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.run.__name__)
def test_scenario_takes_the_protocol_minimum(scenario: Scenario) -> None:
    measured = scenario.run(0)
    assert measured.ok, measured.detail
    assert measured.round_trips == scenario.minimum
    if scenario.telethon is not None:
        assert measured.round_trips < scenario.telethon


def test_cold_start_carries_the_config_and_nearest_dc_in_the_first_container() -> None:
    world = World.make(seed=1)
    start = world.now
    rid = world.invoke(scenarios.send_code_request(phone_of(2)))
    world.run(rid)
    assert world.net.round_trips(start) == 5
    counters = world.cluster.counters
    assert counters.executions("help.getConfig", 2) == 1
    assert counters.executions("help.getNearestDc", 2) == 1
    assert counters.executions("auth.sendCode", 2) == 1
    assert counters.handshakes[2] == 1
    assert world.client.table.config_date is not None  # the config was applied
    # one packet carried the three requests: the client sent req_pq, req_DH, set_DH, one more
    assert world.net.packets["client"] == 4


def test_resume_makes_no_handshake_and_no_export() -> None:
    world = World.make(seed=2)
    world.sign_in(phone_of(2))
    handshakes = sum(world.cluster.counters.handshakes.values())
    world.restart()
    start = world.now
    users = world.call(self_request())
    assert users[0].self
    assert world.net.round_trips(start) == 2
    assert sum(world.cluster.counters.handshakes.values()) == handshakes
    assert sum(world.cluster.counters.exports.values()) == 0
    assert not world.net.of_type(AuthKeyCreated)


def test_phone_migrate_moves_home_once_and_persists_it() -> None:
    world = World.make(seed=3)
    start = world.now
    rid = world.invoke(scenarios.send_code_request(phone_of(3)))
    world.run(rid)
    assert world.net.round_trips(start) == 10
    assert isinstance(single_ending(world.net, rid), Result)
    assert [(e.old, e.new, e.reason) for e in world.net.of_type(HomeDcChanged)] == [
        (2, 3, "PHONE_MIGRATE_X")]
    assert world.saved_state().home_dc == 3
    assert world.cluster.counters.executions("auth.sendCode", 3) == 1


def test_file_migrate_exports_while_the_handshake_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    import sansio_mtdc.server.sessions as server_sessions

    seen: list[tuple[str, tuple[int, ...]]] = []
    original = server_sessions.unwrap

    def unwrap(request: object) -> object:
        call = original(request)
        seen.append((call.name, call.after))
        return call

    monkeypatch.setattr(server_sessions, "unwrap", unwrap)
    world = signed_in(4)
    document = world.cluster.put_file(4, b"file" * 1000, name="f", mime="a/b")
    start = world.now
    rid = world.invoke(file_request(document))
    world.run(rid)
    assert world.net.round_trips(start) == 6
    events = world.net.events
    exporting = next(i for i, e in enumerate(events) if isinstance(e, ExportingAuthorization))
    key = next(i for i, e in enumerate(events) if isinstance(e, AuthKeyCreated))
    assert exporting < key  # the export left before DC 4 had a key
    assert world.net.of_type(AuthorizationImported)[0].dc_id == 4
    assert world.client.home_dc == 2
    counters = world.cluster.counters
    assert counters.exports[2] == 1 and counters.imports[4] == 1
    assert counters.executions("upload.getFile", 4) == 1
    assert world.saved_state().dc(4).authorized
    # the import and the request left in one packet, the request behind the import
    sends = [hop for hop in world.net.log if hop.what == "client sends" and hop.dc_id == 4]
    assert len(sends) == 4  # three handshake steps, then one packet
    names = [name for name, _ in seen]
    assert names[-2:] == ["auth.importAuthorization", "upload.getFile"]
    assert seen[-1][1] and not seen[-2][1]  # getFile waits for a msg_id: the import's


def test_file_with_dc_given_skips_the_redirect() -> None:
    world = signed_in(5)
    document = world.cluster.put_file(4, b"x" * 100, name="f", mime="a/b")
    start = world.now
    assert world.call(file_request(document), dc=4).bytes == b"x" * 100
    assert world.net.round_trips(start) == 5
    assert world.cluster.counters.executions("upload.getFile", 2) == 0


def test_authorized_dc_with_its_media_link_up_costs_one_round_trip() -> None:
    world = signed_in(6, authorized=(4,))
    document = world.cluster.put_file(4, b"y" * 100, name="f", mime="a/b")
    world.call(file_request(document), dc=4)
    start = world.now
    world.call(file_request(document, offset=0, limit=4096), dc=4)
    assert world.net.round_trips(start) == 1
    assert sum(world.cluster.counters.exports.values()) == 0


def test_user_migrate_carries_the_authorization_to_the_new_home() -> None:
    world = signed_in(7)
    world.cluster.migrate_user(phone_of(2), 4)
    start = world.now
    assert world.call(self_request())[0].self
    assert world.net.round_trips(start) == 6
    assert world.client.home_dc == 4
    state = world.saved_state()
    assert state.home_dc == 4 and state.authorized and state.dc(4).authorized
    counters = world.cluster.counters
    assert counters.exports[2] == 1 and counters.imports[4] == 1
    assert counters.executions("users.getUsers", 4) == 1


def test_auth_key_unregistered_on_a_media_dc_is_repaired() -> None:
    world = signed_in(8, authorized=(4,))
    document = world.cluster.put_file(4, b"z" * 100, name="f", mime="a/b")
    world.call(file_request(document), dc=4)
    world.cluster.inject_error(401, "AUTH_KEY_UNREGISTERED", method="upload.getFile", dc_id=4)
    start = world.now
    assert world.call(file_request(document), dc=4).bytes == b"z" * 100
    assert world.net.round_trips(start) == 3
    assert world.cluster.counters.exports[2] == 1
    assert world.client.home_dc == 2


@pytest.mark.parametrize(("transport", "obfuscated"), [
    ("abridged", False), ("intermediate", False), ("padded_intermediate", False),
    ("full", False), ("abridged", True), ("intermediate", True),
    ("padded_intermediate", True)])
def test_every_transport_through_the_cluster(transport: str, obfuscated: bool) -> None:
    world = World.make(seed=f"{transport} {obfuscated}", transport=transport,
                       obfuscated=obfuscated)
    start = world.now
    world.sign_in(phone_of(3))
    assert world.net.round_trips(start) == 11  # PHONE_MIGRATE at sendCode, then signIn
    document = world.cluster.put_file(4, b"t" * 100, name="f", mime="a/b")
    start = world.now
    assert world.call(file_request(document), dc=4).bytes == b"t" * 100
    assert world.net.round_trips(start) == 5
