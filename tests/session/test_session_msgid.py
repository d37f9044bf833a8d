"""MsgIdClock: parity, strict increase, time, offset corrections."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sansio_mtdc.errors import UsageError
from sansio_mtdc.session.msgid import MsgIdClock

times = st.floats(min_value=1.0e9, max_value=2.0e9, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(times, min_size=1, max_size=30), st.floats(-3600, 3600))
def test_client_ids_are_divisible_by_4_and_strictly_increasing(nows: list[float],
                                                              offset: float) -> None:
    clock = MsgIdClock(offset)
    ids = [clock.next(now) for now in nows]
    assert all(i % 4 == 0 for i in ids)
    assert all(b > a for a, b in pairwise(ids))
    assert all(i & 0xFFFFFFFF for i in ids), "the fraction part must not be empty"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(times, st.booleans()), min_size=1, max_size=30))
def test_server_ids_answer_1_mod_4_else_3_mod_4(calls: list[tuple[float, bool]]) -> None:
    clock = MsgIdClock(server=True)
    ids = [clock.next(now, answer=answer) for now, answer in calls]
    assert [i % 4 for i in ids] == [1 if answer else 3 for _, answer in calls]
    assert all(b > a for a, b in pairwise(ids))


def test_id_encodes_server_time() -> None:
    clock = MsgIdClock(12.5)
    msg_id = clock.next(1_700_000_000.25)
    assert clock.time_of(msg_id) == pytest.approx(1_700_000_012.75, abs=1e-6)
    assert clock.server_time(1_700_000_000.25) == 1_700_000_012.75
    assert msg_id >> 32 == 1_700_000_012


def test_integral_time_still_has_a_fraction() -> None:
    msg_id = MsgIdClock().next(1_700_000_000.0)
    assert msg_id & 0xFFFFFFFF != 0
    assert msg_id % 4 == 0


def test_correct_sets_offset_from_a_server_msg_id() -> None:
    clock = MsgIdClock()
    server = MsgIdClock(server=True, offset=100.0)
    offset = clock.correct(server.next(1_700_000_000.0), 1_700_000_000.0)
    assert offset == pytest.approx(100.0, abs=1e-6)
    assert clock.time_of(clock.next(1_700_000_001.0)) == pytest.approx(1_700_000_101.0, abs=1e-6)


def test_lowering_the_offset_lets_ids_go_back_down_yet_stay_increasing() -> None:
    clock = MsgIdClock(3600.0)
    high = clock.next(1_700_000_000.0)
    clock.offset = 0.0
    low = clock.next(1_700_000_001.0)
    assert low < high, "after a 'too high' correction the new ids follow the server's time"
    assert clock.time_of(low) == pytest.approx(1_700_000_001.0, abs=1e-3)
    assert clock.next(1_700_000_001.0) > low


def test_raising_the_offset_moves_ids_forward() -> None:
    clock = MsgIdClock()
    first = clock.next(1_700_000_000.0)
    clock.offset = 50.0
    assert clock.time_of(clock.next(1_700_000_000.0)) - clock.time_of(first) == pytest.approx(
        50.0, abs=1e-3)


@pytest.mark.parametrize("bad", [math.nan, math.inf, "1", True])
def test_bad_offsets_are_usage_errors(bad: object) -> None:
    with pytest.raises(UsageError):
        MsgIdClock(bad)  # type: ignore[arg-type]
    clock = MsgIdClock()
    with pytest.raises(UsageError):
        clock.offset = bad  # type: ignore[assignment]
    assert clock.offset == 0.0


@pytest.mark.parametrize("now", [-5.0, 0.0, math.nan, math.inf, 2.0**31])
def test_times_outside_msg_id_range_are_usage_errors(now: float) -> None:
    clock = MsgIdClock()
    with pytest.raises(UsageError):
        clock.next(now)
    assert clock.next(1_700_000_000.0) > 0
