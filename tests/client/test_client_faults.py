"""Every flow, with its connection cut at each step in turn (each packet of the client, then
each of the server), until a run goes through without reaching the cut: every request still
ends exactly once, as it should, and the cluster's counters show nothing ran twice."""

from __future__ import annotations

from collections import Counter

import pytest

from sansio_mtdc.client.events import Failed, Result
from sansio_mtdc.sim import PacketFault

from .flows import FLOWS, Expect, Flow
from .worlds import World, executed, phone_of, self_request, single_ending

#: no flow has this many packets on one side; reaching it means the loop never ends
_MOST_STEPS = 120


def check(world: World, expects: list[Expect], before: Counter[tuple[int, str]]) -> None:
    assert world.run(*(e.rid for e in expects), max_time=900), "a request never ended"
    ran = executed(world.cluster) - before
    succeeded: Counter[tuple[int, str]] = Counter()
    for expect in expects:
        ending = single_ending(world.net, expect.rid)
        if expect.ok is True:
            assert isinstance(ending, Result), ending
        elif expect.ok is False:
            assert isinstance(ending, Failed) and isinstance(ending.error, expect.error or
                                                             BaseException), ending
        if isinstance(ending, Result):
            succeeded[expect.dc_id, expect.method] += 1
    for (dc_id, method), count in succeeded.items():
        calls = sum(1 for e in expects if (e.dc_id, e.method) == (dc_id, method))
        assert count <= ran[dc_id, method] <= calls, (method, dc_id, ran)
        if calls == count:
            assert ran[dc_id, method] == count, (method, dc_id, ran)
    assert world.client.pending == 0


def run_with_cut(flow: Flow, side: str, step: int) -> PacketFault:
    world = flow.setup(f"{flow.name} {side} {step}")
    before = executed(world.cluster)
    fault = world.net.cut(side, step)  # type: ignore[arg-type]
    expects = flow.act(world)
    check(world, expects, before)
    return fault


@pytest.mark.parametrize("side", ["client", "server"])
@pytest.mark.parametrize("flow", FLOWS, ids=lambda flow: flow.name)
def test_cut_at_every_step(flow: Flow, side: str) -> None:
    for step in range(1, _MOST_STEPS):
        fault = run_with_cut(flow, side, step)
        if not fault.fired:
            assert step > 1, "the flow sends nothing"
            return
    raise AssertionError(f"{flow.name} still reached the cut after {_MOST_STEPS} packets")


@pytest.mark.parametrize("flow", FLOWS, ids=lambda flow: flow.name)
def test_split_and_delayed_packets(flow: Flow) -> None:
    world = flow.setup(f"{flow.name} split")
    before = executed(world.cluster)
    for step in range(1, 12):
        world.net.split("client", step)
        world.net.split("server", step)
    world.net.delay("server", 2, 0.7)
    world.net.delay("client", 3, 0.3)
    expects = flow.act(world)
    check(world, expects, before)


def test_answers_held_for_a_lost_connection_come_at_once_on_the_next() -> None:
    """The server acknowledged three requests and holds their answers when the connection
    dies: on the new connection the session speaks at once (a ping), so the server knows
    where to send them, instead of staying silent until the next keep-alive."""
    world = World.make(seed="held answers")
    world.sign_in(phone_of(2))
    world.cluster.delay_answers(1.0, method="users.getUsers")
    rids = [world.invoke(self_request()) for _ in range(3)]
    world.net.run(world.client,
                  until=lambda: world.cluster.counters.executions("users.getUsers") >= 3)
    acked_at = world.now
    world.net.run(world.client, until=lambda: world.now >= acked_at + 0.1)  # acks arrive
    main = next(c for c in world.net._conns.values() if c.conn_id == 1)
    world.net._cut(main)
    cut_at = world.now
    assert world.net.run(world.client, until=lambda: world.net.ended(*rids), max_time=300)
    assert all(world.net.result(rid)[0].self for rid in rids)
    assert world.now - cut_at < 5.0  # virtual seconds: a reconnect and a round trip, not 60
    assert world.cluster.counters.executions("users.getUsers") == 3
