"""What a reference cluster is: how many DCs, the addresses it advertises, its key and its limits.

:class:`ClusterConfig` is a frozen value, checked once at construction, so that nothing later has
to doubt it.  The addresses are only *advertised* (in ``help.getConfig``): the cluster is sans-I/O
and never listens anywhere; whoever serves it on sockets builds the config from the ports it
actually bound (see :func:`loopback_addresses`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ..crypto.dh import TELEGRAM_DH_PRIME
from ..crypto.rsa import RSAPrivateKey, reference_cluster_key
from ..dc.endpoint import Endpoint
from ..errors import UsageError
from ..session.config import ServerLimits
from ..tl.api import LAYER
from ..transport.packets import DEFAULT_MAX_PACKET

__all__ = [
    "DEFAULT_FIRST_PORT",
    "MAX_DCS",
    "NO_GZIP",
    "TEST_DC_OFFSET",
    "ClusterConfig",
    "DcAddress",
    "loopback_addresses",
]

#: Most DCs a cluster may run (test phone numbers name their DC with one digit).
MAX_DCS = 9
#: What test servers add to a DC id in the handshake and the obfuscation preamble.
TEST_DC_OFFSET = 10000
#: DC ``n`` of :func:`loopback_addresses` listens on ``DEFAULT_FIRST_PORT + n`` by default.
DEFAULT_FIRST_PORT = 44300
_MAX_CDN_DC_ID = 2**31 - 1
#: answers are not gzipped unless bigger than this: the only big answers are file parts, which
#: do not compress, and trying costs more than serving them
NO_GZIP = 1 << 30


@dataclass(frozen=True, slots=True)
class DcAddress:
    """One ``dcOption`` the cluster advertises for DC ``dc_id``.

    ``ipv6`` follows from ``ip_address``.  ``media_only`` marks an address for file transfers,
    ``tcpo_only`` one reachable only through obfuscation (with ``secret``, 16 or 17 bytes, when
    it is an MTProxy-style address); ``static`` and ``this_port_only`` are passed on as flags.
    """

    dc_id: int
    ip_address: str
    port: int
    media_only: bool = False
    tcpo_only: bool = False
    static: bool = False
    this_port_only: bool = False
    secret: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if type(self.dc_id) is not int or not 1 <= self.dc_id <= _MAX_CDN_DC_ID:
            raise UsageError(f"a DC id is a positive int, not {self.dc_id!r}")
        try:
            ipaddress.ip_address(self.ip_address)
        except (ValueError, TypeError):
            raise UsageError(f"{self.ip_address!r} is not an IPv4 or IPv6 address") from None
        if type(self.port) is not int or not 0 < self.port < 65536:
            raise UsageError(f"a port is an int in 1..65535, not {self.port!r}")
        if self.secret is not None:
            if not isinstance(self.secret, bytes) or len(self.secret) not in (16, 17):
                raise UsageError("an address secret is 16 or 17 bytes")
            if not self.tcpo_only:
                raise UsageError("only a tcpo_only address carries a secret")

    @property
    def ipv6(self) -> bool:
        return ":" in self.ip_address


def loopback_addresses(dc_count: int, *, host: str = "127.0.0.1",
                       first_port: int = DEFAULT_FIRST_PORT, ipv6_host: str | None = None,
                       media_first_port: int | None = None) -> tuple[DcAddress, ...]:
    """DC ``n`` at ``host:first_port + n`` (and ``ipv6_host`` on the same port when given);
    with ``media_first_port``, a media-only address at ``host:media_first_port + n`` too."""
    out: list[DcAddress] = []
    for dc_id in range(1, dc_count + 1):
        out.append(DcAddress(dc_id, host, first_port + dc_id))
        if ipv6_host is not None:
            out.append(DcAddress(dc_id, ipv6_host, first_port + dc_id))
        if media_first_port is not None:
            out.append(DcAddress(dc_id, host, media_first_port + dc_id, media_only=True))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """The shape of a reference cluster.

    * ``dc_count``: DCs ``1..dc_count`` are served (at most :data:`MAX_DCS`).
    * ``addresses``: the dcOptions of the served DCs, in the order ``help.getConfig`` lists them
      per DC (ordinary addresses are listed before media-only and tcpo-only ones whatever the
      order here, because simple clients take the first address of a DC); empty means
      :func:`loopback_addresses`.  Every served DC needs at least one ordinary IPv4 address.
    * ``cdn_addresses``: CDN DCs, advertised with the ``cdn`` flag but not served.
    * ``test_mode``: the cluster poses as Telegram's test servers: DC ids in the handshake and
      the obfuscation preamble carry +10000, and the config says ``test_mode``.
    * ``private_key``: the RSA key of the handshake (default :func:`reference_cluster_key`).
    * ``proxy_secrets``: MTProxy secrets accepted on obfuscated connections;
      ``accept_no_secret`` also lets secret-less obfuscation in.
    * ``accepted_layers``: the API layers ``invokeWithLayer`` may name.
    * ``nearest_dc`` / ``country``: what ``help.getNearestDc`` reports.
    * ``config_lifetime``: seconds between a config's ``date`` and ``expires``.
    * ``require_init_connection``: an auth key must have sent ``initConnection`` before other
      methods (``400 CONNECTION_NOT_INITED``), as Telegram asks.
    * ``dh_prime`` / ``g``: the handshake's Diffie-Hellman group.
    * ``max_packet``: the largest transport payload accepted.
    * ``upload_max_parts``: the ``upload_max_fileparts_default`` of the cluster.
    * ``session_limits``: the bounds of every MTProto session (default: the session layer's,
      but answers are never gzipped, see :data:`NO_GZIP`; lower ``gzip_min_size`` to test a
      client's gzip path).
    """

    dc_count: int = 5
    addresses: tuple[DcAddress, ...] = ()
    cdn_addresses: tuple[DcAddress, ...] = ()
    test_mode: bool = False
    private_key: RSAPrivateKey = field(default_factory=reference_cluster_key, repr=False)
    proxy_secrets: tuple[bytes, ...] = ()
    accept_no_secret: bool = True
    accepted_layers: range = range(LAYER - 8, LAYER + 9)
    nearest_dc: int = 1
    country: str = "NL"
    config_lifetime: int = 3600
    require_init_connection: bool = True
    dh_prime: int = field(default=TELEGRAM_DH_PRIME, repr=False)
    g: int = 3
    max_packet: int = DEFAULT_MAX_PACKET
    upload_max_parts: int = 4000
    session_limits: ServerLimits = field(default_factory=lambda: ServerLimits(
        gzip_min_size=NO_GZIP))

    def __post_init__(self) -> None:
        if type(self.dc_count) is not int or not 1 <= self.dc_count <= MAX_DCS:
            raise UsageError(f"dc_count is an int in 1..{MAX_DCS}, not {self.dc_count!r}")
        if not self.addresses:
            object.__setattr__(self, "addresses", loopback_addresses(self.dc_count))
        object.__setattr__(self, "addresses", tuple(self.addresses))
        object.__setattr__(self, "cdn_addresses", tuple(self.cdn_addresses))
        object.__setattr__(self, "proxy_secrets", tuple(self.proxy_secrets))
        for address in self.addresses:
            if not isinstance(address, DcAddress):
                raise UsageError(f"addresses holds DcAddress values, not {address!r}")
            if not address.dc_id <= self.dc_count:
                raise UsageError(f"address {address} names DC {address.dc_id}, which the "
                                 f"cluster of {self.dc_count} does not serve")
        for dc_id in self.dc_ids:
            if not any(a.dc_id == dc_id and not a.ipv6 and not a.media_only and not a.tcpo_only
                       for a in self.addresses):
                raise UsageError(f"DC {dc_id} has no ordinary IPv4 address to advertise")
        for address in self.cdn_addresses:
            if not isinstance(address, DcAddress):
                raise UsageError(f"cdn_addresses holds DcAddress values, not {address!r}")
            if address.dc_id <= self.dc_count:
                raise UsageError(f"CDN DC {address.dc_id} collides with a served DC id")
        for secret in self.proxy_secrets:
            if not isinstance(secret, bytes) or len(secret) not in (16, 17):
                raise UsageError("a proxy secret is 16 or 17 bytes")
            if secret[0] == 0xEE and len(secret) == 17:
                raise UsageError("fake-TLS proxy secrets are not supported")
        if not self.proxy_secrets and not self.accept_no_secret:
            raise UsageError("accept_no_secret=False needs at least one proxy secret")
        if not isinstance(self.private_key, RSAPrivateKey):
            raise UsageError("private_key is an RSAPrivateKey")
        if not isinstance(self.accepted_layers, range) or len(self.accepted_layers) == 0:
            raise UsageError("accepted_layers is a non-empty range")
        if self.nearest_dc not in self.dc_ids:
            raise UsageError(f"nearest_dc {self.nearest_dc!r} is not a DC of the cluster")
        if type(self.config_lifetime) is not int or self.config_lifetime <= 0:
            raise UsageError("config_lifetime is a positive number of seconds")
        if type(self.upload_max_parts) is not int or self.upload_max_parts <= 0:
            raise UsageError("upload_max_parts is a positive int")
        if type(self.max_packet) is not int or self.max_packet < 1024:
            raise UsageError("max_packet is an int of at least 1024")
        if type(self.g) is not int or self.g < 2 or type(self.dh_prime) is not int:
            raise UsageError("g and dh_prime are ints")
        if not isinstance(self.session_limits, ServerLimits):
            raise UsageError("session_limits is a ServerLimits")

    @property
    def dc_ids(self) -> range:
        """The ids of the served DCs."""
        return range(1, self.dc_count + 1)

    @property
    def detection_secrets(self) -> tuple[bytes, ...]:
        """The secrets to try on an obfuscated connection (``b""``: none)."""
        return ((b"",) if self.accept_no_secret else ()) + self.proxy_secrets

    def handshake_dc_ids(self, dc_id: int) -> frozenset[int]:
        """The DC ids a client may name in ``p_q_inner_data_*dc`` when it makes a key on DC
        ``dc_id``: the DC itself and its media twin (negative), +10000 in test mode."""
        value = dc_id + TEST_DC_OFFSET if self.test_mode else dc_id
        return frozenset((value, -value))

    def options_of(self, dc_id: int) -> list[DcAddress]:
        """The addresses of DC ``dc_id`` in the order clients should see them: ordinary IPv4,
        ordinary IPv6, then media-only, then tcpo-only."""
        mine = [a for a in self.addresses if a.dc_id == dc_id]
        return sorted(mine, key=lambda a: (a.tcpo_only, a.media_only, a.ipv6))

    def endpoints(self) -> list[Endpoint]:
        """Every advertised address as the client's DC layer holds it (CDN ones with
        ``cdn=True``): ``DcTable(config.endpoints(), keys="reference")`` is a client's table
        of this cluster."""
        def endpoint(a: DcAddress, cdn: bool) -> Endpoint:
            return Endpoint(a.dc_id, a.ip_address, a.port, ipv6=a.ipv6, media_only=a.media_only,
                            tcpo_only=a.tcpo_only, cdn=cdn, static=a.static,
                            this_port_only=a.this_port_only, secret=a.secret)

        return ([endpoint(a, False) for dc_id in self.dc_ids for a in self.options_of(dc_id)]
                + [endpoint(a, True) for a in self.cdn_addresses])
