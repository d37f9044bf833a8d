"""The DC table: every known address of every data center, and which ones to try first.

It starts from the built-in bootstrap addresses (or from endpoints the caller gives, such as a
local cluster on loopback) and is replaced by each ``help.getConfig`` the client receives.  The
client asks it which addresses to try for a DC and a purpose (:meth:`DcTable.candidates`), which
RSA keys a DC's handshake must accept (:meth:`DcTable.keys_for`), whether a DC id a server named is
known at all (:meth:`DcTable.knows`), and what to persist (:meth:`DcTable.snapshot`).

CDN DCs are kept apart from the regular ones: they share id space with nothing, are reached only
for ``upload.getCdnFile``, and their RSA keys come from ``help.getCdnConfig``, not from the
built-in list.  The table never sees bytes and never does I/O; time comes in as ``now``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias

from ..errors import UsageError
from .bootstrap import BOOTSTRAP_PORTS, bootstrap_endpoints
from .endpoint import Endpoint, IPv6Policy, Purpose
from .failures import FailureTracker
from .options import (
    MAX_CONFIG_OPTIONS,
    ConfigLike,
    DcOptionLike,
    IgnoredOption,
    NearestDcLike,
    endpoint_from_option,
)
from .snapshot import (
    SNAPSHOT_FORMAT,
    SNAPSHOT_VERSION,
    endpoint_from_json,
    endpoint_to_json,
    field,
    optional_int,
)

if TYPE_CHECKING:
    from ..crypto.rsa import KeyRegistry, RSAPublicKey

__all__ = [
    "CONFIG_LIFETIME_MAX",
    "CONFIG_LIFETIME_MIN",
    "REFRESH_RETRY_AFTER",
    "CdnConfigLike",
    "ConfigLike",
    "DcOptionLike",
    "DcTable",
    "Endpoint",
    "IPv6Policy",
    "IgnoredOption",
    "KeySetName",
    "NearestDcLike",
    "NearestSuggestion",
    "Purpose",
]

#: The built-in key sets a table can name (and a snapshot can store by name).
KeySetName: TypeAlias = Literal["production", "test", "reference"]

#: A config is refreshed no sooner than this many seconds after it arrived, whatever its
#: ``expires`` says (a config that expires at once must not make the client ask in a loop)...
CONFIG_LIFETIME_MIN = 60.0
#: ...and no later than this (a config that claims to last for years is still re-checked daily).
CONFIG_LIFETIME_MAX = 86400.0
#: A refresh that was started but brought no config is due again after this many seconds.
REFRESH_RETRY_AFTER = 60.0

_PURPOSES = ("main", "media", "cdn")
_IPV6_POLICIES = ("never", "allow", "prefer")
_KEY_SET_NAMES = ("production", "test", "reference")
_TEST_DC_OFFSET = 10000


class CdnPublicKeyLike(Protocol):
    dc_id: int
    public_key: str


class CdnConfigLike(Protocol):
    """What is read from help.getCdnConfig's ``cdnConfig``."""

    public_keys: Sequence[CdnPublicKeyLike]


@dataclass(frozen=True, slots=True)
class NearestSuggestion:
    """help.getNearestDc's answer: the client's ``country``, the DC that answered, and the DC the
    server thinks is closest.  Only recorded: moving the home DC is the client's decision."""

    country: str
    this_dc: int
    nearest_dc: int


def _usable_without_options(endpoint: Endpoint) -> bool:
    """Reachable by every client: plain transport, IPv4, any purpose."""
    return not (endpoint.media_only or endpoint.tcpo_only or endpoint.ipv6)


def _group(endpoints: Iterable[Endpoint]) -> tuple[dict[int, tuple[Endpoint, ...]],
                                                  dict[int, tuple[Endpoint, ...]]]:
    """Regular and CDN endpoints by DC id, in the order given, without duplicates."""
    regular: dict[int, list[Endpoint]] = {}
    cdn: dict[int, list[Endpoint]] = {}
    seen: set[Endpoint] = set()
    for endpoint in endpoints:
        if not isinstance(endpoint, Endpoint):
            raise UsageError(f"a DC table holds Endpoint values, not {type(endpoint).__name__}")
        if endpoint not in seen:
            seen.add(endpoint)
            (cdn if endpoint.cdn else regular).setdefault(endpoint.dc_id, []).append(endpoint)
    return ({k: tuple(v) for k, v in regular.items()}, {k: tuple(v) for k, v in cdn.items()})


