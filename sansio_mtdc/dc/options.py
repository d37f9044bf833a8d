"""From the server's ``dcOption`` values to :class:`Endpoint` values, or a reason to skip one.

A config is a remote fact: an option the library could never use (an address that is not an IP
literal, a port out of range, an IPv6 flag on an IPv4 address, a secret the obfuscated transport
cannot take) is left out and reported, never raised, so one odd entry cannot cost the client the
whole table.  Objects that are not dcOptions at all are the caller's mistake (:class:`UsageError`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..errors import UsageError
from .endpoint import FLAG_NAMES, MAX_DC_ID, Endpoint

__all__ = [
    "MAX_CONFIG_OPTIONS",
    "ConfigLike",
    "DcOptionLike",
    "IgnoredOption",
    "NearestDcLike",
    "endpoint_from_option",
    "usable_secret",
]

#: More options than this in one config are not read (a real config has a few dozen).
MAX_CONFIG_OPTIONS = 1024
_MAX_IP_LITERAL = 64


class DcOptionLike(Protocol):
    """What is read from a dcOption (``sansio_mtdc.tl.api.types.DcOption`` has it)."""

    id: int
    ip_address: str
    port: int
    ipv6: bool
    media_only: bool
    tcpo_only: bool
    cdn: bool
    static: bool
    this_port_only: bool
    secret: bytes | None


class ConfigLike(Protocol):
    """What is read from help.getConfig's ``config``."""

    date: int
    expires: int
    this_dc: int
    dc_options: Sequence[DcOptionLike]


class NearestDcLike(Protocol):
    """What is read from help.getNearestDc's ``nearestDc``."""

    country: str
    this_dc: int
    nearest_dc: int


@dataclass(frozen=True, slots=True)
class IgnoredOption:
    """An option of the last config that was left out, and why (``reason`` is a short tag:
    ``bad_dc_id``, ``bad_port``, ``bad_address``, ``family_mismatch``, ``unsupported_secret``,
    ``duplicate``, ``too_many``)."""

    dc_id: int
    host: str
    port: int
    reason: str


def usable_secret(secret: bytes | None) -> bool:
    """Whether the obfuscated transport can use ``secret``: none, 16 bytes, or 17 bytes whose
    first byte selects the transport (fake-TLS ``0xee`` secrets are not supported)."""
    if secret is None:
        return True
    return len(secret) == 16 or (len(secret) == 17 and secret[0] != 0xEE)


def _read(option: object) -> tuple[int, str, int, dict[str, bool], bytes | None]:
    try:
        dc_id = getattr(option, "id")  # noqa: B009  (``id`` reads as the builtin otherwise)
        host = option.ip_address  # type: ignore[attr-defined]
        port = option.port  # type: ignore[attr-defined]
        flags = {name: getattr(option, name) for name in FLAG_NAMES}
        secret = option.secret  # type: ignore[attr-defined]
    except AttributeError as exc:
        raise UsageError(f"not a dcOption: {option!r}") from exc
    if (type(dc_id) is not int or type(port) is not int or not isinstance(host, str)
            or any(type(value) is not bool for value in flags.values())
            or not (secret is None or isinstance(secret, bytes | bytearray))):
        raise UsageError(f"not a dcOption: {option!r}")
    return dc_id, host, port, flags, None if secret is None else bytes(secret)


def endpoint_from_option(option: DcOptionLike) -> Endpoint | IgnoredOption:
    """The endpoint ``option`` describes, with its address in canonical form, or why not."""
    dc_id, host, port, flags, secret = _read(option)

    def ignored(reason: str) -> IgnoredOption:
        return IgnoredOption(dc_id, host[:_MAX_IP_LITERAL], port, reason)

    if not 1 <= dc_id <= MAX_DC_ID:
        return ignored("bad_dc_id")
    if not 0 < port < 65536:
        return ignored("bad_port")
    if len(host) > _MAX_IP_LITERAL:
        return ignored("bad_address")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return ignored("bad_address")
    if (address.is_unspecified or address.is_multicast
            or (isinstance(address, ipaddress.IPv6Address) and address.scope_id is not None)):
        return ignored("bad_address")
    if (address.version == 6) != flags["ipv6"]:
        return ignored("family_mismatch")
    if not usable_secret(secret):
        return ignored("unsupported_secret")
    return Endpoint(dc_id, str(address), port, secret=secret, **flags)
