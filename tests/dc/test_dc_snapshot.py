"""Snapshots: JSON-friendly, versioned, round-trip exactly, and refuse anything else cleanly."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sansio_mtdc.crypto.rsa import REFERENCE_CLUSTER_KEYS, KeyRegistry
from sansio_mtdc.dc import DcTable, Endpoint
from sansio_mtdc.errors import UsageError
from sansio_mtdc.tl import api

from .conftest import all_dcs_plain, config, option

SECRET = bytes(range(16))


def _rich_table() -> DcTable:
    table = DcTable.bootstrap(test_mode=True)
    table.apply_config(config([
        *[o for o in all_dcs_plain() if o.id <= 3],
        option(2, "10.0.2.9", media_only=True, static=True),
        option(2, "10.0.2.10", 8888, tcpo_only=True, this_port_only=True, secret=SECRET),
        option(2, "fd00::2:10", ipv6=True, tcpo_only=True, secret=b"\xdd" + SECRET),
        option(203, "203.0.113.3", cdn=True),
    ], this_dc=3), now=5)
    reference = next(iter(REFERENCE_CLUSTER_KEYS))
    table.apply_cdn_config(api.types.CdnConfig(public_keys=[
        api.types.CdnPublicKey(dc_id=203, public_key=reference.to_pem())]))
    table.apply_nearest(api.types.NearestDc(country="DE", this_dc=3, nearest_dc=2))
    return table


@pytest.mark.parametrize("make", [
    DcTable.bootstrap,
    lambda: DcTable.bootstrap(test_mode=True),
    _rich_table,
    lambda: DcTable([Endpoint(1, "127.0.0.1", 4431)], keys="reference"),
    lambda: DcTable([Endpoint(1, "localhost", 4431)], keys=KeyRegistry(REFERENCE_CLUSTER_KEYS)),
], ids=["production", "test", "rich", "reference", "custom_keys"])
def test_round_trip_through_json(make: Any) -> None:
    table: DcTable = make()
    snapshot = table.snapshot()
    text = json.dumps(snapshot)
    restored = DcTable.from_snapshot(json.loads(text))
    assert restored.snapshot() == snapshot
    assert json.dumps(restored.snapshot()) == text
    for cdn in (False, True):
        assert restored.dc_ids(cdn=cdn) == table.dc_ids(cdn=cdn)
        for dc_id in table.dc_ids(cdn=cdn):
            assert restored.endpoints(dc_id, cdn=cdn) == table.endpoints(dc_id, cdn=cdn)
            assert list(restored.keys_for(dc_id, cdn=cdn)) == list(table.keys_for(dc_id, cdn=cdn))
    assert (restored.this_dc, restored.nearest, restored.test_mode) == (
        table.this_dc, table.nearest, table.test_mode)
    assert (restored.config_date, restored.config_expires) == (
        table.config_date, table.config_expires)


def test_snapshot_is_versioned_and_names_builtin_keys() -> None:
    snapshot = DcTable.bootstrap().snapshot()
    assert snapshot["format"] == "sansio_mtdc.dc.table"
    assert snapshot["version"] == 1
    assert snapshot["keys"] == "production"
    custom = DcTable([], keys=KeyRegistry(REFERENCE_CLUSTER_KEYS)).snapshot()
    assert custom["keys"]["pems"][0].startswith("-----BEGIN RSA PUBLIC KEY-----")


def test_a_restored_table_asks_for_a_config_and_has_no_failures() -> None:
    table = _rich_table()
    assert not table.needs_refresh(10)
    endpoint = table.endpoints(2)[0]
    table.report_failure(endpoint, now=10)
    restored = DcTable.from_snapshot(table.snapshot())
    assert restored.needs_refresh(0)
    assert restored.failure_streak(endpoint, now=10) == 0


def _corruptions() -> list[tuple[str, Any]]:
    good = _rich_table().snapshot()
    out: list[tuple[str, Any]] = [("not a mapping", [good]), ("empty", {})]

    def changed(path: tuple[Any, ...], value: Any) -> Any:
        broken = copy.deepcopy(good)
        target = broken
        for step in path[:-1]:
            target = target[step]
        if value is KeyError:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return broken

    cases = [
        (("format",), "sansio_mtdc.other"), (("version",), 2), (("version",), "1"),
        (("test_mode",), "no"), (("test_mode",), KeyError), (("keys",), "staging"),
        (("keys",), 5), (("keys",), {"pems": ["junk"]}), (("keys",), {"pems": "x"}),
        (("keys",), {}), (("this_dc",), "2"), (("this_dc",), True), (("config_date",), 1.5),
        (("nearest",), "DE"), (("nearest",), {"country": "DE"}),
        (("endpoints",), KeyError), (("endpoints",), {}), (("endpoints", 0), "1.2.3.4"),
        (("endpoints", 0, "port"), 0), (("endpoints", 0, "port"), "443"),
        (("endpoints", 0, "dc_id"), KeyError), (("endpoints", 0, "host"), ""),
        (("endpoints", 0, "flags"), ["fast"]), (("endpoints", 0, "flags"), "ipv6"),
        (("endpoints", 0, "flags"), [1]), (("endpoints", 0, "secret"), "zz"),
        (("endpoints", 0, "secret"), 16), (("endpoints", 0, "secret"), "00" * 100),
        (("cdn_keys",), None), (("cdn_keys", 0), "pem"), (("cdn_keys", 0, "pem"), "junk"),
        (("cdn_keys", 0, "pem"), "x" * 5000), (("cdn_keys", 0, "dc_id"), "203"),
    ]
    for path, value in cases:
        out.append(("/".join(map(str, path)) + f"={value!r}"[:40], changed(path, value)))
    return out


@pytest.mark.parametrize(("name", "snapshot"), _corruptions(), ids=lambda v: str(v)[:40])
def test_a_damaged_snapshot_is_a_usage_error(name: str, snapshot: Any) -> None:
    with pytest.raises(UsageError):
        DcTable.from_snapshot(snapshot)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["format", "version", "test_mode", "keys", "this_dc", "config_date",
                        "config_expires", "nearest", "endpoints", "cdn_keys"]),
       json_values, st.integers(0, 3))
def test_any_json_in_any_field_is_read_or_refused_cleanly(key: str, value: Any,
                                                          index: int) -> None:
    snapshot = _rich_table_snapshot()
    if key in ("endpoints", "cdn_keys") and index < len(snapshot[key]) and isinstance(
            value, dict):
        snapshot[key][index] = value
    else:
        snapshot[key] = value
    try:
        restored = DcTable.from_snapshot(snapshot)
    except UsageError:
        return
    assert restored.snapshot()["format"] == "sansio_mtdc.dc.table"


_SNAPSHOT_CACHE: list[dict[str, Any]] = []


def _rich_table_snapshot() -> dict[str, Any]:
    if not _SNAPSHOT_CACHE:
        _SNAPSHOT_CACHE.append(_rich_table().snapshot())
    return copy.deepcopy(_SNAPSHOT_CACHE[0])
