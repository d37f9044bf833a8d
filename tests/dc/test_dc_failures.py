"""Failed addresses go to the end for a while, longer with each failure, and come back."""

from __future__ import annotations

import pytest

from sansio_mtdc.dc import DcTable, Endpoint
from sansio_mtdc.dc.failures import (
    FAILURE_FORGET_AFTER,
    FAILURE_WINDOW_BASE,
    FAILURE_WINDOW_CAP,
    FailureTracker,
    demotion_window,
)

from .conftest import config, option

A = Endpoint(1, "10.0.0.1", 443)
B = Endpoint(1, "10.0.0.2", 443)
C = Endpoint(1, "10.0.0.3", 443)


def _table() -> DcTable:
    return DcTable([A, B, C], keys="reference")


def _order(table: DcTable, now: float) -> list[Endpoint]:
    return table.candidates(1, purpose="main", ipv6="allow", obfuscated=False, now=now)


def test_a_failure_demotes_for_a_window_then_the_address_is_back() -> None:
    table = _table()
    table.report_failure(A, now=100.0)
    assert _order(table, 100.0) == [B, C, A]
    assert _order(table, 100.0 + FAILURE_WINDOW_BASE - 0.001) == [B, C, A]
    assert _order(table, 100.0 + FAILURE_WINDOW_BASE) == [A, B, C]


def test_the_window_doubles_with_each_failure_up_to_the_cap() -> None:
    assert [demotion_window(n) for n in range(1, 7)] == [30, 60, 120, 240, 480, 600]
    assert demotion_window(10**6) == FAILURE_WINDOW_CAP
    table = _table()
    now = 0.0
    for streak in range(1, 8):
        table.report_failure(A, now=now)
        assert table.failure_streak(A, now=now) == streak
        window = min(FAILURE_WINDOW_BASE * 2 ** (streak - 1), FAILURE_WINDOW_CAP)
        assert _order(table, now + window - 1)[-1] == A
        assert _order(table, now + window)[0] == A
        now += window + 1


def test_success_clears_the_streak() -> None:
    table = _table()
    table.report_failure(A, now=0)
    table.report_failure(A, now=1)
    table.report_success(A)
    assert table.failure_streak(A, now=2) == 0
    assert _order(table, 2) == [A, B, C]
    table.report_failure(A, now=3)
    assert table.failure_streak(A, now=3) == 1  # the count starts over


def test_failures_decay_so_no_address_is_banned_forever() -> None:
    table = _table()
    for n in range(10):
        table.report_failure(A, now=float(n))
    assert _order(table, 9 + FAILURE_WINDOW_CAP - 1)[-1] == A
    assert _order(table, 9 + FAILURE_WINDOW_CAP)[0] == A
    late = 9 + FAILURE_FORGET_AFTER
    assert table.failure_streak(A, now=late) == 0
    table.report_failure(A, now=late)
    assert table.failure_streak(A, now=late) == 1  # an old streak does not come back
    assert _order(table, late + FAILURE_WINDOW_BASE)[0] == A


def test_demoted_addresses_are_ordered_by_oldest_failure_first() -> None:
    table = _table()
    table.report_failure(C, now=10)
    table.report_failure(A, now=20)
    assert _order(table, 21) == [B, C, A]
    table.report_failure(B, now=22)
    assert _order(table, 23) == [C, A, B]


def test_failures_are_per_address_across_purposes() -> None:
    media = Endpoint(1, "10.0.0.1", 443, media_only=True)
    table = DcTable([A, B, media], keys="reference")
    table.report_failure(media, now=0)
    assert table.candidates(1, purpose="main", ipv6="allow", obfuscated=False, now=1) == [B, A]


def test_unknown_addresses_are_ignored_and_dropped_ones_forgotten() -> None:
    table = _table()
    stranger = Endpoint(1, "192.0.2.1", 443)
    table.report_failure(stranger, now=0)
    assert table.failure_streak(stranger, now=0) == 0
    table.report_failure(A, now=0)
    table.apply_config(config([option(1, "10.0.0.2"), option(1, "10.0.0.3")]), now=1)
    table.apply_config(config([option(1, "10.0.0.1"), option(1, "10.0.0.2")]), now=2)
    assert table.failure_streak(A, now=2) == 0
    assert _order(table, 2) == [A, B]


def test_the_tracker_stays_bounded() -> None:
    tracker = FailureTracker()
    for n in range(100):
        tracker.failed((f"10.0.0.{n}", 443), now=float(n))
    tracker.keep_only({("10.0.0.5", 443)})
    assert len(tracker) == 1
    tracker.forget_old(5 + FAILURE_FORGET_AFTER)
    assert len(tracker) == 0


@pytest.mark.parametrize("now", [0.0, 1e9])
def test_a_success_for_an_address_never_reported_is_harmless(now: float) -> None:
    table = _table()
    table.report_success(A)
    assert _order(table, now) == [A, B, C]
