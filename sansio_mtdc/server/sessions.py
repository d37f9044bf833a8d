"""MTProto sessions on the cluster's side: routing, ordering, delays.

A packet's auth_key_id picks the DC's key; decrypting it once gives its session_id, which picks
(or makes) the :class:`SessionSlot`: the session layer's ``ServerSession`` plus what the cluster
keeps beside it.  A session outlives connections: it sends on the last connection that brought
it a packet, and what it could not send waits for the next one.

The slot is where requests meet the API: ``invokeAfterMsg(s)`` waits for the named requests
(``400 MSG_WAIT_FAILED`` when one failed, ``400 MSG_WAIT_TIMEOUT`` after
:data:`MSG_WAIT_SECONDS` when one never ends), and the ``delay_answers`` knob holds answers
until their time.  Time-driven work is reported to the cluster through
:meth:`SessionRouter.next_deadline` and done in :meth:`SessionRouter.handle_timer`.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import RPCError, SecurityError
from ..session import (
    ConnectionFailed,
    IncomingRequest,
    ServerSession,
    decrypt_client_packet,
    session_id_of,
)
from .api import Call, RequestContext, execute, unwrap
from .keys import KeyRecord
from .state import ClusterState

if TYPE_CHECKING:
    from .connection import ServerConnection

__all__ = [
    "MAX_SESSIONS_PER_DC",
    "MAX_SESSIONS_PER_KEY",
    "MSG_WAIT_SECONDS",
    "SessionRouter",
    "SessionSlot",
]

#: how long invokeAfterMsg waits for a request it names (``api_invoking.txt``: 0.5 s)
MSG_WAIT_SECONDS = 0.5
#: sessions kept per auth key, and per DC
MAX_SESSIONS_PER_KEY = 64
MAX_SESSIONS_PER_DC = 1 << 16
#: outcomes of past requests remembered per session, for invokeAfterMsg
_OUTCOMES_KEPT = 4096
_NO_SUCH_KEY = -404


@dataclass(slots=True)
class _Waiting:
    """A request that waits for the requests ``after`` (msg_ids) until ``deadline``."""

    msg_id: int
    call: Call
    deadline: float


@dataclass(order=True, slots=True)
class _Delayed:
    due: float
    order: int
    msg_id: int = field(compare=False)
    result: Any = field(compare=False)


class SessionSlot:
    """One MTProto session of one auth key on one DC."""

    def __init__(self, router: SessionRouter, dc_id: int, record: KeyRecord, session_id: int,
                 session: ServerSession) -> None:
        self.router = router
        self.dc_id = dc_id
        self.record = record
        self.session_id = session_id
        self.session = session
        self.key = (record.id, session_id)
        self.connection: ServerConnection | None = None
        #: msg_id -> whether the request succeeded (bounded)
        self.outcomes: OrderedDict[int, bool] = OrderedDict()
        self.waiting: dict[int, _Waiting] = {}
        self.delayed: list[_Delayed] = []
        self._waking = False

    def __repr__(self) -> str:
        return f"<SessionSlot DC {self.dc_id} key {self.record.id} session {self.session_id}>"

    # --- connections -----------------------------------------------------------------------

    def use(self, conn: ServerConnection, now: float) -> None:
        """``conn`` brought the latest packet: answers go there from now on (and what the
        client has not acknowledged is sent again on it)."""
        if self.connection is not conn:
            if self.connection is not None:
                self.connection.detach(self)
            self.connection = conn
            conn.attach(self)
            self.session.connection_made(now=now)

    def connection_closed(self, conn: ServerConnection, now: float) -> None:
        if self.connection is conn:
            self.connection = None
            self.session.connection_lost(now=now)

    def flush_to(self, conn: ServerConnection, now: float) -> None:
        """Frame what the session has to send onto ``conn``."""
        for payload in self.session.data_to_send(now=now):
            if not conn.send_payload(payload):
                return

    # --- requests --------------------------------------------------------------------------

    def on_request(self, incoming: IncomingRequest, now: float) -> None:
        try:
            call = unwrap(incoming.query)
        except RPCError as exc:
            self._finish(incoming.msg_id, "", exc, now)
            return
        if call.after:
            status = self._status(call.after)
            if status is False:
                self._finish(incoming.msg_id, call.name, RPCError(400, "MSG_WAIT_FAILED"), now)
                return
            if status is None:
                self.waiting[incoming.msg_id] = _Waiting(incoming.msg_id, call,
                                                         now + MSG_WAIT_SECONDS)
                self.router.timed(self)
                return
        self._run(incoming.msg_id, call, now)

    def _status(self, after: tuple[int, ...]) -> bool | None:
        """``True`` when every request in ``after`` succeeded, ``False`` when one failed,
        ``None`` while one has not ended."""
        done = True
        for msg_id in after:
            outcome = self.outcomes.get(msg_id)
            if outcome is False:
                return False
            if outcome is None:
                done = False
        return True if done else None

    def _run(self, msg_id: int, call: Call, now: float) -> None:
        state = self.router.state
        ctx = RequestContext(state, state.dc(self.dc_id), self.record, self.session_id,
                             msg_id, now)
        try:
            result = execute(call, ctx)
        except RPCError as exc:
            result = exc
        self._finish(msg_id, call.name, result, now)

    def _finish(self, msg_id: int, method: str, result: Any, now: float) -> None:
        self.outcomes[msg_id] = not isinstance(result, RPCError)
        while len(self.outcomes) > _OUTCOMES_KEPT:
            self.outcomes.popitem(last=False)
        delay = self.router.state.faults.delay_for(self.dc_id, method) if method else 0.0
        if delay > 0:
            heapq.heappush(self.delayed, _Delayed(now + delay, next(self.router.order),
                                                  msg_id, result))
            self.router.timed(self)
        else:
            self.session.reply(msg_id, result, now=now)
        self._wake(now)

    def _wake(self, now: float) -> None:
        """Run (or fail) the waiting requests whose turn has come, until none is ready.

        A request that ends here may ready others; the outermost call does all the rounds
        (``_waking``), so that no waiting request is looked at by two loops at once."""
        if self._waking:
            return
        self._waking = True
        try:
            progress = True
            while progress and self.waiting:
                progress = False
                for waiting in list(self.waiting.values()):
                    status = self._status(waiting.call.after)
                    if status is None:
                        continue
                    del self.waiting[waiting.msg_id]
                    progress = True
                    if status:
                        self._run(waiting.msg_id, waiting.call, now)
                    else:
                        self._finish(waiting.msg_id, waiting.call.name,
                                     RPCError(400, "MSG_WAIT_FAILED"), now)
        finally:
            self._waking = False

    # --- time ------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        times = [w.deadline for w in self.waiting.values()]
        if self.delayed:
            times.append(self.delayed[0].due)
        session_timer = self.session.get_timer()
        if session_timer is not None:
            times.append(session_timer)
        return min(times, default=None)

    def handle_timer(self, now: float) -> None:
        self.session.handle_timer(now=now)
        while self.delayed and self.delayed[0].due <= now:
            item = heapq.heappop(self.delayed)
            self.session.reply(item.msg_id, item.result, now=now)
        for waiting in [w for w in self.waiting.values() if w.deadline <= now]:
            if self.waiting.pop(waiting.msg_id, None) is not None:
                self._finish(waiting.msg_id, waiting.call.name,
                             RPCError(400, "MSG_WAIT_TIMEOUT"), now)


class SessionRouter:
    """Every session of the cluster, found by DC, auth key and session_id."""

    def __init__(self, state: ClusterState) -> None:
        self.state = state
        self.order = itertools.count()
        #: slots with something to do at a time (a dict: deterministic order)
        self._timed: dict[SessionSlot, None] = {}

    def deliver(self, conn: ServerConnection, record: KeyRecord, payload: bytes, *,
                quick_ack: bool, now: float) -> None:
        """Decrypt ``payload`` (encrypted with ``record``'s key), hand it to its session and
        run what it asks for."""
        try:
            plaintext = decrypt_client_packet(record.auth_key, payload)
        except SecurityError as exc:
            conn.send_error(_NO_SUCH_KEY)
            conn.close_because("security", exc)
            return
        session_id = session_id_of(plaintext)
        dc = self.state.dc(conn.dc_id)
        slot = dc.sessions.get((record.id, session_id))
        if slot is None:
            self._make_room(conn.dc_id, record.id)
            session = ServerSession(record.auth_key, session_id, salts=record.salt,
                                    random=self.state.random, now=now,
                                    limits=self.state.config.session_limits)
            slot = SessionSlot(self, conn.dc_id, record, session_id, session)
            dc.sessions[slot.key] = slot
        slot.use(conn, now)
        slot.session.receive_plaintext(plaintext, now=now)
        if quick_ack:
            conn.send_quick_ack(_quick_ack_token(record, plaintext))
        self._drain(slot, conn, now)
        if slot.next_deadline() is not None:
            self.timed(slot)

    def _drain(self, slot: SessionSlot, conn: ServerConnection | None, now: float) -> None:
        while True:
            event = slot.session.next_event()
            if event is None:
                break
            if isinstance(event, IncomingRequest):
                slot.on_request(event, now)
            elif isinstance(event, ConnectionFailed) and conn is not None:
                if isinstance(event.error, SecurityError):
                    conn.close_because("security", event.error)
                else:
                    conn.close_because("protocol", event.error)
                conn = None

    # --- timers ----------------------------------------------------------------------------

    def timed(self, slot: SessionSlot) -> None:
        self._timed[slot] = None

    def next_deadline(self, conn: ServerConnection | None = None) -> float | None:
        times = [t for slot in self._timed
                 if conn is None or slot.connection is conn
                 for t in (slot.next_deadline(),) if t is not None]
        return min(times, default=None)

    def handle_timer(self, now: float, conn: ServerConnection | None = None) -> None:
        for slot in list(self._timed):
            if conn is not None and slot.connection is not conn:
                continue
            deadline = slot.next_deadline()
            if deadline is not None and deadline <= now:
                slot.handle_timer(now)
                self._drain(slot, slot.connection, now)
                if slot.connection is not None:
                    slot.connection.pump(now)
            if slot.next_deadline() is None:
                self._timed.pop(slot, None)

    def forget(self, dc_id: int, key_ids: set[int]) -> None:
        """Drop the sessions of forgotten keys (before the DC forgets the keys)."""
        dc = self.state.dc(dc_id)
        for key in [k for k in dc.sessions if k[0] in key_ids]:
            self._drop(dc_id, key)

    def _drop(self, dc_id: int, key: tuple[int, int]) -> None:
        slot = self.state.dc(dc_id).sessions.pop(key)
        if slot.connection is not None:
            slot.connection.detach(slot)
            slot.connection = None
        self._timed.pop(slot, None)

    def _make_room(self, dc_id: int, key_id: int) -> None:
        """Keep the sessions of one key, and of one DC, within their bounds: the oldest
        session goes (a client that comes back to it gets a new one, and new_session_created
        tells it so)."""
        sessions = self.state.dc(dc_id).sessions
        mine = [k for k in sessions if k[0] == key_id]
        if len(mine) >= MAX_SESSIONS_PER_KEY:
            self._drop(dc_id, mine[0])
        if len(sessions) >= MAX_SESSIONS_PER_DC:
            self._drop(dc_id, next(iter(sessions)))


def _quick_ack_token(record: KeyRecord, plaintext: bytes) -> int:
    """The first 32 bits of the msg_key hash (``mtproto-transports.txt``, "Quick ack")."""
    digest = hashlib.sha256(record.auth_key.key[88:120] + plaintext).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFF_FFFF
