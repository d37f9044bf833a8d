"""Endpoint values: checked on construction, frozen, hashable."""

from __future__ import annotations

import dataclasses

import pytest

from sansio_mtdc.dc import Endpoint
from sansio_mtdc.errors import UsageError


def test_endpoint_is_a_hashable_frozen_value() -> None:
    a = Endpoint(2, "149.154.167.51", 443)
    b = Endpoint(2, "149.154.167.51", 443)
    assert a == b and hash(a) == hash(b)
    assert len({a, b, Endpoint(2, "149.154.167.51", 80)}) == 2
    assert Endpoint(2, "h", 443, secret=b"x" * 16) != Endpoint(2, "h", 443, secret=b"y" * 16)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.port = 80  # type: ignore[misc]
    assert not hasattr(a, "__dict__")
    assert a.address == ("149.154.167.51", 443)


def test_flags_and_repr() -> None:
    endpoint = Endpoint(2, "::1", 443, ipv6=True, tcpo_only=True, secret=b"\x01" * 16)
    assert endpoint.flags == ("ipv6", "tcpo_only")
    assert "01010101" not in repr(endpoint)  # a secret is not written to logs


@pytest.mark.parametrize("kwargs", [
    {"dc_id": 0}, {"dc_id": -2}, {"dc_id": 2**31}, {"dc_id": True}, {"dc_id": "2"},
    {"host": ""}, {"host": b"1.2.3.4"}, {"host": "x" * 254},
    {"port": 0}, {"port": 65536}, {"port": "443"}, {"port": 443.0},
    {"ipv6": 1}, {"cdn": None}, {"this_port_only": "yes"},
    {"secret": "00" * 16}, {"secret": bytearray(16)},
])
def test_bad_fields_are_refused(kwargs: dict[str, object]) -> None:
    fields = {"dc_id": 1, "host": "127.0.0.1", "port": 443, **kwargs}
    with pytest.raises(UsageError):
        Endpoint(**fields)  # type: ignore[arg-type]
