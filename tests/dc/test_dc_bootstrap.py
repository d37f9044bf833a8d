"""The built-in tables: Telegram's addresses, both families, the right ports and keys."""

from __future__ import annotations

import ipaddress

import pytest

from sansio_mtdc.crypto.rsa import PRODUCTION_KEYS, REFERENCE_CLUSTER_KEYS, TEST_KEYS, KeyRegistry
from sansio_mtdc.dc import DcTable, Endpoint
from sansio_mtdc.dc.bootstrap import BOOTSTRAP_PORTS, PRODUCTION_ENDPOINTS, TEST_ENDPOINTS
from sansio_mtdc.errors import UsageError

PRODUCTION_FINGERPRINT = 0xD09D1D85DE64FD85
TEST_FINGERPRINT = 0xB25898DF208D2603


@pytest.mark.parametrize(("test_mode", "dc_ids"), [(False, [1, 2, 3, 4, 5]), (True, [1, 2, 3])])
def test_bootstrap_has_every_dc_with_ipv4_and_ipv6(test_mode: bool, dc_ids: list[int]) -> None:
    table = DcTable.bootstrap(test_mode=test_mode)
    assert table.test_mode is test_mode
    assert table.dc_ids() == dc_ids
    assert table.dc_ids(cdn=True) == []
    for dc_id in dc_ids:
        endpoints = table.endpoints(dc_id)
        families = {ipaddress.ip_address(e.host).version for e in endpoints}
        assert families == {4, 6}
        for endpoint in endpoints:
            assert endpoint.ipv6 == (ipaddress.ip_address(endpoint.host).version == 6)
            assert not (endpoint.media_only or endpoint.tcpo_only or endpoint.cdn)
            assert endpoint.secret is None


@pytest.mark.parametrize("endpoints", [PRODUCTION_ENDPOINTS, TEST_ENDPOINTS])
def test_every_address_is_offered_on_443_then_80_then_5222(endpoints: tuple[Endpoint, ...]) -> None:
    hosts = list(dict.fromkeys(e.host for e in endpoints))
    for host in hosts:
        assert [e.port for e in endpoints if e.host == host] == [443, 80, 5222]
    assert BOOTSTRAP_PORTS == (443, 80, 5222)
    # address by address: the three ports of one host are adjacent
    for i in range(0, len(endpoints), 3):
        assert len({e.host for e in endpoints[i:i + 3]}) == 1


def test_known_addresses() -> None:
    production = DcTable.bootstrap()
    assert production.endpoints(2)[0] == Endpoint(2, "149.154.167.51", 443)
    assert {e.host for e in production.endpoints(2) if not e.ipv6} == {
        "149.154.167.51", "95.161.76.100"}
    assert {e.host for e in production.endpoints(5)} == {"149.154.171.5", "2001:b28:f23f:f005::a"}
    test = DcTable.bootstrap(test_mode=True)
    assert {e.host for e in test.endpoints(2)} == {"149.154.167.40", "2001:67c:4e8:f002::e"}
    assert {e.host for e in test.endpoints(3)} == {"149.154.175.117", "2001:b28:f23d:f003::e"}


def test_bootstrap_keys_match_the_mode() -> None:
    production, test = DcTable.bootstrap(), DcTable.bootstrap(test_mode=True)
    assert production.keys is PRODUCTION_KEYS
    assert test.keys is TEST_KEYS
    assert PRODUCTION_FINGERPRINT in production.keys_for(3)
    assert TEST_FINGERPRINT not in production.keys_for(3)
    assert TEST_FINGERPRINT in test.keys_for(1)
    assert PRODUCTION_FINGERPRINT not in test.keys_for(1)


def test_handshake_dc_ids() -> None:
    production, test = DcTable.bootstrap(), DcTable.bootstrap(test_mode=True)
    assert production.handshake_dc_id(2, purpose="main") == 2
    assert production.handshake_dc_id(4, purpose="media") == -4
    assert test.handshake_dc_id(2, purpose="main") == 10002
    assert test.handshake_dc_id(3, purpose="media") == -10003
    with pytest.raises(UsageError):
        test.handshake_dc_id(4, purpose="main")  # test DCs stop at 3
    with pytest.raises(UsageError):
        production.handshake_dc_id(2, purpose="cdn")  # not a CDN DC
    with pytest.raises(UsageError):
        production.handshake_dc_id(2, purpose="upload")  # type: ignore[arg-type]


def test_custom_table_for_a_local_cluster() -> None:
    endpoints = [Endpoint(dc_id, "127.0.0.1", 40000 + dc_id) for dc_id in (1, 2, 3)]
    table = DcTable(endpoints, keys="reference")
    assert table.keys is REFERENCE_CLUSTER_KEYS
    assert table.dc_ids() == [1, 2, 3]
    assert table.candidates(2, purpose="main", ipv6="prefer", obfuscated=False, now=0) == [
        endpoints[1]]
    own = KeyRegistry(REFERENCE_CLUSTER_KEYS)
    assert DcTable(endpoints, keys=own).keys is own
    assert DcTable(endpoints, keys=REFERENCE_CLUSTER_KEYS).keys is REFERENCE_CLUSTER_KEYS


@pytest.mark.parametrize("keys", ["staging", None, 3, b"production"])
def test_bad_keys_are_refused(keys: object) -> None:
    with pytest.raises(UsageError):
        DcTable([], keys=keys)  # type: ignore[arg-type]


def test_a_table_takes_endpoints_only() -> None:
    with pytest.raises(UsageError):
        DcTable([("127.0.0.1", 443)], keys="test")  # type: ignore[list-item]
    with pytest.raises(UsageError):
        DcTable([], keys="test", test_mode=1)  # type: ignore[arg-type]


def test_duplicate_endpoints_are_kept_once() -> None:
    endpoint = Endpoint(1, "127.0.0.1", 443)
    assert DcTable([endpoint, endpoint], keys="test").endpoints(1) == (endpoint,)