def _check_int(value: object, what: str) -> int:
    if type(value) is not int:
        raise UsageError(f"{what} must be an int, not {type(value).__name__}")
    return value


class DcTable:
    """Addresses of the regular and CDN DCs, recent failures, and the config's schedule.

    ``DcTable(endpoints, keys=...)`` takes explicit endpoints (CDN ones are those with
    ``cdn=True``) and the RSA keys of their servers: a :class:`~sansio_mtdc.crypto.rsa.KeyRegistry`
    or the name of a built-in set (``"production"``, ``"test"``, ``"reference"`` for the local
    cluster).  :meth:`bootstrap` builds Telegram's own.
    """

    __slots__ = (
        "_cdn",
        "_cdn_keys",
        "_cdn_registries",
        "_config_date",
        "_config_expires",
        "_failures",
        "_ignored",
        "_ignored_cdn_keys",
        "_kept",
        "_keys",
        "_nearest",
        "_refresh_at",
        "_refresh_pending_until",
        "_regular",
        "_test_mode",
        "_this_dc",
    )

    def __init__(self, endpoints: Iterable[Endpoint], *, keys: KeyRegistry | KeySetName,
                 test_mode: bool = False) -> None:
        if type(test_mode) is not bool:
            raise UsageError("test_mode is a bool")
        self._regular, self._cdn = _group(endpoints)
        self._keys: KeyRegistry | str = _key_set(keys)
        self._test_mode = test_mode
        self._cdn_keys: dict[int, tuple[RSAPublicKey, ...]] = {}
        self._cdn_registries: dict[int, KeyRegistry] = {}
        self._failures = FailureTracker()
        self._this_dc: int | None = None
        self._config_date: int | None = None
        self._config_expires: int | None = None
        self._refresh_at = -math.inf
        self._refresh_pending_until = -math.inf
        self._nearest: NearestSuggestion | None = None
        self._ignored: tuple[IgnoredOption, ...] = ()
        self._kept: tuple[int, ...] = ()
        self._ignored_cdn_keys: tuple[int, ...] = ()

    @classmethod
    def bootstrap(cls, *, test_mode: bool = False) -> DcTable:
        """Telegram's production DCs 1-5, or its test DCs 1-3, with the matching RSA key."""
        return cls(bootstrap_endpoints(test_mode=test_mode),
                   keys="test" if test_mode else "production", test_mode=test_mode)

    # -- what the table holds ------------------------------------------------------------------

    @property
    def test_mode(self) -> bool:
        """Whether these are test DCs (their handshakes carry ``dc_id + 10000``)."""
        return self._test_mode

    @property
    def keys(self) -> KeyRegistry:
        """The RSA keys of the regular DCs' servers."""
        keys = self._keys
        if isinstance(keys, str):
            return _named_registry(keys)
        return keys

    def dc_ids(self, *, cdn: bool = False) -> list[int]:
        """The known DC ids (the CDN ones with ``cdn=True``), ascending."""
        return sorted(self._cdn if cdn else self._regular)

    def knows(self, dc_id: int, *, cdn: bool = False) -> bool:
        """Whether ``dc_id`` has addresses here.  A redirect to a DC that is not known is a fact
        from the server, not a bug: the client turns it into an error of that request."""
        return dc_id in (self._cdn if cdn else self._regular)

    def endpoints(self, dc_id: int, *, cdn: bool = False) -> tuple[Endpoint, ...]:
        """Every endpoint of ``dc_id``, unfiltered, in table order."""
        return self._pool(dc_id, cdn=cdn)

    def _pool(self, dc_id: int, *, cdn: bool) -> tuple[Endpoint, ...]:
        pool = (self._cdn if cdn else self._regular).get(dc_id)
        if pool is None:
            kind = "CDN DC" if cdn else "DC"
            raise UsageError(f"{kind} {dc_id} is not in the table (check knows() first)")
        return pool

    def keys_for(self, dc_id: int, *, cdn: bool = False) -> KeyRegistry:
        """The RSA keys a handshake with ``dc_id`` may accept.

        A regular DC gets the table's keys (the DC must be known).  A CDN DC gets only the keys
        help.getCdnConfig gave for it: an empty registry until then, so that a handshake with an
        unvouched CDN fails instead of trusting a key it should not.
        """
        if not cdn:
            self._pool(dc_id, cdn=False)
            return self.keys
        registry = self._cdn_registries.get(dc_id)
        if registry is None:
            from ..crypto.rsa import KeyRegistry

            registry = KeyRegistry(self._cdn_keys.get(dc_id, ()), read_only=True)
            self._cdn_registries[dc_id] = registry
        return registry

    def handshake_dc_id(self, dc_id: int, *, purpose: Purpose) -> int:
        """The ``dc`` of p_q_inner_data_dc: the id, plus 10000 on test DCs, negative for a media
        connection (not for a CDN one)."""
        _check_purpose(purpose)
        self._pool(dc_id, cdn=purpose == "cdn")
        raw = dc_id + _TEST_DC_OFFSET if self._test_mode else dc_id
        return -raw if purpose == "media" else raw

    # -- which addresses to try --------------------------------------------------------------

    def candidates(self, dc_id: int, *, purpose: Purpose, ipv6: IPv6Policy, obfuscated: bool,
                   now: float, via_proxy: bool = False,
                   other_ports: bool = False) -> list[Endpoint]:
        """The endpoints to try for ``dc_id`` and ``purpose``, best first; may be empty.

        Which ones: ``main`` never uses media-only options, ``media`` uses them and the regular
        ones, ``cdn`` only the CDN DC's own; ``tcpo_only`` endpoints only when ``obfuscated``;
        IPv6 ones unless ``ipv6="never"``.  With ``other_ports``, each address not marked
        ``this_port_only`` is also offered on the bootstrap ports (443, 80, 5222) it is not
        already listed with, after all listed ones.

        Order, most important first: media-only before regular (for ``media``: the server asks
        for bulk transfers there); the address family (``prefer``: IPv6 first, ``allow``: IPv4
        first); non-static before static, or static first ``via_proxy`` (the flag names the
        addresses meant for proxies); then table order.  Finally every address that failed
        recently moves to the end, the longest-ago failure first.

        :class:`UsageError` for an unknown DC or a bad argument.
        """
        _check_purpose(purpose)
        now = _check_now(now)
        if ipv6 not in _IPV6_POLICIES:
            raise UsageError(f"ipv6 is one of {_IPV6_POLICIES}, not {ipv6!r}")
        pool = self._pool(dc_id, cdn=purpose == "cdn")
        ranked: list[tuple[tuple[int, int, int, int], Endpoint]] = []
        for position, endpoint in enumerate(pool):
            if ((endpoint.tcpo_only and not obfuscated) or (endpoint.ipv6 and ipv6 == "never")
                    or (purpose == "main" and endpoint.media_only)):
                continue
            rank = (
                0 if purpose != "media" or endpoint.media_only else 1,
                int(endpoint.ipv6) if ipv6 != "prefer" else int(not endpoint.ipv6),
                int(endpoint.static != via_proxy),
                position,
            )
            ranked.append((rank, endpoint))
        ranked.sort(key=lambda item: item[0])
        chosen = [endpoint for _, endpoint in ranked]
        if other_ports:
            chosen += _other_port_variants(chosen, {e.address for e in pool})
        fresh: list[Endpoint] = []
        demoted: list[tuple[float, int, Endpoint]] = []
        for position, endpoint in enumerate(chosen):
            failed_at = self._failures.demoted_at(endpoint.address, now)
            if failed_at is None:
                fresh.append(endpoint)
            else:
                demoted.append((failed_at, position, endpoint))
        demoted.sort(key=lambda item: item[:2])
        return fresh + [endpoint for _, _, endpoint in demoted]

    def report_failure(self, endpoint: Endpoint, *, now: float) -> None:
        """A connection to ``endpoint`` failed: demote its address for a while.  Addresses the
        table does not hold (any more) are ignored."""
        now = _check_now(now)
        if self._holds_address(endpoint.address):
            self._failures.failed(endpoint.address, now)
            self._failures.forget_old(now)

    def report_success(self, endpoint: Endpoint) -> None:
        """A connection to ``endpoint`` worked: forget its failures."""
        self._failures.succeeded(endpoint.address)

    def failure_streak(self, endpoint: Endpoint, *, now: float) -> int:
        """Failures in a row of ``endpoint``'s address not yet forgotten at ``now``."""
        return self._failures.streak(endpoint.address, _check_now(now))

    def _holds_address(self, address: tuple[str, int]) -> bool:
        host, port = address
        for pools in (self._regular, self._cdn):
            for pool in pools.values():
                for endpoint in pool:
                    if endpoint.host == host and (
                            endpoint.port == port
                            or (port in BOOTSTRAP_PORTS and not endpoint.this_port_only)):
                        return True
        return False

    def _addresses(self) -> set[tuple[str, int]]:
        found = set()
        for pools in (self._regular, self._cdn):
            for pool in pools.values():
                for endpoint in pool:
                    found.add(endpoint.address)
                    if not endpoint.this_port_only:
                        found.update((endpoint.host, port) for port in BOOTSTRAP_PORTS)
        return found

    # -- what the server says --------------------------------------------------------------

    def apply_config(self, config: ConfigLike, *, now: float) -> bool:
        """Replace the addresses with ``config.dc_options``; True when the addresses or
        ``this_dc`` changed (the snapshot should then be saved again).

        Options no client could use are left out (see :attr:`ignored`).  A DC the table knew
        that would be left without an address every client can use (plain transport, IPv4,
        not media-only) keeps its old endpoints after the new ones (see :attr:`kept`): DCs do
        not disappear, so a config that omits one is partial (one served for a region, or cut
        short), and losing the only way to a DC that holds the user's auth key and files would
        strand them until a restart, while a stale address costs one failed attempt and is then
        demoted.  The config's lifetime (``expires - date``, clamped to
        [:data:`CONFIG_LIFETIME_MIN`, :data:`CONFIG_LIFETIME_MAX`]) is counted from ``now``, so
        the server's clock and the caller's need not agree.
        """
        now = _check_now(now)
        try:
            date = _check_int(config.date, "config.date")
            expires = _check_int(config.expires, "config.expires")
            this_dc = _check_int(config.this_dc, "config.this_dc")
            options = config.dc_options
        except AttributeError as exc:
            raise UsageError(f"not a Config: {type(config).__name__}") from exc
        if not isinstance(options, Iterable):
            raise UsageError("config.dc_options is not a sequence")
        endpoints, ignored = self._read_options(options)
        regular, cdn = _group(endpoints)
        kept = []
        for dc_id, old in self._regular.items():
            new = regular.get(dc_id, ())
            if (not any(_usable_without_options(e) for e in new)
                    and any(_usable_without_options(e) for e in old)):
                regular[dc_id] = new + tuple(e for e in old if e not in new)
                kept.append(dc_id)
        changed = regular != self._regular or cdn != self._cdn or this_dc != self._this_dc
        # every check is done: commit
        self._regular, self._cdn = regular, cdn
        self._this_dc, self._config_date, self._config_expires = this_dc, date, expires
        lifetime = min(max(float(expires - date), CONFIG_LIFETIME_MIN), CONFIG_LIFETIME_MAX)
        self._refresh_at = now + lifetime
        self._refresh_pending_until = -math.inf
        self._ignored, self._kept = tuple(ignored), tuple(kept)
        self._failures.keep_only(self._addresses())
        return changed

    @staticmethod
    def _read_options(options: Iterable[DcOptionLike]) -> tuple[list[Endpoint],
                                                                 list[IgnoredOption]]:
        endpoints: list[Endpoint] = []
        ignored: list[IgnoredOption] = []
        seen: set[Endpoint] = set()
        for index, option in enumerate(options):
            if index == MAX_CONFIG_OPTIONS:
                ignored.append(IgnoredOption(0, "", 0, "too_many"))
                break
            result = endpoint_from_option(option)
            if isinstance(result, IgnoredOption):
                ignored.append(result)
            elif result in seen:
                ignored.append(IgnoredOption(result.dc_id, result.host, result.port, "duplicate"))
            else:
                seen.add(result)
                endpoints.append(result)
        return endpoints, ignored

    @property
    def ignored(self) -> tuple[IgnoredOption, ...]:
        """The options the last config had that were left out, with the reason."""
        return self._ignored

    @property
    def kept(self) -> tuple[int, ...]:
        """DCs that kept their old endpoints at the last config (see :meth:`apply_config`)."""
        return self._kept

    @property
    def this_dc(self) -> int | None:
        """The DC that sent the last config."""
        return self._this_dc

    @property
    def config_date(self) -> int | None:
        return self._config_date

    @property
    def config_expires(self) -> int | None:
        return self._config_expires

    def needs_refresh(self, now: float) -> bool:
        """Whether the client should call help.getConfig: no config yet (a bootstrap or restored
        table) or the last one expired, and no refresh started less than
        :data:`REFRESH_RETRY_AFTER` seconds ago."""
        now = _check_now(now)
        return now >= self._refresh_at and now >= self._refresh_pending_until

    def refresh_started(self, *, now: float) -> None:
        """The client sent help.getConfig: no other refresh is due until the answer comes or
        :data:`REFRESH_RETRY_AFTER` seconds pass."""
        self._refresh_pending_until = _check_now(now) + REFRESH_RETRY_AFTER

    @property
    def refresh_due_at(self) -> float:
        """The time from which :meth:`needs_refresh` is true (``-inf``: already), for the
        client's timer."""
        return max(self._refresh_at, self._refresh_pending_until)

    def apply_cdn_config(self, cdn_config: CdnConfigLike) -> bool:
        """Replace the CDN DCs' RSA keys with help.getCdnConfig's; True when they changed.
        Keys that are not readable RSA public keys are left out (see :attr:`ignored_cdn_keys`).
        """
        from ..crypto.rsa import RSAPublicKey

        try:
            entries = cdn_config.public_keys
        except AttributeError as exc:
            raise UsageError(f"not a CdnConfig: {type(cdn_config).__name__}") from exc
        if not isinstance(entries, Iterable):
            raise UsageError("cdn_config.public_keys is not a sequence")
        keys: dict[int, list[RSAPublicKey]] = {}
        bad: list[int] = []
        for index, entry in enumerate(entries):
            if index == MAX_CONFIG_OPTIONS:
                break
            try:
                dc_id, pem = entry.dc_id, entry.public_key
            except AttributeError as exc:
                raise UsageError(f"not a cdnPublicKey: {type(entry).__name__}") from exc
            _check_int(dc_id, "cdnPublicKey.dc_id")
            if not isinstance(pem, str):
                raise UsageError("cdnPublicKey.public_key must be a str")
            try:
                key = RSAPublicKey.from_pem(pem)
            except UsageError:
                bad.append(dc_id)
                continue
            if key not in keys.setdefault(dc_id, []):
                keys[dc_id].append(key)
        new = {dc_id: tuple(found) for dc_id, found in keys.items()}
        changed = new != self._cdn_keys
        self._cdn_keys, self._cdn_registries = new, {}
        self._ignored_cdn_keys = tuple(bad)
        return changed

    @property
    def ignored_cdn_keys(self) -> tuple[int, ...]:
        """CDN DC ids whose key in the last CDN config could not be read."""
        return self._ignored_cdn_keys

    def apply_nearest(self, nearest: NearestDcLike) -> None:
        """Record help.getNearestDc's suggestion (see :attr:`nearest`)."""
        try:
            country, this_dc, nearest_dc = nearest.country, nearest.this_dc, nearest.nearest_dc
        except AttributeError as exc:
            raise UsageError(f"not a NearestDc: {type(nearest).__name__}") from exc
        if not isinstance(country, str):
            raise UsageError("nearestDc.country must be a str")
        self._nearest = NearestSuggestion(country, _check_int(this_dc, "nearestDc.this_dc"),
                                          _check_int(nearest_dc, "nearestDc.nearest_dc"))

    @property
    def nearest(self) -> NearestSuggestion | None:
        return self._nearest

    # -- persistence -------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything worth keeping across a restart, as plain JSON types.

        Not kept: recent failures and the refresh schedule (the caller's clock does not survive
        a restart), so a restored table asks for a fresh config at once.
        """
        keys: str | dict[str, list[str]]
        keys = self._keys if isinstance(self._keys, str) else {
            "pems": [key.to_pem() for key in self._keys]}
        nearest = self._nearest
        return {
            "format": SNAPSHOT_FORMAT,
            "version": SNAPSHOT_VERSION,
            "test_mode": self._test_mode,
            "keys": keys,
            "this_dc": self._this_dc,
            "config_date": self._config_date,
            "config_expires": self._config_expires,
            "nearest": None if nearest is None else {
                "country": nearest.country, "this_dc": nearest.this_dc,
                "nearest_dc": nearest.nearest_dc},
            "endpoints": [endpoint_to_json(endpoint)
                          for pools in (self._regular, self._cdn)
                          for pool in pools.values() for endpoint in pool],
            "cdn_keys": [{"dc_id": dc_id, "pem": key.to_pem()}
                         for dc_id, found in self._cdn_keys.items() for key in found],
        }

    @classmethod
    def from_snapshot(cls, snapshot: Mapping[str, Any]) -> DcTable:
        """The table :meth:`snapshot` described; :class:`UsageError` if it is not one."""
        from ..crypto.rsa import KeyRegistry, RSAPublicKey

        if not isinstance(snapshot, Mapping):
            raise UsageError("a DC table snapshot is a mapping")
        if snapshot.get("format") != SNAPSHOT_FORMAT:
            raise UsageError("not a DC table snapshot")
        if snapshot.get("version") != SNAPSHOT_VERSION:
            raise UsageError(f"unsupported DC table snapshot version {snapshot.get('version')!r}")
        keys_value = snapshot.get("keys")
        keys: KeyRegistry | KeySetName
        if isinstance(keys_value, str):
            keys = _key_set(keys_value)  # type: ignore[assignment]
        elif isinstance(keys_value, Mapping):
            keys = KeyRegistry(RSAPublicKey.from_pem(_pem(p)) for p in field(keys_value, "pems",
                                                                            list))
        else:
            raise UsageError("snapshot field 'keys' is a name or {'pems': [...]}")
        table = cls((endpoint_from_json(e) for e in field(snapshot, "endpoints", list)),
                    keys=keys, test_mode=field(snapshot, "test_mode", bool))
        table._this_dc = optional_int(snapshot, "this_dc")
        table._config_date = optional_int(snapshot, "config_date")
        table._config_expires = optional_int(snapshot, "config_expires")
        nearest = snapshot.get("nearest")
        if nearest is not None:
            if not isinstance(nearest, Mapping):
                raise UsageError("snapshot field 'nearest' is an object")
            table._nearest = NearestSuggestion(field(nearest, "country", str),
                                               field(nearest, "this_dc", int),
                                               field(nearest, "nearest_dc", int))
        cdn_keys: dict[int, list[RSAPublicKey]] = {}
        for entry in field(snapshot, "cdn_keys", list):
            if not isinstance(entry, Mapping):
                raise UsageError("a snapshot CDN key is an object")
            key = RSAPublicKey.from_pem(_pem(field(entry, "pem", str)))
            found = cdn_keys.setdefault(field(entry, "dc_id", int), [])
            if key not in found:
                found.append(key)
        table._cdn_keys = {dc_id: tuple(found) for dc_id, found in cdn_keys.items()}
        return table

    def __repr__(self) -> str:
        kind = "test" if self._test_mode else "production"
        return (f"<DcTable {kind} dcs={self.dc_ids()} cdn={self.dc_ids(cdn=True)} "
                f"this_dc={self._this_dc}>")


def _check_now(now: object) -> float:
    if isinstance(now, bool) or not isinstance(now, int | float) or not math.isfinite(now):
        raise UsageError(f"now is a finite number of seconds, not {now!r}")
    return float(now)


def _check_purpose(purpose: object) -> None:
    if purpose not in _PURPOSES:
        raise UsageError(f"purpose is one of {_PURPOSES}, not {purpose!r}")


def _pem(value: object) -> str:
    if not isinstance(value, str) or len(value) > 4096:
        raise UsageError("a snapshot key is a PEM string")
    return value


def _other_port_variants(chosen: list[Endpoint],
                         listed: set[tuple[str, int]]) -> list[Endpoint]:
    """The chosen endpoints again on the bootstrap ports they are not listed with, except those
    marked ``this_port_only``; an address the table lists for anything else is not reused."""
    from dataclasses import replace

    variants: list[Endpoint] = []
    added: set[tuple[str, int]] = set()
    for endpoint in chosen:
        if endpoint.this_port_only:
            continue
        for port in BOOTSTRAP_PORTS:
            address = (endpoint.host, port)
            if address not in listed and address not in added:
                added.add(address)
                variants.append(replace(endpoint, port=port))
    return variants


def _key_set(keys: object) -> KeyRegistry | str:
    """A built-in registry becomes its name (so a snapshot can store it as one)."""
    if isinstance(keys, str):
        if keys not in _KEY_SET_NAMES:
            raise UsageError(f"keys is a KeyRegistry or one of {_KEY_SET_NAMES}, not {keys!r}")
        return keys
    from ..crypto import rsa

    if not isinstance(keys, rsa.KeyRegistry):
        raise UsageError(f"keys is a KeyRegistry or one of {_KEY_SET_NAMES}")
    for name in _KEY_SET_NAMES:
        if keys is _named_registry(name):
            return name
    return keys


def _named_registry(name: str) -> KeyRegistry:
    from ..crypto import rsa

    return {"production": rsa.PRODUCTION_KEYS, "test": rsa.TEST_KEYS,
            "reference": rsa.REFERENCE_CLUSTER_KEYS}[name]
