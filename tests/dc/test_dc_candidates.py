"""Which addresses to try, in which order: every purpose x IPv6 policy x obfuscation."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sansio_mtdc.dc import DcTable, Endpoint
from sansio_mtdc.errors import UsageError

from .conftest import all_dcs_plain, config, option

SECRET = bytes(range(16))

# DC 2's options, in config order, one letter each
OPTIONS = {
    "A": option(2, "10.0.2.1"),
    "B": option(2, "fd00::2:1"),
    "C": option(2, "10.0.2.2", media_only=True),
    "D": option(2, "fd00::2:2", media_only=True),
    "E": option(2, "10.0.2.3", static=True),
    "F": option(2, "fd00::2:3", static=True),
    "G": option(2, "10.0.2.4", tcpo_only=True, secret=SECRET),
    "H": option(2, "fd00::2:4", tcpo_only=True, secret=SECRET),
    "I": option(2, "10.0.2.5", media_only=True, tcpo_only=True),
    "J": option(2, "10.0.2.6", 80, this_port_only=True),
}

# (purpose, ipv6, obfuscated, via_proxy) -> the order, worked out by hand from the rules
EXPECTED = {
    ("main", "never", False, False): "AJE",
    ("main", "allow", False, False): "AJEBF",
    ("main", "prefer", False, False): "BFAJE",
    ("main", "never", True, False): "AGJE",
    ("main", "allow", True, False): "AGJEBHF",
    ("main", "prefer", True, False): "BHFAGJE",
    ("media", "never", False, False): "CAJE",
    ("media", "allow", False, False): "CDAJEBF",
    ("media", "prefer", False, False): "DCBFAJE",
    ("media", "never", True, False): "CIAGJE",
    ("media", "allow", True, False): "CIDAGJEBHF",
    ("media", "prefer", True, False): "DCIBHFAGJE",
    ("main", "allow", False, True): "EAJFB",
    ("main", "prefer", True, True): "FBHEAGJ",
    ("media", "allow", True, True): "CIDEAGJFBH",
}


def _table() -> DcTable:
    table = DcTable.bootstrap()
    others = [o for o in all_dcs_plain() if o.id != 2]
    table.apply_config(config([*others, *OPTIONS.values()]), now=0)
    return table


def _letters(endpoints: list[Endpoint]) -> str:
    by_host = {o.ip_address: letter for letter, o in OPTIONS.items()}
    return "".join(by_host[str(e.host)] for e in endpoints)


@pytest.mark.parametrize(("purpose", "ipv6", "obfuscated", "via_proxy"), list(EXPECTED))
def test_order_worked_out_by_hand(purpose: str, ipv6: str, obfuscated: bool,
                                  via_proxy: bool) -> None:
    found = _table().candidates(2, purpose=purpose, ipv6=ipv6,  # type: ignore[arg-type]
                                obfuscated=obfuscated, now=0, via_proxy=via_proxy)
    assert _letters(found) == EXPECTED[(purpose, ipv6, obfuscated, via_proxy)]


def _rank(endpoint: Endpoint, purpose: str, ipv6: str, via_proxy: bool) -> tuple[int, int, int]:
    return (
        int(purpose == "media" and not endpoint.media_only),
        int(endpoint.ipv6 != (ipv6 == "prefer")),
        int(endpoint.static != via_proxy),
    )


def _allowed(endpoint: Endpoint, purpose: str, ipv6: str, obfuscated: bool) -> bool:
    return not ((endpoint.tcpo_only and not obfuscated) or (endpoint.ipv6 and ipv6 == "never")
                or (purpose == "main" and endpoint.media_only))


@pytest.mark.parametrize(("purpose", "ipv6", "obfuscated", "via_proxy"), list(itertools.product(
    ("main", "media"), ("never", "allow", "prefer"), (False, True), (False, True))))
def test_every_combination_follows_the_rules(purpose: str, ipv6: str, obfuscated: bool,
                                             via_proxy: bool) -> None:
    table = _table()
    found = table.candidates(2, purpose=purpose, ipv6=ipv6,  # type: ignore[arg-type]
                             obfuscated=obfuscated, now=0, via_proxy=via_proxy)
    pool = table.endpoints(2)
    assert set(found) == {e for e in pool if _allowed(e, purpose, ipv6, obfuscated)}
    assert len(found) == len(set(found))
    ranks = [(*_rank(e, purpose, ipv6, via_proxy), pool.index(e)) for e in found]
    assert ranks == sorted(ranks)
    if obfuscated:
        assert any(e.tcpo_only and e.secret == SECRET for e in found)
    else:
        assert not any(e.tcpo_only for e in found)


flag_sets = st.fixed_dictionaries({name: st.booleans() for name in (
    "ipv6", "media_only", "tcpo_only", "static", "this_port_only")})


@settings(max_examples=60, deadline=None)
@given(st.lists(flag_sets, min_size=1, max_size=12), st.sampled_from(["main", "media"]),
       st.sampled_from(["never", "allow", "prefer"]), st.booleans(), st.booleans(),
       st.lists(st.integers(0, 11), max_size=4))
def test_random_tables_follow_the_rules(flags: list[dict[str, bool]], purpose: str, ipv6: str,
                                        obfuscated: bool, via_proxy: bool,
                                        failed: list[int]) -> None:
    options = [option(1, f"fd00::{n + 1}" if f["ipv6"] else f"10.0.0.{n + 1}", **f)
               for n, f in enumerate(flags)]
    table = DcTable([Endpoint(1, "127.0.0.1", 443)], keys="reference")
    table.apply_config(config([option(1, "127.0.0.1"), *options]), now=0)
    pool = table.endpoints(1)
    for index in failed:
        if index < len(pool):
            table.report_failure(pool[index], now=1.0 + index)
    found = table.candidates(1, purpose=purpose, ipv6=ipv6,  # type: ignore[arg-type]
                             obfuscated=obfuscated, now=5.0, via_proxy=via_proxy)
    assert set(found) == {e for e in pool if _allowed(e, purpose, ipv6, obfuscated)}
    demoted = [e for e in found if table.failure_streak(e, now=5.0)]
    fresh = found[:len(found) - len(demoted)]
    assert found[len(fresh):] == demoted  # failed ones last...
    assert [pool.index(e) for e in demoted] == sorted(pool.index(e) for e in demoted)
    ranks = [(*_rank(e, purpose, ipv6, via_proxy), pool.index(e)) for e in fresh]
    assert ranks == sorted(ranks)  # ...the others in rule order


def test_other_ports_are_offered_last_and_never_against_this_port_only() -> None:
    table = DcTable.bootstrap()
    others = [o for o in all_dcs_plain() if o.id != 2]
    table.apply_config(config([*others, option(2, "10.0.2.1"),
                               option(2, "10.0.2.6", 80, this_port_only=True),
                               option(2, "10.0.2.7", 5222),
                               option(2, "10.0.2.8"),
                               option(2, "10.0.2.8", 80, media_only=True)]), now=0)
    found = table.candidates(2, purpose="main", ipv6="never", obfuscated=False, now=0,
                             other_ports=True)
    assert [e.address for e in found] == [
        ("10.0.2.1", 443), ("10.0.2.6", 80), ("10.0.2.7", 5222), ("10.0.2.8", 443),
        ("10.0.2.1", 80), ("10.0.2.1", 5222),
        ("10.0.2.7", 443), ("10.0.2.7", 80),
        ("10.0.2.8", 5222),  # port 80 of this host is listed for media only
    ]
    assert not any(e.media_only for e in found)
    plain = table.candidates(2, purpose="main", ipv6="never", obfuscated=False, now=0)
    assert found[:len(plain)] == plain
    # a variant that fails is demoted like any other address
    table.report_failure(found[4], now=1)
    again = table.candidates(2, purpose="main", ipv6="never", obfuscated=False, now=2,
                             other_ports=True)
    assert again[-1] == found[4]


def test_bootstrap_tables_gain_nothing_from_other_ports() -> None:
    table = DcTable.bootstrap()
    for dc_id in table.dc_ids():
        plain = table.candidates(dc_id, purpose="main", ipv6="allow", obfuscated=False, now=0)
        assert table.candidates(dc_id, purpose="main", ipv6="allow", obfuscated=False, now=0,
                                other_ports=True) == plain


def test_the_answer_may_be_empty() -> None:
    table = DcTable([Endpoint(1, "fd00::1", 443, ipv6=True),
                     Endpoint(1, "10.0.0.1", 443, tcpo_only=True)], keys="reference")
    assert table.candidates(1, purpose="main", ipv6="never", obfuscated=False, now=0) == []
    assert len(table.candidates(1, purpose="main", ipv6="never", obfuscated=True, now=0)) == 1


@pytest.mark.parametrize("kwargs", [
    {"purpose": "upload"}, {"ipv6": "always"}, {"ipv6": True}, {"purpose": None},
])
def test_bad_arguments_are_usage_errors(kwargs: dict[str, object]) -> None:
    arguments: dict[str, object] = {"purpose": "main", "ipv6": "allow", "obfuscated": False,
                                    "now": 0.0, **kwargs}
    with pytest.raises(UsageError):
        DcTable.bootstrap().candidates(2, **arguments)  # type: ignore[arg-type]


def test_unknown_dc_is_a_usage_error_and_knows_says_so_first() -> None:
    table = DcTable.bootstrap()
    assert not table.knows(6)
    with pytest.raises(UsageError, match="DC 6"):
        table.candidates(6, purpose="main", ipv6="allow", obfuscated=False, now=0)
    with pytest.raises(UsageError):
        table.candidates(2, purpose="cdn", ipv6="allow", obfuscated=False, now=0)
    with pytest.raises(UsageError):
        table.keys_for(6)


@pytest.mark.parametrize("now", [float("nan"), float("inf"), "0", None, True])
def test_now_must_be_a_finite_number(now: object) -> None:
    table = DcTable.bootstrap()
    endpoint = table.endpoints(2)[0]
    calls = [
        lambda: table.candidates(2, purpose="main", ipv6="allow", obfuscated=False,
                                 now=now),  # type: ignore[arg-type]
        lambda: table.report_failure(endpoint, now=now),  # type: ignore[arg-type]
        lambda: table.needs_refresh(now),  # type: ignore[arg-type]
        lambda: table.refresh_started(now=now),  # type: ignore[arg-type]
        lambda: table.apply_config(config(all_dcs_plain()), now=now),  # type: ignore[arg-type]
    ]
    for call in calls:
        with pytest.raises(UsageError):
            call()
    assert table.needs_refresh(0) and table.this_dc is None
