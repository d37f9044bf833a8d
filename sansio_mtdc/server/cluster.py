"""The reference DC cluster: several DCs, their connections, the test knobs and the counters.

::

    cluster = Cluster(ClusterConfig(dc_count=3), random=os.urandom)
    conn = cluster.connect(2, now=now)        # one per accepted TCP connection
    conn.receive_data(data, now=now)
    sock.send(conn.data_to_send())
    if conn.closed: sock.close()
    ...
    cluster.get_timer() / cluster.handle_timer(now)   # delayed answers, invokeAfterMsg waits

Each DC has its own auth keys, sessions and files; users and the authorization-transfer table
are cluster-wide.  The knobs (``migrate_user``, ``inject_flood_wait``, ``inject_error``,
``drop_connections_after``, ``forget_auth_key``, ``delay_answers``, ``refuse_connections``)
and :attr:`counters` are what tests use to steer the cluster and to check what it did.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from ..crypto.inputs import RandomSource
from ..errors import RPCError, UsageError
from ..handshake import ServerHandshake, ServerHandshakeResult
from .clock import check_now as _check_now
from .config import TEST_DC_OFFSET, ClusterConfig, DcAddress
from .connection import CloseReason, ServerConnection
from .counters import Counters
from .faults import DelayRule, Direction, DropRule, InjectedError
from .files import StoredFile
from .keys import KeyRecord
from .sessions import SessionRouter
from .state import ClusterState
from .users import UserRecord

__all__ = ["MAX_KEYS_PER_DC", "Cluster"]

#: auth keys one DC keeps
MAX_KEYS_PER_DC = 1 << 16


class Cluster:
    """A sans-I/O cluster of ``config.dc_count`` DCs; ``random(n)`` is its only randomness."""

    def __init__(self, config: ClusterConfig | None = None, *, random: RandomSource) -> None:
        self.config = config if config is not None else ClusterConfig()
        self.state = ClusterState(self.config, random)
        self._router = SessionRouter(self.state)
        self._connections: dict[int, ServerConnection] = {}
        self._next_conn_id = 1
        self._clock = 0.0

    def __repr__(self) -> str:
        return (f"<Cluster of {self.config.dc_count} DCs, "
                f"{len(self._connections)} open connections>")

    @property
    def counters(self) -> Counters:
        """What happened so far (see :class:`~sansio_mtdc.server.Counters`)."""
        return self.state.counters

    # --- connections -----------------------------------------------------------------------

    def connect(self, dc_id: int, *, now: float, media: bool = False) -> ServerConnection:
        """A new connection to DC ``dc_id`` (``media``: through a media-only address).

        On a DC that refuses connections (:meth:`refuse_connections`) the connection comes
        back already closed, with ``close_reason.kind == "refused"``.
        """
        self.state.dc(dc_id)
        now = _check_now(now)
        self._saw(now)
        conn = ServerConnection(self, dc_id, conn_id=self._next_conn_id, now=now, media=media,
                                drop=self.state.faults.take_drop(dc_id))
        self._next_conn_id += 1
        if dc_id in self.state.faults.refused:
            conn._close(CloseReason("refused", "refused"))
            return conn
        self._connections[conn.id] = conn
        self.state.counters.connections[dc_id] += 1
        return conn

    def accepting(self, dc_id: int) -> bool:
        """Whether DC ``dc_id`` takes connections now (a simulated network asks this)."""
        self.state.dc(dc_id)
        return dc_id not in self.state.faults.refused

    def connections(self) -> list[ServerConnection]:
        """The open connections, oldest first."""
        return list(self._connections.values())

    def get_timer(self) -> float | None:
        """The earliest time :meth:`handle_timer` has something to do, or ``None``."""
        return self._router.next_deadline()

    def handle_timer(self, now: float) -> None:
        """Release what is due: delayed answers, invokeAfterMsg waits that ran out, sessions
        whose ping_delay_disconnect ran out (their connection closes).  Whatever it produces
        is in the ``data_to_send()`` of the connections it concerns."""
        now = _check_now(now)
        self._saw(now)
        self._router.handle_timer(now)

    # --- files -----------------------------------------------------------------------------

    def put_file(self, dc_id: int, data: bytes, *, name: str, mime: str,
                 now: float | None = None) -> Any:
        """Store ``data`` on DC ``dc_id`` as a document and return the TL ``document`` (id,
        access_hash, file_reference, dc_id...) any client can download.  ``now`` is its date
        (default: the latest time the cluster was given)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise UsageError("data must be bytes")
        date = self._clock if now is None else _check_now(now)
        stored = self.state.store_file(dc_id, bytes(data), name=name, mime_type=mime, now=date)
        return stored.document

    def files(self, dc_id: int | None = None) -> list[StoredFile]:
        """The documents stored on ``dc_id`` (on every DC when ``None``), with their SHA-256."""
        dcs = self.state.dcs.values() if dc_id is None else [self.state.dc(dc_id)]
        return [stored for dc in dcs for stored in dc.files.documents()]

    # --- users and keys --------------------------------------------------------------------

    def user(self, user: int | str) -> UserRecord:
        """A user by id, or by test phone number (made on first use)."""
        if isinstance(user, str):
            try:
                return self.state.users.lookup_phone(user)
            except RPCError:
                raise UsageError(f"{user!r} is not a test number of this cluster") from None
        found = self.state.users.by_id(user)
        if found is None:
            raise UsageError(f"no user {user}")
        return found

    def auth_keys(self, dc_id: int) -> list[KeyRecord]:
        """The auth keys DC ``dc_id`` knows, oldest first."""
        return list(self.state.dc(dc_id).keys.values())

    # --- knobs -----------------------------------------------------------------------------

    def advertise(self, addresses: Mapping[int, tuple[str, int]]) -> None:
        """Make help.getConfig list ``addresses`` (DC id -> ``(host, port)``) instead of the
        configured ones: the addresses of a proxy in front of the cluster, so that every
        connection a client makes after reading the config goes through it too."""
        if set(addresses) != set(self.config.dc_ids):
            raise UsageError(f"advertise one address for each of DCs {list(self.config.dc_ids)}")
        config = dataclasses.replace(self.config, addresses=tuple(
            DcAddress(dc_id, host, port) for dc_id, (host, port) in sorted(addresses.items())))
        self.config = self.state.config = config

    def migrate_user(self, user: int | str, to_dc: int) -> None:
        """Move a user's home to ``to_dc``.  The old home then answers the user's requests
        with ``303 USER_MIGRATE_X`` (and ``auth.sendCode`` with ``PHONE_MIGRATE_X``), but
        still exports the authorization, so the client can carry it over."""
        self.state.users.migrate(self.user(user).id, to_dc)

    def inject_flood_wait(self, method: str, seconds: int, *, times: int = 1,
                          dc_id: int | None = None) -> None:
        """The next ``times`` calls of ``method`` (TL name, ``"upload.getFile"``), on
        ``dc_id`` or any DC, are answered ``420 FLOOD_WAIT_<seconds>`` without running."""
        if type(seconds) is not int or seconds < 0:
            raise UsageError("seconds is a non-negative int")
        self.inject_error(420, f"FLOOD_WAIT_{seconds}", method=method, dc_id=dc_id,
                          times=times)

    def inject_error(self, code: int, message: str, *, method: str | None = None,
                     dc_id: int | None = None, times: int = 1,
                     unauthorize: bool | None = None) -> None:
        """The next ``times`` calls of ``method`` (any method when ``None``) on ``dc_id`` (any
        DC when ``None``) are answered ``rpc_error code message`` without running.

        ``unauthorize`` (default: for 401 errors) also drops the auth key's authorization on
        that DC, so that the cluster's state says what the error says (``AUTH_KEY_UNREGISTERED``,
        ``SESSION_REVOKED``: the client must import again)."""
        if type(code) is not int or not isinstance(message, str) or not message:
            raise UsageError("an rpc_error is an int code and a non-empty message")
        if type(times) is not int or times < 1:
            raise UsageError("times is a positive int")
        if dc_id is not None:
            self.state.dc(dc_id)
        self.state.faults.errors.append(InjectedError(
            RPCError(code, message), method, dc_id, times,
            code == 401 if unauthorize is None else unauthorize))

    def delay_answers(self, seconds: float, *, dc_id: int | None = None,
                      method: str | None = None) -> None:
        """Hold the answers of ``method`` (all when ``None``) on ``dc_id`` (all when ``None``)
        until ``seconds`` after the request ran; :meth:`handle_timer` (or the connection's)
        releases them.  ``seconds=0`` removes the matching rules."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) \
                or not math.isfinite(seconds) or seconds < 0:
            raise UsageError("seconds is a non-negative number")
        faults = self.state.faults
        faults.delays = [r for r in faults.delays if (r.dc_id, r.method) != (dc_id, method)]
        if seconds:
            faults.delays.append(DelayRule(float(seconds), method, dc_id))

    def drop_connections_after(self, after: int, *, direction: Direction,
                               dc_id: int | None = None, times: int = 1) -> None:
        """The next ``times`` connections to ``dc_id`` (any DC when ``None``) close once
        they have received (or sent) ``after`` transport packets; see
        :class:`~sansio_mtdc.server.faults.DropRule`.  (``ServerConnection.drop_after`` does
        the same for a connection that exists.)"""
        rule = DropRule(after, direction)
        if dc_id is not None:
            self.state.dc(dc_id)
        self.state.faults.drops.setdefault(dc_id, []).extend([rule] * times)

    def forget_auth_key(self, dc_id: int, key_id: int | None = None) -> int:
        """Forget one auth key of DC ``dc_id`` (all of them when ``key_id`` is ``None``), with
        its sessions: the next packet that uses it gets transport error -404.  Returns how many
        keys were forgotten."""
        dc = self.state.dc(dc_id)
        ids = list(dc.keys) if key_id is None else [key_id]
        self._router.forget(dc_id, set(ids))
        return sum(dc.forget_key(k) is not None for k in ids)

    def refuse_connections(self, dc_id: int, refused: bool = True) -> None:
        """Make DC ``dc_id`` refuse (or accept again) new connections; open ones stay."""
        self.state.dc(dc_id)
        if refused:
            self.state.faults.refused.add(dc_id)
        else:
            self.state.faults.refused.discard(dc_id)

    def clear_faults(self) -> None:
        """Remove every injected error, delay, pending drop and refusal."""
        faults = self.state.faults
        faults.errors.clear()
        faults.delays.clear()
        faults.drops.clear()
        faults.refused.clear()

    # --- for ServerConnection --------------------------------------------------------------

    def _saw(self, now: float) -> None:
        if now > self._clock:
            self._clock = now

    def _new_handshake(self, dc_id: int, now: float) -> ServerHandshake:
        config = self.config
        dc = self.state.dc(dc_id)
        return ServerHandshake(
            private_key=config.private_key,
            dc_id=dc_id + TEST_DC_OFFSET if config.test_mode else dc_id,
            random=self.state.random, now=now, dh_prime=config.dh_prime, g=config.g,
            accepted_dc_ids=config.handshake_dc_ids(dc_id),
            known_key_ids=dc.keys.__contains__)

    def _adopt_key(self, dc_id: int, result: ServerHandshakeResult, now: float) -> None:
        record = KeyRecord(result.auth_key, created_at=now, salt=result.server_salt,
                           temporary=result.temporary,
                           expires_at=None if result.expires_at is None
                           else float(result.expires_at))
        dc = self.state.dc(dc_id)
        if len(dc.keys) >= MAX_KEYS_PER_DC:  # the oldest key goes: its next packet gets -404
            self.forget_auth_key(dc_id, next(iter(dc.keys)))
        dc.add_key(record)
        self.state.counters.handshakes[dc_id] += 1

    def _live_key(self, dc_id: int, key_id: int, now: float) -> KeyRecord | None:
        dc = self.state.dc(dc_id)
        record = dc.keys.get(key_id)
        if record is not None and record.expired(now):
            self.forget_auth_key(dc_id, key_id)
            return None
        return record

    def _deliver(self, conn: ServerConnection, record: KeyRecord, payload: bytes, *,
                 quick_ack: bool, now: float) -> None:
        self._router.deliver(conn, record, payload, quick_ack=quick_ack, now=now)

    def _closed(self, conn: ServerConnection) -> None:
        self._connections.pop(conn.id, None)
        reason = conn.close_reason
        if reason is not None:
            self.state.counters.closes[reason.kind] += 1

    def _timer_for(self, conn: ServerConnection) -> float | None:
        return self._router.next_deadline(conn)

    def _handle_timer_for(self, conn: ServerConnection, now: float) -> None:
        self._saw(now)
        self._router.handle_timer(now, conn)
