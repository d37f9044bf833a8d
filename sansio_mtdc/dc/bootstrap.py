"""The built-in addresses used for the very first connection, before any ``help.getConfig``.

They are the ones Telegram's official clients ship (tdlib's default DC options, cross-checked
against Telegram Desktop): production DCs 1-5 and test DCs 1-3, each with IPv4 and IPv6.  As in
tdlib every address is offered on ports 443, 80 and 5222, in that order, address by address: 443
is the port least often filtered, 80 and 5222 are the fallbacks firewalls tend to leave open.

The server's config replaces these as soon as it arrives; they are a starting point, not truth.
"""

from __future__ import annotations

from .endpoint import Endpoint

__all__ = ["BOOTSTRAP_PORTS", "PRODUCTION_ENDPOINTS", "TEST_ENDPOINTS", "bootstrap_endpoints"]

#: Ports every built-in address is tried on, in order.
BOOTSTRAP_PORTS = (443, 80, 5222)

# dc id -> (IPv4 addresses, IPv6 addresses)
_PRODUCTION: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {
    1: (("149.154.175.50",), ("2001:b28:f23d:f001::a",)),
    2: (("149.154.167.51", "95.161.76.100"), ("2001:67c:4e8:f002::a",)),
    3: (("149.154.175.100",), ("2001:b28:f23d:f003::a",)),
    4: (("149.154.167.91",), ("2001:67c:4e8:f004::a",)),
    5: (("149.154.171.5",), ("2001:b28:f23f:f005::a",)),
}

_TEST: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {
    1: (("149.154.175.10",), ("2001:b28:f23d:f001::e",)),
    2: (("149.154.167.40",), ("2001:67c:4e8:f002::e",)),
    3: (("149.154.175.117",), ("2001:b28:f23d:f003::e",)),
}


def _expand(table: dict[int, tuple[tuple[str, ...], tuple[str, ...]]]) -> tuple[Endpoint, ...]:
    endpoints = []
    for dc_id, (ipv4_hosts, ipv6_hosts) in table.items():
        for ipv6, hosts in ((False, ipv4_hosts), (True, ipv6_hosts)):
            for host in hosts:
                endpoints += [Endpoint(dc_id, host, port, ipv6=ipv6) for port in BOOTSTRAP_PORTS]
    return tuple(endpoints)


#: Telegram's production DCs 1-5 (RSA key 0xd09d1d85de64fd85).
PRODUCTION_ENDPOINTS = _expand(_PRODUCTION)
#: Telegram's test DCs 1-3 (RSA key 0xb25898df208d2603).
TEST_ENDPOINTS = _expand(_TEST)


def bootstrap_endpoints(*, test_mode: bool) -> tuple[Endpoint, ...]:
    return TEST_ENDPOINTS if test_mode else PRODUCTION_ENDPOINTS
