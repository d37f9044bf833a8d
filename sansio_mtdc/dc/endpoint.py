"""One address of one data center, with the dcOption flags that say how it may be used.

An :class:`Endpoint` is a value: frozen, slotted and hashable, so it can be a dictionary key, a
set member, and be handed to an adapter that connects to it.  The flags keep their dcOption
names so that nothing is lost between ``help.getConfig`` and the socket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from ..errors import UsageError

__all__ = ["FLAG_NAMES", "MAX_DC_ID", "Endpoint", "IPv6Policy", "Purpose"]

#: What a connection is for: API calls, file transfers, or a CDN download.
Purpose: TypeAlias = Literal["main", "media", "cdn"]
#: Whether IPv6 addresses are tried: not at all, after IPv4, or before IPv4.
IPv6Policy: TypeAlias = Literal["never", "allow", "prefer"]

#: The dcOption ``true`` flags an endpoint carries, in schema order.
FLAG_NAMES = ("ipv6", "media_only", "tcpo_only", "cdn", "static", "this_port_only")
#: DC ids are TL ``int``s; real ones are small, CDN ones in the hundreds.
MAX_DC_ID = 2**31 - 1
_MAX_HOST_LENGTH = 253


@dataclass(frozen=True, slots=True)
class Endpoint:
    """``host:port`` of DC ``dc_id``.

    * ``ipv6``: the host is an IPv6 address.
    * ``media_only``: for file transfers only (a "media DC" of the same id).
    * ``tcpo_only``: reachable only through the obfuscated transport, with ``secret`` if set.
    * ``cdn``: a CDN DC; never used for anything but ``upload.getCdnFile``.
    * ``static``: the address to use when connecting through a proxy.
    * ``this_port_only``: no other port may be tried on this host.
    * ``secret``: the MTProxy-style secret mixed into the obfuscation keys.
    """

    dc_id: int
    host: str
    port: int
    ipv6: bool = False
    media_only: bool = False
    tcpo_only: bool = False
    cdn: bool = False
    static: bool = False
    this_port_only: bool = False
    secret: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if type(self.dc_id) is not int or not 1 <= self.dc_id <= MAX_DC_ID:
            raise UsageError(f"a DC id is an int in 1..{MAX_DC_ID}, not {self.dc_id!r}")
        if not isinstance(self.host, str) or not 0 < len(self.host) <= _MAX_HOST_LENGTH:
            raise UsageError(f"an endpoint host is a non-empty string, not {self.host!r}")
        if type(self.port) is not int or not 0 < self.port < 65536:
            raise UsageError(f"a port is an int in 1..65535, not {self.port!r}")
        for name in FLAG_NAMES:
            if type(getattr(self, name)) is not bool:
                raise UsageError(f"endpoint flag {name} must be a bool")
        if self.secret is not None and type(self.secret) is not bytes:
            raise UsageError(f"an endpoint secret is bytes or None, not {type(self.secret)}")

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)``: what a socket connects to, and what failures are counted by."""
        return (self.host, self.port)

    @property
    def flags(self) -> tuple[str, ...]:
        """The names of the flags that are set, in schema order."""
        return tuple(name for name in FLAG_NAMES if getattr(self, name))
