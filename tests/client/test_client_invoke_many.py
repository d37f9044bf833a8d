"""Requests made together leave together: ``invoke_many`` queues them all before anything is
written, and refuses the whole batch when one of them is misused."""

from __future__ import annotations

import pytest

from sansio_mtdc.errors import UsageError
from sansio_mtdc.sim.network import Hop
from sansio_mtdc.sim.scenarios import World
from sansio_mtdc.tl import api

from .worlds import self_request, signed_in


def sent_at(world: World, when: float) -> list[Hop]:
    return [hop for hop in world.net.log if hop.what == "client sends" and hop.time == when]


def test_a_batch_leaves_in_one_packet_and_every_request_ends_once() -> None:
    world = signed_in("batch")
    ran = world.cluster.counters.executions("help.getConfig")
    requests = [(api.functions.help.GetConfig(), None, None) for _ in range(50)]
    start = world.now
    rids = world.client.invoke_many(requests, now=start)
    assert len(rids) == 50 == len(set(rids))
    assert world.run(*rids)
    assert len(sent_at(world, start)) == 1  # one container
    assert all(world.net.result(rid).this_dc == 2 for rid in rids)
    assert world.cluster.counters.executions("help.getConfig") - ran == 50


def test_one_at_a_time_each_request_is_its_own_packet() -> None:
    world = signed_in("single")
    start = world.now
    rids = [world.client.invoke(api.functions.help.GetConfig(), now=start) for _ in range(3)]
    assert world.run(*rids)
    assert len(sent_at(world, start)) == 3


def test_a_misused_request_refuses_the_whole_batch() -> None:
    world = signed_in("misuse")
    pending = world.client.pending
    with pytest.raises(UsageError):
        world.client.invoke_many([(self_request(), None, None), (object(), None, None)],
                                 now=world.now)
    with pytest.raises(UsageError):
        world.client.invoke_many([(self_request(), 0, None)], now=world.now)
    assert world.client.pending == pending
    assert world.client.next_action() is None
