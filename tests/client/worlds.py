"""Worlds for the client tests: a cluster, a simulated network and a client, set up fast.

``signed_in`` installs auth keys straight into the cluster (no handshake: the tests that
measure handshakes make their own) and gives the client the matching saved state, so a test
starts with a signed-in user in a few milliseconds.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sansio_mtdc.client.events import Failed, Result
from sansio_mtdc.client.state import ClientState, DcState
from sansio_mtdc.crypto.mtproto2 import AuthKey
from sansio_mtdc.server import Cluster, KeyRecord
from sansio_mtdc.sim import DEFAULT_START, SimNetwork
from sansio_mtdc.sim.scenarios import World, file_request, phone_of, seeded, self_request

__all__ = ["World", "executed", "file_request", "install_key", "phone_of", "seeded",
           "self_request", "signed_in", "single_ending"]


def install_key(cluster: Cluster, dc_id: int, *, user_id: int | None = None,
                seed: object = 0) -> DcState:
    """An auth key known to DC ``dc_id`` (authorized for ``user_id`` if given), as the
    client's saved state would hold it."""
    random = seeded(f"key {dc_id} {seed}")
    key = AuthKey(random(256))
    salt = int.from_bytes(random(8), "little", signed=True)
    record = KeyRecord(key, created_at=DEFAULT_START, salt=salt)
    dc = cluster.state.dc(dc_id)
    dc.add_key(record)
    if user_id is not None:
        dc.bind(record, user_id)
    return DcState(dc_id, key.key, user_id is not None, salt)


def signed_in(seed: object = 0, *, home: int = 2, authorized: tuple[int, ...] = (),
              keys: tuple[int, ...] = (), connect: bool = True, **options: Any) -> World:
    """A user of ``home`` signed in there (and authorized on ``authorized``, with bare keys
    on ``keys``), the client resumed from that state; ``connect`` brings the main link up."""
    world = World.make(seed=seed, home=home, **options)
    cluster = world.cluster
    user = cluster.user(phone_of(home))
    dcs = [install_key(cluster, dc, user_id=user.id, seed=seed) for dc in (home, *authorized)]
    dcs += [install_key(cluster, dc, seed=seed) for dc in keys]
    state = ClientState(home_dc=home, user_id=user.id, dcs=tuple(dcs))
    world.client = type(world.client)(world.net.client_config(**world.options), state=state,
                                      random=seeded(f"client {seed}"))
    if connect:
        world.call(self_request())
    return world


def executed(cluster: Cluster) -> Counter[tuple[int, str]]:
    """A copy of the cluster's per-(DC, method) execution counts."""
    return Counter(cluster.counters.executed)


def single_ending(net: SimNetwork, rid: int) -> Result | Failed:
    """The one Result or Failed of ``rid`` (AssertionError if none or several)."""
    endings = net.endings(rid)
    assert len(endings) == 1, f"request {rid} ended {len(endings)} times: {endings}"
    return endings[0]
