"""What the client persists, when it says so, and resuming from it."""

from __future__ import annotations

from typing import Any

from sansio_mtdc.client.events import (
    AuthKeyCreated,
    ExportingAuthorization,
    HomeDcChanged,
    StateChanged,
)
from sansio_mtdc.client.machine import Client
from sansio_mtdc.client.state import ClientState
from sansio_mtdc.sim.scenarios import send_code_request

from .worlds import World, file_request, phone_of, seeded, self_request, signed_in

_INPUTS = ("invoke", "cancel", "connection_made", "connection_failed", "receive_data",
           "connection_lost", "handle_timer", "close")


class CountingClient(Client):
    """A client that checks, after every input, that it reported the state at most once."""

    inputs = 0

    def __getattribute__(self, name: str) -> Any:
        attribute = super().__getattribute__(name)
        if name not in _INPUTS:
            return attribute
        events = super().__getattribute__("_events")

        def counted(*args: Any, **kwargs: Any) -> Any:
            before = len(events._items)
            result = attribute(*args, **kwargs)
            new = events._items[before:] if len(events._items) >= before else events._items
            assert sum(isinstance(e, StateChanged) for e in new) <= 1, name
            type(self).inputs += 1
            return result

        return counted


def test_state_is_reported_at_most_once_per_input() -> None:
    world = World.make(seed="count")
    world.client = CountingClient(world.net.client_config(**world.options),
                                  random=seeded("count"))
    CountingClient.inputs = 0
    world.sign_in(phone_of(3))  # PHONE_MIGRATE, two keys, a sign-in
    document = world.cluster.put_file(4, b"c" * 100, name="f", mime="a/b")
    world.call(file_request(document))  # FILE_MIGRATE, export, import
    assert CountingClient.inputs > 20
    assert len(world.net.of_type(StateChanged)) >= 4


def test_state_survives_json_and_resumes_everywhere() -> None:
    world = signed_in("json", authorized=(4,))
    document = world.cluster.put_file(4, b"j" * 100, name="f", mime="a/b")
    world.call(file_request(document), dc=4)
    text = world.saved_state().to_json()
    state = ClientState.from_json(text)
    assert state == world.client.state
    assert state.home_dc == 2 and state.authorized and state.dc(4).authorized
    assert state.dc_table is not None
    handshakes = sum(world.cluster.counters.handshakes.values())
    world.restart()
    start = world.now
    assert world.call(file_request(document), dc=4).bytes == b"j" * 100
    assert world.net.round_trips(start) == 2
    assert sum(world.cluster.counters.handshakes.values()) == handshakes
    assert sum(world.cluster.counters.exports.values()) == 0


def test_keys_made_by_handshakes_are_saved() -> None:
    world = World.make(seed="keys")
    world.sign_in(phone_of(3))
    state = world.saved_state()
    assert {dc.dc_id for dc in state.dcs} == {2, 3}
    assert state.dc(3).authorized and not state.dc(2).authorized
    assert state.home_dc == 3 and state.user_id is not None
    assert len(world.net.of_type(AuthKeyCreated)) == 2


def test_restart_between_a_user_migrate_and_its_import() -> None:
    world = signed_in("between")
    world.cluster.migrate_user(phone_of(2), 4)
    rid = world.invoke(self_request())
    world.net.run(world.client, until=lambda: bool(world.net.of_type(HomeDcChanged)))
    state = world.client.state
    assert state.home_dc == 4 and not state.authorized and state.dc(2).authorized
    world.client.close(now=world.now)
    world.net.run(world.client, until=lambda: True)
    world.client = Client(world.net.client_config(**world.options), state=state,
                          random=seeded("after"))
    rid = world.invoke(self_request())
    world.run(rid)
    assert world.net.result(rid)[0].self
    assert [e.home for e in world.net.of_type(ExportingAuthorization)] == [2]
    assert world.client.state.authorized and world.client.home_dc == 4


def test_a_new_state_follows_the_first_home() -> None:
    world = World.make(seed="new", home=1)
    world.call(send_code_request(phone_of(1)))
    assert world.saved_state().home_dc == 1
    assert world.cluster.counters.connections[2] == 0


def test_clients_can_share_one_dc_table() -> None:
    import pytest

    from sansio_mtdc.client.config import ClientConfig
    from sansio_mtdc.dc.table import DcTable
    from sansio_mtdc.errors import UsageError

    world = World.make(seed="shared")
    config = world.net.client_config(**world.options)
    assert config.endpoints is not None
    table = DcTable(config.endpoints, keys="reference")
    first = Client(config, random=seeded("one"), table=table)
    world.client = first
    world.sign_in(phone_of(2))
    assert first.table is table and table.config_date is not None
    second = Client(config, random=seeded("two"), table=table)
    world.client = second
    world.call(send_code_request(phone_of(2)))
    assert world.cluster.counters.executions("help.getConfig") == 1  # the table was fresh
    with pytest.raises(UsageError):
        Client(ClientConfig(api_id=1, api_hash="h", test_mode=True), random=seeded(0),
               table=table)
    with pytest.raises(UsageError):
        Client(config, random=seeded(0), table="table")  # type: ignore[arg-type]
