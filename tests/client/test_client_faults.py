"""Every flow, with its connection cut at each step in turn (each packet of the client, then
each of the server), until a run goes through without reaching the cut: every request still
ends exactly once, as it should, and the cluster's counters show nothing ran twice."""

from __future__ import annotations

from collections import Counter

import pytest

from sansio_mtdc.client.events import Failed, Result
from sansio_mtdc.sim import PacketFault

from .flows import FLOWS, Expect, Flow
from .worlds import World, executed, single_ending

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
