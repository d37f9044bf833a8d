"""help.getConfig into the table: every dcOption flag, rejected options, kept DCs, refreshes."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from sansio_mtdc.dc import DcTable, Endpoint
from sansio_mtdc.dc.endpoint import FLAG_NAMES
from sansio_mtdc.dc.options import MAX_CONFIG_OPTIONS
from sansio_mtdc.dc.table import CONFIG_LIFETIME_MAX, CONFIG_LIFETIME_MIN, REFRESH_RETRY_AFTER
from sansio_mtdc.errors import UsageError

from .conftest import all_dcs_plain, config, option

SECRET16 = bytes(range(16))
SECRET17 = b"\xdd" + SECRET16
COMBINATIONS = list(itertools.product((False, True), repeat=len(FLAG_NAMES)))


def _visible(endpoint: Endpoint, purpose: str, ipv6: str, obfuscated: bool) -> bool:
    """The rule, written plainly: when may ``endpoint`` be offered?"""
    if (purpose == "cdn") != endpoint.cdn:
        return False
    if endpoint.tcpo_only and not obfuscated:
        return False
    if endpoint.ipv6 and ipv6 == "never":
        return False
    return not (purpose == "main" and endpoint.media_only)


@pytest.mark.parametrize("flags", COMBINATIONS,
                         ids=lambda f: "+".join(n for n, v in zip(FLAG_NAMES, f) if v) or "none")
@pytest.mark.parametrize("secret", [None, SECRET16, SECRET17],
                         ids=["no_secret", "secret16", "secret17"])
def test_every_flag_combination(flags: tuple[bool, ...], secret: bytes | None) -> None:
    named = dict(zip(FLAG_NAMES, flags))
    dc_id = 203 if named["cdn"] else 2
    host = "2001:db8::77" if named["ipv6"] else "198.51.100.77"
    table = DcTable.bootstrap()
    options = [*all_dcs_plain(), option(dc_id, host, 8443, secret=secret, **named)]
    assert table.apply_config(config(options), now=0.0)
    assert table.ignored == ()
    expected = Endpoint(dc_id, host, 8443, secret=secret, **named)
    assert expected in table.endpoints(dc_id, cdn=named["cdn"])
    assert table.knows(dc_id, cdn=named["cdn"])
    assert not table.knows(dc_id, cdn=not named["cdn"])
    for purpose, ipv6, obfuscated in itertools.product(
            ("main", "media", "cdn"), ("never", "allow", "prefer"), (False, True)):
        if (purpose == "cdn") != named["cdn"]:
            continue
        found = table.candidates(dc_id, purpose=purpose, ipv6=ipv6,  # type: ignore[arg-type]
                                 obfuscated=obfuscated, now=0.0)
        assert (expected in found) == _visible(expected, purpose, ipv6, obfuscated), (
            purpose, ipv6, obfuscated)
    # the snapshot keeps every flag and the secret
    assert expected in DcTable.from_snapshot(table.snapshot()).endpoints(dc_id, cdn=named["cdn"])


def test_config_replaces_the_bootstrap_addresses_and_remembers_its_facts() -> None:
    table = DcTable.bootstrap()
    assert table.this_dc is None and table.config_date is None
    cfg = config(all_dcs_plain(), this_dc=4, date=500, expires=4100)
    assert table.apply_config(cfg, now=10.0) is True
    assert table.this_dc == 4 and table.config_date == 500 and table.config_expires == 4100
    assert table.endpoints(3) == (Endpoint(3, "10.0.3.1", 443),
                                  Endpoint(3, "fd00::3:1", 443, ipv6=True))
    assert table.kept == ()
    # the same config again changes nothing
    assert table.apply_config(cfg, now=20.0) is False
    # this_dc alone is a change worth saving
    assert table.apply_config(config(all_dcs_plain(), this_dc=2), now=30.0) is True
    # so is a different order: order is preference
    reordered = all_dcs_plain()
    reordered[0], reordered[1] = reordered[1], reordered[0]
    assert table.apply_config(config(reordered, this_dc=2), now=40.0) is True


def test_addresses_are_stored_in_canonical_form() -> None:
    table = DcTable.bootstrap()
    table.apply_config(config([*all_dcs_plain(),
                               option(2, "2001:0b28:f23d:f001:0000:0000:0000:000a")]), now=0)
    assert Endpoint(2, "2001:b28:f23d:f001::a", 443, ipv6=True) in table.endpoints(2)


@pytest.mark.parametrize(("bad", "reason"), [
    (option(2, "example.org"), "bad_address"),
    (option(2, "1.2.3"), "bad_address"),
    (option(2, "0.0.0.0"), "bad_address"),
    (option(2, "::"), "bad_address"),
    (option(2, "224.0.0.1"), "bad_address"),
    (option(2, "fe80::1%eth0"), "bad_address"),
    (option(2, "1" * 100), "bad_address"),
    (option(2, "1.2.3.4", ipv6=True), "family_mismatch"),
    (option(2, "2001:db8::1", ipv6=False), "family_mismatch"),
    (option(2, "1.2.3.4", 0), "bad_port"),
    (option(2, "1.2.3.4", 70000), "bad_port"),
    (option(2, "1.2.3.4", -443), "bad_port"),
    (option(0, "1.2.3.4"), "bad_dc_id"),
    (option(-2, "1.2.3.4"), "bad_dc_id"),
    (option(2, "1.2.3.4", tcpo_only=True, secret=b"\xee" + SECRET16 + b"example.org"),
     "unsupported_secret"),
    (option(2, "1.2.3.4", tcpo_only=True, secret=b"\x01" * 15), "unsupported_secret"),
    (option(2, "1.2.3.4", tcpo_only=True, secret=b"\xee" * 17), "unsupported_secret"),
    (option(2, "10.0.2.1"), "duplicate"),
])
def test_unusable_options_are_left_out_and_reported(bad: Any, reason: str) -> None:
    table = DcTable.bootstrap()
    table.apply_config(config([*all_dcs_plain(), bad]), now=0)
    assert [i.reason for i in table.ignored] == [reason]
    assert table.ignored[0].dc_id == bad.id and table.ignored[0].port == bad.port
    assert len(table.endpoints(2)) == 2  # the good ones are all there
    # the next config clears the report
    table.apply_config(config(all_dcs_plain()), now=1)
    assert table.ignored == ()


def test_too_many_options_are_cut() -> None:
    options = [option(1 + n % 5, f"10.{n // 65536}.{n // 256 % 256}.{n % 256}")
               for n in range(MAX_CONFIG_OPTIONS + 10)]
    table = DcTable.bootstrap()
    table.apply_config(config(options), now=0)
    assert [i.reason for i in table.ignored] == ["too_many"]
    assert sum(len(table.endpoints(d)) for d in table.dc_ids()) == MAX_CONFIG_OPTIONS


def test_cdn_options_are_kept_apart() -> None:
    table = DcTable.bootstrap()
    table.apply_config(config([*all_dcs_plain(), option(201, "203.0.113.9", cdn=True),
                               option(2, "203.0.113.10", cdn=True)]), now=0)
    assert table.dc_ids() == [1, 2, 3, 4, 5]
    assert table.dc_ids(cdn=True) == [2, 201]
    assert not table.knows(201) and table.knows(201, cdn=True)
    assert Endpoint(2, "203.0.113.10", 443, cdn=True) not in table.endpoints(2)
    for purpose in ("main", "media"):
        assert all(not e.cdn for e in table.candidates(
            2, purpose=purpose, ipv6="allow", obfuscated=True, now=0))  # type: ignore[arg-type]
    assert table.candidates(2, purpose="cdn", ipv6="allow", obfuscated=True, now=0) == [
        Endpoint(2, "203.0.113.10", 443, cdn=True)]
    with pytest.raises(UsageError):
        table.candidates(201, purpose="main", ipv6="allow", obfuscated=True, now=0)
    # a CDN DC the next config leaves out is gone: CDN DCs are not kept
    table.apply_config(config(all_dcs_plain()), now=1)
    assert table.dc_ids(cdn=True) == []


def test_a_dc_left_without_a_usable_address_keeps_its_old_ones() -> None:
    table = DcTable.bootstrap()
    old_dc3 = table.endpoints(3)
    # DC 3 is missing, DC 4 has IPv6 only, DC 5 only a media address and an obfuscated one
    options = [o for o in all_dcs_plain() if o.id in (1, 2)]
    options += [option(4, "fd00::4:9"), option(5, "10.0.5.9", media_only=True),
                option(5, "10.0.5.10", tcpo_only=True, secret=SECRET16)]
    assert table.apply_config(config(options), now=0) is True
    assert table.kept == (3, 4, 5)
    assert table.endpoints(3) == old_dc3
    dc4 = table.endpoints(4)
    assert dc4[0] == Endpoint(4, "fd00::4:9", 443, ipv6=True)  # new ones first
    assert set(dc4[1:]) == set(DcTable.bootstrap().endpoints(4))
    assert table.endpoints(5)[:2] == (
        Endpoint(5, "10.0.5.9", 443, media_only=True),
        Endpoint(5, "10.0.5.10", 443, tcpo_only=True, secret=SECRET16))
    # once a config names a plain IPv4 address for them, the old ones go
    table.apply_config(config(all_dcs_plain()), now=1)
    assert table.kept == ()
    assert table.endpoints(3) == (Endpoint(3, "10.0.3.1", 443),
                                  Endpoint(3, "fd00::3:1", 443, ipv6=True))


def test_a_dc_the_table_did_not_know_is_added_not_kept() -> None:
    table = DcTable([Endpoint(1, "127.0.0.1", 1443)], keys="reference")
    table.apply_config(config([option(1, "127.0.0.1", 1443), option(7, "fd00::7")]), now=0)
    assert table.dc_ids() == [1, 7]
    assert table.kept == ()


def test_refresh_schedule_counts_from_now() -> None:
    table = DcTable.bootstrap()
    assert table.needs_refresh(0.0)  # no config yet
    assert table.refresh_due_at == float("-inf")
    # the server's clock is far from ours: only expires - date matters
    table.apply_config(config(all_dcs_plain(), date=1_700_000_000, expires=1_700_003_600),
                       now=100.0)
    assert table.refresh_due_at == 3700.0
    assert not table.needs_refresh(3699.9)
    assert table.needs_refresh(3700.0)
    table.refresh_started(now=3700.0)
    assert not table.needs_refresh(3700.0 + REFRESH_RETRY_AFTER - 1)
    assert table.refresh_due_at == 3700.0 + REFRESH_RETRY_AFTER
    assert table.needs_refresh(3700.0 + REFRESH_RETRY_AFTER)  # no answer: ask again
    table.apply_config(config(all_dcs_plain(), date=0, expires=600), now=4000.0)
    assert not table.needs_refresh(4599.0) and table.needs_refresh(4600.0)


@pytest.mark.parametrize(("date", "expires", "lifetime"), [
    (1000, 1000, CONFIG_LIFETIME_MIN),
    (1000, 0, CONFIG_LIFETIME_MIN),
    (0, 2**31 - 1, CONFIG_LIFETIME_MAX),
])
def test_odd_lifetimes_are_clamped(date: int, expires: int, lifetime: float) -> None:
    table = DcTable.bootstrap()
    table.apply_config(config(all_dcs_plain(), date=date, expires=expires), now=50.0)
    assert table.refresh_due_at == 50.0 + lifetime


class _NotAConfig:
    date = 0
    expires = 0
    this_dc = 2


@pytest.mark.parametrize("bad", [
    None, _NotAConfig(),
    config(all_dcs_plain(), this_dc=2).__class__,  # the class, not a value
])
def test_a_config_that_is_not_one_is_a_usage_error(bad: object) -> None:
    table = DcTable.bootstrap()
    before = table.snapshot()
    with pytest.raises(UsageError):
        table.apply_config(bad, now=0)  # type: ignore[arg-type]
    assert table.snapshot() == before


def test_a_bad_option_object_leaves_the_table_as_it_was() -> None:
    table = DcTable.bootstrap()
    before = table.snapshot()
    with pytest.raises(UsageError):
        table.apply_config(config([*all_dcs_plain(), "1.2.3.4:443"]), now=0)
    assert table.snapshot() == before
    assert table.needs_refresh(0)


def test_cdn_keys_come_from_the_cdn_config_only() -> None:
    from sansio_mtdc.crypto.rsa import PRODUCTION_KEYS, REFERENCE_CLUSTER_KEYS
    from sansio_mtdc.tl import api

    table = DcTable.bootstrap()
    table.apply_config(config([*all_dcs_plain(), option(201, "203.0.113.9", cdn=True)]), now=0)
    assert len(table.keys_for(201, cdn=True)) == 0  # nothing vouched for yet
    reference = next(iter(REFERENCE_CLUSTER_KEYS))
    production = next(iter(PRODUCTION_KEYS))
    cdn_config = api.types.CdnConfig(public_keys=[
        api.types.CdnPublicKey(dc_id=201, public_key=reference.to_pem()),
        api.types.CdnPublicKey(dc_id=203, public_key=production.to_pem()),
        api.types.CdnPublicKey(dc_id=205, public_key="not a key"),
    ])
    assert table.apply_cdn_config(cdn_config) is True
    assert table.apply_cdn_config(cdn_config) is False
    assert table.ignored_cdn_keys == (205,)
    assert list(table.keys_for(201, cdn=True)) == [reference]
    assert reference.fingerprint not in table.keys_for(2)  # kept apart from the regular keys
    assert production.fingerprint not in table.keys_for(201, cdn=True)
    assert list(table.keys_for(203, cdn=True)) == [production]
    restored = DcTable.from_snapshot(table.snapshot())
    assert list(restored.keys_for(201, cdn=True)) == [reference]
    with pytest.raises(UsageError):
        table.apply_cdn_config(object())  # type: ignore[arg-type]


def test_nearest_dc_is_recorded_only() -> None:
    from sansio_mtdc.tl import api

    table = DcTable.bootstrap()
    assert table.nearest is None
    table.apply_nearest(api.types.NearestDc(country="NL", this_dc=2, nearest_dc=4))
    assert table.nearest is not None
    assert (table.nearest.country, table.nearest.this_dc, table.nearest.nearest_dc) == (
        "NL", 2, 4)
    assert table.this_dc is None  # a suggestion, not a config
    assert DcTable.from_snapshot(table.snapshot()).nearest == table.nearest
    with pytest.raises(UsageError):
        table.apply_nearest(object())  # type: ignore[arg-type]
