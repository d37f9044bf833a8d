"""The client side of one MTProto session: one auth key and one session_id, carried over one
connection at a time.

Requests go in with :meth:`ClientSession.invoke`, encrypted payloads come out of
:meth:`~ClientSession.data_to_send`; payloads from the server go in with
:meth:`~ClientSession.receive` and what they mean comes out of
:meth:`~ClientSession.next_event`.  Nothing here raises on bad input from the network: a bad
packet is dropped (and counted in :attr:`~ClientSession.dropped`) or reported as
:class:`ConnectionFailed`.

How requests survive a dropped connection (the choice the spec leaves open): a request sent and
not yet acknowledged may or may not have reached the server.  After the next
``connection_made`` it is sent again *with its original msg_id and seqno* inside a container, so
that a server which did get it recognises the duplicate and only re-sends the answer; if its
msg_id is older than ``SessionLimits.resend_max_age`` (the server would no longer recognise it)
the session asks with msgs_state_req first and re-sends with a new msg_id only when the server
says it does not have it.  A request the server acknowledged is not sent again (the server
re-sends its answer on the new connection).  The same rule holds everywhere: a msg_id that may
have reached the server is only ever sent again as it was (after bad_server_salt or
bad_msg_notification 16/17 about its container, after new_session_created with a later
first_msg_id); a new msg_id is used only when the server has just said it ignored the one
packet that carried the old one.

The cases in which a request may run twice on the server are those the protocol leaves no way
around: the server answers msgs_state_req with "nothing known" (status 1: it may have
forgotten) or bad_msg_notification 20 (too old to tell), or it forgot the session and the
request had run before (new_session_created), or the session had to be restarted after
repeated seqno errors (32/33), or a request too big for a container had to be sent again.  In
every other case a request is executed at most once.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from typing import Any, cast

from ..crypto.mtproto2 import AuthKey
from ..errors import RemoteProtocolError, SecurityError, TLDecodeError, UsageError
from ..tl.decoding import decode, read_boxed, span_reader
from ..tl.objects import TLFunction
from . import wire
from .config import InitConnectionParams, SessionLimits
from .errors import (
    ChainBroken,
    LimitExceeded,
    MessageRejected,
    PingTimeout,
    RequestCancelled,
    ResultUndecodable,
    TooManyResends,
)
from .events import (
    Acked,
    Answer,
    ClockCorrected,
    ConnectionFailed,
    Failed,
    SaltChanged,
    SessionEvent,
    SessionReset,
    Update,
)
from .msgid import MsgIdClock
from .recent import DUPLICATE, NEW, RecentIds, RecentMap

__all__ = ["ClientSession"]

RandomSource = Callable[[int], bytes]

# request states
_QUEUED = 0       # waiting for a (new) msg_id in the queue
_SENT = 1         # sent with ``msg_id``; the answer is awaited
_UNCONFIRMED = 2  # sent on a connection that dropped, not acknowledged: to send again
_CHECKING = 3     # asked about with msgs_state_req
_ENDED = 4

# internal request kinds
_USER = 0
_PING = 1
_DROP = 2

_ENVELOPE = struct.Struct("<qqqii")
_ENVELOPE_PACK = _ENVELOPE.pack
#: the envelope, then an rpc_result's constructor, req_msg_id and result constructor
_HEAD_UNPACK = struct.Struct("<qqqiiIqI").unpack_from
_U32 = struct.Struct("<I").unpack_from
_Q_AT_4 = struct.Struct("<4xq").unpack_from
_AFTER_MSG = struct.Struct("<Iq").pack
_PING_PACK = struct.Struct("<Iqi").pack
_DROP_PACK = struct.Struct("<Iq").pack
_STATE_INFO = struct.Struct("<Iq").pack
_INV_SCALE = 1.0 / (1 << 32)
#: service answers (msgs_state_info) waiting for data_to_send, at most
_MAX_SERVICE = 1024
_INT64 = range(-(1 << 63), 1 << 63)
_NO_GZIP = frozenset({0xB304A621, 0xDE7B673D})  # upload.saveFilePart, upload.saveBigFilePart
_REFUSED = wire.NOT_CONTENT_RELATED | {wire.MSGS_STATE_REQ, wire.MSG_RESEND_REQ,
                                       wire.MSGS_STATE_INFO}
_CONTAINER_ID = struct.pack("<I", wire.MSG_CONTAINER)
_ITEM_OVERHEAD = wire.ITEM_HEADER_SIZE
_CONTAINER_OVERHEAD = wire.CONTAINER_HEADER_SIZE
#: the padding pool's first and largest sizes (a message takes 12 to 27 bytes of it)
_PAD_POOL_MIN = 256
_PAD_POOL_MAX = 4096
#: a body this big is joined with its header and padding in one copy rather than two
_JOIN_MIN = 512

#: a message body: bytes, or (a request with a large bytes field, as it was given) the pieces
#: it is joined from: the caller's own bytes objects, not a copy, joined only into the buffer
#: that is encrypted (a file part is copied once on its way out, and never kept twice)
Body = bytes | list[bytes]
#: how a request's result is decoded: ``read(data, start, end)``, the span data[start:end]
ResultReader = Callable[[bytes, int, "int | None"], object]
#: a request class's ``_TL_PIECES``: its bytes, or its pieces when a bytes field is large
PiecesMaker = Callable[[Any], bytes | list[bytes]]


def _joined(body: Body) -> bytes:
    return body if isinstance(body, bytes) else b"".join(body)


def _length(body: Body) -> int:
    return len(body) if isinstance(body, bytes) else sum(map(len, body))


class _Request:
    """One request's life in the session."""

    __slots__ = ("acked", "after", "api", "body", "compress", "head", "init_wrapped", "kind",
                 "msg_id", "old_ids", "payload", "read", "resends", "seqno", "state", "token",
                 "unsure")

    def __init__(self, token: object, payload: Body, read: ResultReader, kind: int,
                 after: _Request | None) -> None:
        self.token = token
        self.payload = payload
        self.read = read
        self.kind = kind
        self.api = True  # an API call: the first of a connection carries initConnection
        self.after = after
        self.compress = False
        self.head = 0
        self.init_wrapped = False
        self.msg_id: int | None = None
        self.old_ids: list[int] | None = None
        self.seqno = 0
        self.body: Body = b""
        self.state = _QUEUED
        self.acked = False
        self.resends = 0
        #: the current msg_id may have reached the server in a packet whose fate is unknown
        self.unsure = False


class _Packer:
    """Groups outgoing messages into containers while giving them msg_ids and seqnos in
    order: every message of a container before the container, every container before the next
    message (so seqnos never go down as msg_ids go up)."""

    __slots__ = ("forced", "items", "max_bytes", "max_messages", "now", "out", "session",
                 "size")

    def __init__(self, session: ClientSession, now: float) -> None:
        self.session = session
        self.now = now
        self.out: list[bytes] = []
        self.items: list[tuple[int, int, bytes]] = []
        self.size = _CONTAINER_OVERHEAD
        self.forced = False
        self.max_bytes = session._limits.container_max_bytes
        self.max_messages = session._limits.container_max_messages

    def fits_alone(self, body: Body) -> bool:
        return _length(body) + _ITEM_OVERHEAD + _CONTAINER_OVERHEAD <= self.max_bytes

    def _make_room(self, size: int) -> None:
        if (len(self.items) >= self.max_messages
                or self.size + size + _ITEM_OVERHEAD > self.max_bytes):
            self.close()

    def add(self, body: Body, content: bool) -> tuple[int, int]:
        """A new message: returns its ``(msg_id, seqno)``."""
        session = self.session
        if not self.fits_alone(body):
            self.close()
            msg_id, seqno = session._next_ids(self.now, content)
            self.out.append(session._packet(msg_id, seqno, body))
            session._sent_ids.put(msg_id, None)
            return msg_id, seqno
        body = _joined(body)
        self._make_room(len(body))
        msg_id, seqno = session._next_ids(self.now, content)
        self.items.append((msg_id, seqno, body))
        self.size += len(body) + _ITEM_OVERHEAD
        return msg_id, seqno

    def add_again(self, msg_id: int, seqno: int, body: Body) -> None:
        """A message sent before, again with its msg_id: it must travel in a container."""
        body = _joined(body)
        self._make_room(len(body))
        self.items.append((msg_id, seqno, body))
        self.size += len(body) + _ITEM_OVERHEAD
        self.forced = True

    def close(self) -> None:
        items = self.items
        if not items:
            return
        session = self.session
        if len(items) == 1 and not self.forced:
            msg_id, seqno, body = items[0]
            self.out.append(session._packet(msg_id, seqno, body))
            session._sent_ids.put(msg_id, None)
        else:
            container_id, seqno = session._next_ids(self.now, False)
            self.out.append(session._packet(container_id, seqno, wire.pack_container(items)))
            inner = tuple(item[0] for item in items)
            for msg_id in inner:
                session._sent_ids.put(msg_id, None)
            session._sent_ids.put(container_id, inner)
        self.items = []
        self.size = _CONTAINER_OVERHEAD
        self.forced = False


class ClientSession:
    """The client side of one encrypted MTProto session (sans-I/O).

    ``ClientSession(auth_key, *, salt, time_offset=0.0, random, init=None,
    limits=SessionLimits(), session_id=None)``: ``salt`` and ``time_offset`` come from the
    handshake or the saved state; ``random(n)`` gives n random bytes; ``init`` (an
    :class:`InitConnectionParams`) wraps the first request of each connection in
    invokeWithLayer + initConnection; ``session_id`` (a signed 64-bit int) defaults to a random
    one.

    The caller reports the connection (:meth:`connection_made`, :meth:`connection_lost`), feeds
    each transport payload to :meth:`receive`, sends what :meth:`data_to_send` returns after
    every call, reads :meth:`next_event` until None (any call may have added events), and calls
    :meth:`handle_timer` at :meth:`get_timer`.  On :class:`ConnectionFailed` it closes the
    connection (the session ignores input until ``connection_lost`` and ``connection_made``).

    Each invoked request ends exactly once, with :class:`Answer` or :class:`Failed`
    (:class:`~sansio_mtdc.errors.RPCError`, or a session error: :class:`RequestCancelled`,
    :class:`TooManyResends`, :class:`MessageRejected`, :class:`ResultUndecodable`,
    :class:`LimitExceeded`, :class:`ChainBroken`).  ``salt``, ``time_offset`` and
    ``session_id`` are what to persist (:class:`SaltChanged` and :class:`ClockCorrected` say
    when they change).
    """

    # no instance dict: a session has more attributes than a dict shares keys for, and each
    # idle client keeps one (or more) sessions alive
    __slots__ = ("_acks", "_acks_since", "_again", "_by_msg_id", "_by_token", "_clock",
                 "_connected", "_ended", "_events", "_events_out", "_failed", "_future_salts",
                 "_gzip_min_size", "_init_prefix", "_key", "_limits", "_max_message_bytes",
                 "_max_pending", "_max_pending_acks", "_need_init", "_next_ping", "_offset",
                 "_old_session_ids", "_pad_pool", "_pad_used", "_ping", "_ping_deadline",
                 "_queue", "_random", "_received", "_resend_wanted", "_salt", "_sent_ids",
                 "_seq", "_seqno_failures", "_service", "_session_id", "_state_checks",
                 "_unconfirmed", "_window_future", "_window_past", "dropped")

    def __init__(self, auth_key: AuthKey, *, salt: int, time_offset: float = 0.0,
                 random: RandomSource, init: InitConnectionParams | None = None,
                 limits: SessionLimits | None = None, session_id: int | None = None) -> None:
        if not isinstance(auth_key, AuthKey):
            raise UsageError(f"auth_key must be an AuthKey, not {type(auth_key).__name__}")
        if not callable(random):
            raise UsageError("random must be a callable returning n random bytes")
        _check_int64(salt, "salt")
        if session_id is not None:
            _check_int64(session_id, "session_id")
        if init is not None and not isinstance(init, InitConnectionParams):
            raise UsageError("init must be InitConnectionParams or None")
        if limits is None:
            limits = SessionLimits()
        elif not isinstance(limits, SessionLimits):
            raise UsageError("limits must be SessionLimits")
        self._key = auth_key
        self._random = random
        self._limits = limits
        self._window_past = limits.time_window_past
        self._window_future = limits.time_window_future
        self._max_pending_acks = limits.max_pending_acks
        self._max_pending = limits.max_pending
        self._max_message_bytes = limits.max_message_bytes
        self._gzip_min_size = limits.gzip_min_size
        self._clock = MsgIdClock(time_offset)
        #: the clock's offset, read here once per received message without the property call
        self._offset = self._clock.offset
        self._init_prefix = init.prefix() if init is not None else None
        self._salt = salt
        self._session_id = session_id if session_id is not None else self._random_long()
        self._old_session_ids: tuple[int, ...] = ()  # the last few, for stray messages
        self._seq = 0  # content-related messages sent so far
        self._connected = False
        self._failed = False
        self._need_init = False
        # requests
        self._queue: list[_Request] = []
        self._by_token: dict[Hashable, _Request] = {}
        self._by_msg_id: dict[int, _Request] = {}
        self._unconfirmed: list[_Request] = []
        self._again: list[_Request] = []
        self._ended: RecentMap[Hashable, _Request] = RecentMap(2 * limits.ended_memory)
        self._state_checks: dict[int, list[_Request]] = {}
        # service messages to send: (body, requests asked about or None)
        self._service: list[tuple[bytes, list[_Request] | None]] = []
        self._resend_wanted: list[int] = []
        self._acks: list[int] = []
        self._acks_since = 0.0
        # memories
        self._received = RecentIds(limits.dedup_window)
        self._sent_ids: RecentMap[int, tuple[int, ...] | None] = RecentMap(2 * limits.sent_window)
        self._future_salts: list[tuple[int, int, int]] = []
        self._seqno_failures = 0
        # keep-alive
        self._ping: _Request | None = None
        self._next_ping: float | None = None
        self._ping_deadline: float | None = None
        # events in order, and (taken from it when several wait) the older ones, reversed:
        # two lists instead of a deque, whose first block alone is about 600 bytes
        self._events: list[SessionEvent] = []
        self._events_out: list[SessionEvent] = []
        self._pad_pool = b""
        self._pad_used = 0
        #: why packets were dropped, counted by reason (for tests and diagnostics)
        self.dropped: Counter[str] = Counter()

    # --- state for the caller to persist ------------------------------------------------------

    @property
    def salt(self) -> int:
        return self._salt

    @property
    def time_offset(self) -> float:
        """Server time minus local time, as corrected so far."""
        return self._clock.offset

    @property
    def session_id(self) -> int:
        return self._session_id

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def limits(self) -> SessionLimits:
        return self._limits

    def pending(self) -> int:
        """Requests invoked and not yet ended."""
        return len(self._by_token)

    # --- requests ------------------------------------------------------------------------------

    def invoke(self, request: object, *, token: Hashable, now: float,
               after: Hashable | None = None) -> None:
        """Queue ``request`` (a TL function, or any object with ``__bytes__`` whose result is
        decoded as a boxed object).  Every event about it carries ``token``.  ``after`` names an
        earlier request of this session that must run first (invokeAfterMsg): when both are
        queued they leave in the same container.  Raises :class:`UsageError` (and changes
        nothing) for a token already in use, an unknown ``after``, or a request that cannot be
        serialized."""
        by_token = self._by_token
        try:
            in_use = token in by_token
        except TypeError:
            raise UsageError(f"token {token!r} is not hashable") from None
        if in_use:
            raise UsageError(f"token {token!r} is already in use by a pending request")
        dependency: _Request | None = None
        if after is not None:
            try:
                dependency = by_token.get(after) or self._ended.get(after)
            except TypeError:
                raise UsageError(f"after={after!r} is not hashable") from None
            if dependency is None:
                raise UsageError(f"after={after!r} names no request of this session")
        how = _ways.get(request.__class__)
        if how is None:
            how = _way_to_send(request)
        read, make_pieces, number = how
        pieces: list[bytes] | None = None
        if make_pieces is None:
            try:
                payload = request.__bytes__()  # type: ignore[attr-defined]
            except AttributeError:
                raise UsageError(f"a request must be a TL function or have __bytes__, not "
                                 f"{type(request).__name__}") from None
            size = len(payload)
            if size < 4 or payload.__class__ is not bytes:
                if not isinstance(payload, bytes) or size < 4:
                    raise UsageError("a serialized request is bytes, at least a constructor "
                                     "number")
                payload = bytes(payload)
        else:
            made = make_pieces(request)
            if isinstance(made, bytes):  # no large field: joined already
                payload = made
                size = len(payload)
            else:
                pieces = made
                payload = pieces[0]  # it starts with the constructor number
                size = sum(map(len, pieces))
        if number is None:  # not known from the class
            number = _U32(payload, 0)[0]
        if number in _REFUSED:
            raise UsageError(f"constructor {number:#010x} is a service message the "
                             "session sends itself")
        if len(by_token) >= self._max_pending:
            self._events.append(Failed(token, LimitExceeded("pending requests",
                                                            self._max_pending)))
            return
        if size > self._max_message_bytes:
            self._events.append(Failed(token, LimitExceeded("message bytes",
                                                            self._max_message_bytes)))
            return
        compress = size >= self._gzip_min_size and number not in _NO_GZIP
        body: Body = payload
        if pieces is not None:
            # kept as given unless it must be rewritten (bytes only: a bytearray could change
            # before a resend)
            body = (b"".join(pieces) if compress or number in _SPECIAL
                    else list(map(bytes, pieces)))
        req = _Request(token, body, read, _USER, dependency)
        if number in _SPECIAL:
            _classify(req, number)
        elif compress:
            req.compress = True
        by_token[token] = req
        self._queue.append(req)

    def destroy_session(self, session_id: int, *, token: Hashable, now: float) -> None:
        """Ask the server to forget another session of this auth key (destroy_session); the
        answer (destroy_session_ok / destroy_session_none) comes as an :class:`Answer`."""
        _check_int64(session_id, "session_id")
        from ..tl import mtproto

        self.invoke(mtproto.functions.DestroySession(session_id=session_id), token=token,
                    now=now)

    def cancel(self, token: Hashable, *, now: float) -> bool:
        """End a pending request with ``Failed(token, RequestCancelled())``.  A request that may
        have reached the server gets an rpc_drop_answer, so that the server does not keep its
        answer for us.  False when ``token`` is not pending."""
        try:
            req = self._by_token.get(token)
        except TypeError:
            return False
        if req is None:
            return False
        reached = req.state in (_SENT, _UNCONFIRMED, _CHECKING)
        msg_id = req.msg_id
        self._end(req, Failed(token, RequestCancelled()))
        if reached and msg_id is not None:
            drop = _Request(None, _DROP_PACK(wire.RPC_DROP_ANSWER, msg_id), decode, _DROP, None)
            drop.api = False
            self._queue.append(drop)
        return True

    # --- connection ----------------------------------------------------------------------------

    def connection_made(self, *, now: float) -> None:
        """A new connection carries the session from now on."""
        if self._connected:
            self.connection_lost(now=now)
        self._connected = True
        self._failed = False
        self._need_init = self._init_prefix is not None
        interval = self._limits.ping_interval
        self._next_ping = now + interval if interval is not None else None
        self._ping_deadline = None
        if not self._unconfirmed and any(r.state == _SENT and r.acked
                                         for r in self._by_msg_id.values()):
            # the server holds answers for this session and sends them on the connection the
            # session speaks on: speak at once rather than at the next ping
            self._queue_ping(now)

    def connection_lost(self, *, now: float) -> None:
        """The connection is gone; what may not have reached the server is sent again on the
        next one."""
        if not self._connected:
            return
        self._connected = False
        self._failed = False
        self._next_ping = None
        self._ping_deadline = None
        if self._ping is not None:
            self._end(self._ping, None)
            self._ping = None
        self._service.clear()
        self._resend_wanted.clear()
        self._state_checks.clear()
        self._again.clear()
        unconfirmed = []
        for req in {id(r): r for r in self._by_msg_id.values()}.values():
            state = req.state
            if state in (_UNCONFIRMED, _CHECKING) or (state == _SENT and not req.acked):
                req.state = _UNCONFIRMED
                req.unsure = True
                unconfirmed.append(req)
        self._unconfirmed = unconfirmed

    # --- output --------------------------------------------------------------------------------

    def data_to_send(self, *, now: float) -> list[bytes]:
        """Encrypted payloads to hand to the transport, in order: containers where there is
        more than one message, acknowledgements riding along (or alone once due).  A request
        chained after one that ended unsent ends here (:class:`ChainBroken`)."""
        if not self._connected or self._failed:
            return []
        if self._future_salts:
            self._adopt_due_salt(now)
        if self._unconfirmed:
            self._sort_unconfirmed(now)
        if self._next_ping is not None and now >= self._next_ping:
            self._queue_ping(now)
        queue = self._queue
        if (len(queue) == 1 and not self._acks and not self._again and not self._service
                and not self._resend_wanted):
            req = queue[0]
            if req.state == _QUEUED and req.after is None:
                # the common case: one request alone, as fast as it can go
                queue.pop()
                if req.compress or (req.api and self._need_init) or req.init_wrapped:
                    body = self._build(req)
                else:
                    body = req.payload
                msg_id = self._clock.next(now)
                if self._sent_ids.put_new(msg_id, None):
                    seq = self._seq
                    seqno = seq * 2 + 1
                    self._seq = seq + 1
                else:  # the clock was set back onto an id of ours
                    msg_id, seqno = self._next_ids(now, True)
                    self._sent_ids.put(msg_id, None)
                if req.msg_id is None and req.kind == _USER:
                    req.msg_id = msg_id
                    req.seqno = seqno
                    req.body = body
                    req.state = _SENT
                    self._by_msg_id[msg_id] = req
                else:
                    self._sent(req, msg_id, seqno, body, now)
                return [self._packet(msg_id, seqno, body)]
        return self._flush(now)

    def _flush(self, now: float) -> list[bytes]:
        if not (self._queue or self._again or self._service or self._resend_wanted):
            acks = self._acks  # nothing to say but acks: they wait unless due
            if not acks or (len(acks) < self._limits.ack_batch
                            and now < self._acks_since + self._limits.ack_delay):
                return []
        packer = _Packer(self, now)
        # 1. messages sent before that may have reached the server: same msg_id, in a container
        again, self._again = self._again, []
        for req in again:
            if req.state == _UNCONFIRMED and req.msg_id is not None:
                if packer.fits_alone(req.body):
                    packer.add_again(req.msg_id, req.seqno, req.body)
                    req.state = _SENT
                else:
                    self._requeue(req)  # too big for a container: only a new msg_id is possible
        # 2. service messages
        service, self._service = self._service, []
        for body, asked in service:
            msg_id, _ = packer.add(body, False)
            if asked is not None:
                self._state_checks[msg_id] = asked
        wanted, self._resend_wanted = self._resend_wanted, []
        for start in range(0, len(wanted), wire.MAX_IDS_PER_MESSAGE):
            chunk = wanted[start:start + wire.MAX_IDS_PER_MESSAGE]
            packer.add(wire.pack_id_vector(wire.MSG_RESEND_REQ, chunk), False)
        # 3. requests needing a new msg_id
        self._flush_queue(packer, now)
        # 4. acknowledgements ride along, or go alone when due
        acks = self._acks
        if acks and (packer.out or packer.items or len(acks) >= self._limits.ack_batch
                     or now >= self._acks_since + self._limits.ack_delay):
            ids = list(acks)
            acks.clear()
            for start in range(0, len(ids), wire.MAX_IDS_PER_MESSAGE):
                packer.add(wire.pack_id_vector(wire.MSGS_ACK,
                                               ids[start:start + wire.MAX_IDS_PER_MESSAGE]),
                           False)
        packer.close()
        return packer.out

    def _flush_queue(self, packer: _Packer, now: float) -> None:
        queue = self._queue
        todo = list(queue)
        queue.clear()
        while todo:
            deferred: list[_Request] = []
            progress = False
            for req in todo:
                if req.state != _QUEUED:
                    continue  # ended (or re-routed) while queued
                dependency = req.after
                if dependency is not None and dependency.state == _QUEUED:
                    deferred.append(req)  # its dependency gets its msg_id first
                    continue
                if dependency is not None and dependency.msg_id is None:
                    self._end(req, Failed(req.token, ChainBroken(dependency.token)))
                    continue
                body = self._build(req)
                msg_id, seqno = packer.add(body, True)
                self._sent(req, msg_id, seqno, body, now)
                progress = True
            if not progress:
                queue.extend(deferred)
                return
            todo = deferred

    def _build(self, req: _Request) -> Body:
        """The body of ``req`` as it goes out now: invokeAfterMsg outermost, then
        invokeWithLayer + initConnection for the first request of a connection, then the
        request; gzip_packed when that is smaller.  A request kept as pieces stays in pieces."""
        payload = req.payload
        if req.api and (self._need_init or req.init_wrapped) and self._init_prefix is not None:
            head = req.head
            if isinstance(payload, bytes):
                payload = payload[:head] + self._init_prefix + payload[head:]
            else:  # the head is 0: only invokeAfterMsg(s), never kept in pieces, has one
                payload = [self._init_prefix, *payload]
            req.init_wrapped = True
            self._need_init = False
        dependency = req.after
        if dependency is not None and dependency.msg_id is not None:
            prefix = _AFTER_MSG(wire.INVOKE_AFTER_MSG, dependency.msg_id)
            payload = (prefix + payload if isinstance(payload, bytes)
                       else [prefix, *payload])
        if req.compress:
            payload = _joined(payload)
            packed = wire.gzip_packed(payload, self._limits.gzip_level)
            if len(packed) < len(payload):
                return packed
        return payload

    def _sent(self, req: _Request, msg_id: int, seqno: int, body: Body, now: float) -> None:
        old = req.msg_id
        if old is not None and old != msg_id:
            if req.old_ids is None:
                req.old_ids = [old]
            else:
                req.old_ids.append(old)
        req.unsure = False
        req.msg_id = msg_id
        req.seqno = seqno
        req.body = body
        req.state = _SENT
        self._by_msg_id[msg_id] = req
        if req.kind == _PING:
            self._ping_deadline = now + self._limits.ping_timeout

    def _next_ids(self, now: float, content: bool) -> tuple[int, int]:
        msg_id = self._clock.next(now)
        while msg_id in self._sent_ids:  # possible only after the clock was set back
            msg_id = self._clock.next(now)
        if content:
            seqno = self._seq * 2 + 1
            self._seq += 1
        else:
            seqno = self._seq * 2
        return msg_id, seqno

    def _packet(self, msg_id: int, seqno: int, body: Body) -> bytes:
        """One encrypted message: envelope, body and padding joined in one buffer, sealed.

        The padding is cut from a pool of random bytes (one call to ``random`` per many
        messages instead of one per message).  The pool starts small and doubles with each
        refill up to 4 KiB: a busy session draws rarely, an idle one holds little."""
        size = len(body) if isinstance(body, bytes) else sum(map(len, body))
        pad = 12 + (-(size + 44) & 15)
        start = self._pad_used
        end = start + pad
        pool = self._pad_pool
        if end > len(pool):
            pool = self._pad_pool = self._draw_pool(len(pool))
            start, end = 0, pad
        self._pad_used = end
        header = _ENVELOPE_PACK(self._salt, self._session_id, msg_id, seqno, size)
        if not isinstance(body, bytes):
            data = b"".join([header, *body, pool[start:end]])
        elif size < _JOIN_MIN:
            data = header + body + pool[start:end]
        else:
            data = b"".join((header, body, pool[start:end]))
        return self._key.encrypt_padded(data, 0)

    def _draw_pool(self, previous: int) -> bytes:
        size = min(_PAD_POOL_MAX, max(_PAD_POOL_MIN, 2 * previous))
        pool = self._random(size)
        if len(pool) != size:
            raise UsageError(f"random({size}) must return {size} bytes")
        return pool

    def _sort_unconfirmed(self, now: float) -> None:
        """After a reconnect: young requests go again with their msg_id, old ones are asked
        about first (the server would not recognise their msg_id any more)."""
        server_now = now + self._clock.offset
        max_age = self._limits.resend_max_age
        young: list[_Request] = []
        old: list[_Request] = []
        for req in self._unconfirmed:
            if req.state != _UNCONFIRMED or req.msg_id is None:
                continue
            if server_now - req.msg_id * _INV_SCALE < max_age:
                young.append(req)
            else:
                old.append(req)
        self._unconfirmed.clear()
        young.sort(key=_msg_id_of)
        self._again.extend(young)
        old.sort(key=_msg_id_of)
        for start in range(0, len(old), wire.MAX_IDS_PER_MESSAGE):
            chunk = old[start:start + wire.MAX_IDS_PER_MESSAGE]
            for req in chunk:
                req.state = _CHECKING
            ids = [req.msg_id for req in chunk if req.msg_id is not None]
            self._service.append((wire.pack_id_vector(wire.MSGS_STATE_REQ, ids), chunk))

    def _queue_ping(self, now: float) -> None:
        if self._ping is not None:
            self._end(self._ping, None)
        body = _PING_PACK(wire.PING_DELAY_DISCONNECT, self._random_long(),
                          self._limits.ping_disconnect_delay)
        ping = _Request(None, body, decode, _PING, None)
        ping.api = False
        self._ping = ping
        self._queue.append(ping)
        interval = self._limits.ping_interval
        self._next_ping = now + interval if interval is not None else None

    # --- timers --------------------------------------------------------------------------------

    def get_timer(self) -> float | None:
        """When :meth:`handle_timer` must be called next (local time), or None."""
        if not self._connected or self._failed:
            return None
        deadline: float | None = None
        if self._acks:
            deadline = self._acks_since + self._limits.ack_delay
        for candidate in (self._next_ping, self._ping_deadline):
            if candidate is not None and (deadline is None or candidate < deadline):
                deadline = candidate
        return deadline

    def handle_timer(self, *, now: float) -> None:
        """Time passed: pings become due, a silent connection fails; acks that waited long
        enough are then returned by :meth:`data_to_send`."""
        if not self._connected or self._failed:
            return
        if self._ping_deadline is not None and now >= self._ping_deadline:
            self._connection_failed(PingTimeout(self._limits.ping_timeout))
            return
        if self._next_ping is not None and now >= self._next_ping:
            self._queue_ping(now)

    # --- input ---------------------------------------------------------------------------------

    def next_event(self) -> SessionEvent | None:
        """The next event, or None."""
        out = self._events_out
        if out:
            return out.pop()
        events = self._events
        if not events:
            return None
        if len(events) == 1:
            return events.pop()
        # several wait: reversed, they are taken from the end, each in O(1)
        events.reverse()
        self._events_out, self._events = events, out
        return events.pop()

    def receive(self, payload: bytes, *, now: float) -> None:
        """One transport payload from the server (an encrypted message).  Never raises."""
        if not self._connected or self._failed:
            self.dropped["not_connected"] += 1
            return
        if payload.__class__ is not bytes:
            try:
                payload = bytes(payload)
            except TypeError:
                self.dropped["not_bytes"] += 1
                return
        size = len(payload)
        extra = (size - 24) & 15
        if extra and size > 24:
            payload = payload[:size - extra]
        try:
            plain = self._key.decrypt(payload, 8)
        except SecurityError as exc:
            self._connection_failed(exc)
            return
        size = len(plain)
        if size < 44:
            self._connection_failed(SecurityError("a plaintext too short for its header",
                                                  check="length"))
            return
        # the envelope and, for an rpc_result, its req_msg_id and the result's constructor, in
        # one call (a plaintext is a multiple of 16 bytes, so 44 means at least 48)
        (_salt, session_id, msg_id, seqno, length, number, req_msg_id,
         inner) = _HEAD_UNPACK(plain, 0)
        if (session_id != self._session_id or not msg_id & 1 or length < 0 or length & 3
                or not 12 <= size - 32 - length <= 1024):
            self._bad_envelope(session_id, msg_id, length, size)
            return
        self._ping_deadline = None
        sent_at = msg_id * _INV_SCALE - self._offset
        if not now - self._window_past <= sent_at <= now + self._window_future:
            self._outside_window(msg_id, seqno, plain[32:32 + length], now)
            return
        status = self._received.add(msg_id)
        if status:
            self._repeat(msg_id, seqno, status, now)
            return
        if number == wire.RPC_RESULT and length >= 16:
            # the common case, an answer: decoded in place, no copy of the body or the result
            req = self._by_msg_id.get(req_msg_id)
            if (req is not None and req.kind == _USER and inner != wire.GZIP_PACKED
                    and inner != wire.RPC_ERROR):
                if seqno & 1:
                    acks = self._acks
                    if not acks:
                        self._acks_since = now
                    acks.append(msg_id)
                    if len(acks) > self._max_pending_acks:
                        del acks[0]
                        self.dropped["ack_overflow"] += 1
                self._seqno_failures = 0
                end = 32 + length
                try:
                    value = req.read(plain, 44, end)
                except Exception as exc:  # the request's own decoder: fails it alone
                    self._end(req, Failed(req.token, ResultUndecodable(exc, plain[44:end])))
                    return
                if req.old_ids is None and req.state == _SENT:
                    # _end, for the plain case of a request sent once
                    req.state = _ENDED
                    del self._by_msg_id[req_msg_id]
                    token = req.token
                    del self._by_token[token]
                    self._ended.put(token, req)
                    req.payload = req.body = b""
                    answer = _new(Answer)  # Answer(token, value), without the frozen __init__
                    _set_answer_token(answer, token)
                    _set_answer_value(answer, value)
                    self._events.append(answer)
                else:
                    self._end(req, Answer(req.token, value))
                return
        body = plain[32:32 + length]
        try:
            if number == wire.MSG_CONTAINER:
                self._on_container(msg_id, body, now)
            else:
                self._handle(msg_id, seqno, body, now)
        except RemoteProtocolError as exc:
            self._connection_failed(exc)

    def _bad_envelope(self, session_id: int, msg_id: int, length: int, size: int) -> None:
        """The checks of the internal header, in the order the security guidelines list."""
        if session_id != self._session_id:
            if session_id in self._old_session_ids:
                self.dropped["old_session"] += 1
            else:
                self._connection_failed(SecurityError("a message for another session",
                                                      check="session_id"))
            return
        try:
            wire.check_body_length(length, size)
        except SecurityError as exc:
            self._connection_failed(exc)
            return
        self._connection_failed(SecurityError("a server msg_id must be odd", check="msg_id"))

    def _repeat(self, msg_id: int, seqno: int, status: int, now: float) -> None:
        if status == DUPLICATE:
            self.dropped["duplicate"] += 1
            if seqno & 1:
                self._ack(msg_id, now)  # our ack may have been lost: say it again
        else:
            self.dropped["msg_id_too_old"] += 1

    def _on_container(self, container_id: int, body: bytes, now: float) -> None:
        items = wire.unpack_container(body, max_messages=self._limits.container_max_messages)
        for item in items:
            if not item.msg_id & 1:
                raise SecurityError("a server msg_id must be odd", check="msg_id")
            if item.msg_id >= container_id:
                raise TLDecodeError("a contained message's msg_id is not below its "
                                    "container's", reason="container_msg_id")
        failure: RemoteProtocolError | None = None
        received = self._received
        for msg_id, seqno, inner in items:
            status = received.add(msg_id)
            if status != NEW:
                self._repeat(msg_id, seqno, status, now)
                continue
            try:
                self._handle(msg_id, seqno, inner, now)
            except RemoteProtocolError as exc:
                failure = failure or exc
        if failure is not None:
            raise failure

    def _handle(self, msg_id: int, seqno: int, body: bytes, now: float) -> None:
        if seqno & 1:
            self._ack(msg_id, now)
        number = wire.constructor_of(body)
        if number == wire.RPC_RESULT:
            self._on_rpc_result(body)
            return
        if number == wire.GZIP_PACKED:
            body = wire.unpack_gzip_packed(body, self._limits.max_inflated)
            number = wire.constructor_of(body)
            if number == wire.RPC_RESULT:
                self._on_rpc_result(body)
                return
            if number in (wire.MSG_CONTAINER, wire.GZIP_PACKED):
                raise TLDecodeError("a container or gzip_packed inside gzip_packed",
                                    reason="nested_container")
        handler = _HANDLERS.get(number)
        if handler is not None:
            handler(self, msg_id, seqno, body, now)
        else:
            self._events.append(Update(decode(body)))

    def _ack(self, msg_id: int, now: float) -> None:
        acks = self._acks
        if not acks:
            self._acks_since = now
        acks.append(msg_id)
        if len(acks) > self._limits.max_pending_acks:
            del acks[0]  # O(n), but only when acks pile up unsent
            self.dropped["ack_overflow"] += 1

    # --- answers -------------------------------------------------------------------------------

    def _on_rpc_result(self, body: bytes) -> None:
        req_msg_id, result = wire.unpack_rpc_result(body)
        req = self._by_msg_id.get(req_msg_id)
        if req is None:
            self.dropped["unknown_answer"] += 1
            return
        self._seqno_failures = 0
        try:
            if result[:4] == _GZIP_ID:
                result = wire.unpack_gzip_packed(result, self._limits.max_inflated)
            error = wire.unpack_rpc_error(result) if result[:4] == _RPC_ERROR_ID else None
        except TLDecodeError as exc:
            self._end(req, Failed(req.token, ResultUndecodable(exc, result))
                      if req.kind == _USER else None)
            return
        if req.kind != _USER:
            self._end(req, None)
            return
        if error is not None:
            if req.init_wrapped:
                self._need_init = True  # the server may not have kept initConnection
            self._end(req, Failed(req.token, error))
            return
        try:
            value = req.read(result, 0, None)
        except Exception as exc:  # the request's own decoder: a bad result fails it alone
            self._end(req, Failed(req.token, ResultUndecodable(exc, result)))
            return
        self._end(req, Answer(req.token, value))

    def _end(self, req: _Request, event: SessionEvent | None) -> None:
        """End ``req`` once: forget its msg_ids and report ``event``."""
        if req.state == _ENDED:
            return
        req.state = _ENDED
        by_msg_id = self._by_msg_id
        if req.msg_id is not None and by_msg_id.get(req.msg_id) is req:
            del by_msg_id[req.msg_id]
        if req.old_ids:
            for old in req.old_ids:
                if by_msg_id.get(old) is req:
                    del by_msg_id[old]
        if req.kind == _USER:
            token = req.token
            del self._by_token[token]
            self._ended.put(token, req)
            req.payload = req.body = b""
        elif req is self._ping:
            self._ping = None
        if event is not None:
            self._events.append(event)

    def _mark_acked(self, req: _Request) -> None:
        if not req.acked:
            req.acked = True
            if req.kind == _USER:
                self._events.append(Acked(req.token))

    def _requeue(self, req: _Request) -> None:
        """Send ``req`` again with a new msg_id (the server did not take the old one)."""
        if req.kind == _PING:
            self._end(req, None)
            return
        req.state = _QUEUED
        req.acked = False
        self._queue.append(req)

    def _resend(self, req: _Request, code: int) -> None:
        """The server ignored the packet that carried ``req``.  A msg_id that went out only in
        that packet never reached the server, so a new one is safe; one that may have arrived
        in an earlier packet is sent again as it was, for the server to recognise."""
        req.resends += 1
        if req.resends > self._limits.max_resends:
            self._end(req, Failed(req.token, TooManyResends(req.resends - 1, code)))
        elif req.unsure and code in (16, 17, 48):
            req.state = _UNCONFIRMED
            self._again.append(req)
        else:
            self._requeue(req)

    # --- service messages ----------------------------------------------------------------------

    def _on_msgs_ack(self, msg_id: int, seqno: int, body: bytes, now: float) -> None:
        ids, end = wire.unpack_id_vector(body)
        if end != len(body):
            raise TLDecodeError("bytes after msgs_ack", reason="trailing_bytes")
        by_msg_id = self._by_msg_id
        for acked in ids:
            req = by_msg_id.get(acked)
            if req is not None and req.msg_id == acked and req.state == _SENT:
                self._mark_acked(req)

    def _sent_message(self, msg_id: int) -> tuple[int, ...] | None:
        """The msg_ids behind one of our recent msg_ids (the messages of a container), or None
        when we did not send it."""
        if msg_id not in self._sent_ids:
            return None
        inner = self._sent_ids.get(msg_id)
        return inner if inner is not None else (msg_id,)

    def _on_bad_msg(self, msg_id: int, seqno: int, body: bytes, now: float) -> None:
        note: Any = decode(body)
        ids = self._sent_message(note.bad_msg_id)
        if ids is None:
            self.dropped["bad_msg_unknown_id"] += 1
            return
        code = note.error_code
        affected = []
        for sent_id in ids:
            req = self._by_msg_id.get(sent_id)
            if req is not None and req.msg_id == sent_id and req.state == _SENT:
                affected.append(req)
        if body[:4] == _BAD_SALT_ID:
            if note.new_server_salt != self._salt:
                self._salt = note.new_server_salt
                self._events.append(SaltChanged(self._salt))
            code = 48
        elif code in (16, 17):
            # The notification's own msg_id is the server's time.  Believe it only when it
            # moves our clock the way the code says: a packet that was merely late also gets
            # 16, and correcting from a late notification would set the clock back.
            offset = self._clock.time_of(msg_id) - now
            change = offset - self._clock.offset
            if (change > 0) if code == 16 else (change < 0):
                self._clock.offset = offset
                self._offset = self._clock.offset
                self._events.append(ClockCorrected(offset))
        if code in (16, 17, 20, 48):
            for req in affected:
                self._resend(req, code)
        elif code in (32, 33):
            self._seqno_failures += 1
            if self._seqno_failures >= self._limits.seqno_reset_after:
                self._new_session()
            else:
                for req in affected:
                    self._resend(req, code)
        else:
            for req in affected:
                self._end(req, Failed(req.token, MessageRejected(code)))

    def _new_session(self) -> None:
        """Start over with a new session_id (repeated seqno errors): everything pending is sent
        again in it."""
        self._old_session_ids = (*self._old_session_ids, self._session_id)[-4:]
        self._session_id = self._random_long()
        self._seq = 0
        self._seqno_failures = 0
        self._received.clear()
        self._acks.clear()
        self._service.clear()
        self._resend_wanted.clear()
        self._state_checks.clear()
        self._again.clear()
        self._unconfirmed.clear()
        waiting = sorted((r for r in {id(r): r for r in self._by_msg_id.values()}.values()
                          if r.state in (_SENT, _UNCONFIRMED, _CHECKING)), key=_msg_id_of)
        queued = [r for r in self._queue if r.state == _QUEUED]
        self._queue.clear()
        for req in waiting:
            self._requeue(req)
        self._queue.extend(queued)

    def _on_new_session(self, msg_id: int, seqno: int, body: bytes, now: float) -> None:
        note: Any = decode(body)
        if note.server_salt != self._salt:
            self._salt = note.server_salt
            self._events.append(SaltChanged(self._salt))
        self._events.append(SessionReset(note.first_msg_id, note.unique_id))
        # Messages below first_msg_id are unknown to the new session state: either the server
        # forgot them, or they are still on their way.  Sending them again with their msg_id
        # covers both: a server that has them sees a repeat, one that forgot takes them anew.
        first = note.first_msg_id
        for req in {id(r): r for r in self._by_msg_id.values()}.values():
            if (req.state in (_SENT, _CHECKING) and req.msg_id is not None
                    and req.msg_id < first):
                req.state = _UNCONFIRMED
                req.acked = False
                req.unsure = True
                self._unconfirmed.append(req)

    def _on_pong(self, msg_id: int, seqno: int, body: bytes, now: float) -> None:
        pong: Any = decode(body)
        req = self._by_msg_id.get(pong.msg_id)
        if req is None:
            return
        if req.kind == _USER:
            self._end(req, Answer(req.token, pong))
        else:
            self._end(req, None)

    def _on_future_salts(self, msg_id: int, seqno: int, body: bytes, now: float) -> None:
        salts: Any = decode(body)
        self._keep_future_salts(salts)
        req = self._by_msg_id.get(salts.req_msg_id)
        if req is not None:
            self._end(req, Answer(req.token, salts) if req.kind == _USER else None)

    def _keep_future_salts(self, salts: Any) -> None:
        """Future salts are kept and switched to when they become valid (saving the
        bad_server_salt round trip); the session never asks for them by itself."""
        known = {s[2] for s in self._future_salts}
        for salt in salts.salts:
            if salt.salt not in known:
                self._future_salts.append((salt.valid_since, salt.valid_until, salt.salt))
        self._future_salts.sort()
        del self._future_salts[64:]

    def _adopt_due_salt(self, now: float) -> None:
        server_now = now + self._clock.offset
        due = [s for s in self._future_salts if s[0] <= server_now < s[1]]
        self._future_salts = [s for s in self._future_salts if s[1] > server_now]
        if due:
            salt = due[-1][2]
            if salt != self._salt:
                self._salt = salt
                self._events.append(SaltChanged(salt))

    def _state_of(self, msg_id: int) -> int:
        """One byte of msgs_state_info about a message the server sent us."""
        if not msg_id & 1:
            return 1
        status = self._received.check(msg_id)
        if status == DUPLICATE:
            return 4 if msg_id in self._acks else 4 + 8
        if status != NEW:
            return 1
        highest = self._received.highest
        return 3 if highest is None or msg_id > highest else 2

    def _on_state_req(self, msg_id: int, seqno: int, body: bytes, now: float) -> None:
        ids, end = wire.unpack_id_vector(body)
        if end != len(body):
            raise TLDecodeError("bytes after msgs_state_req", reason="trailing_bytes")
        self._answer_state(msg_id, ids)

    def _answer_state(self, msg_id: int, ids: Iterable[int]) -> None:
        from ..tl.codec import pack_bytes

        if len(self._service) >= _MAX_SERVICE:
            self.dropped["service_overflow"] += 1  # the server asks faster than we send
            return
        info = bytes(self._state_of(i) for i in ids)
        self._service.append((_STATE_INFO(wire.MSGS_STATE_INFO, msg_id) + pack_bytes(info),
                              None))

    def _on_state_info(self, msg_id: int, seqno: int, body: bytes, now: float) -> None:
        info: Any = decode(body)
        asked = self._state_checks.pop(info.req_msg_id, None)
        if asked is None:
            self.dropped["unknown_state_info"] += 1
            return
        for index, req in enumerate(asked):
            if req.state != _CHECKING:
                continue
            status = info.info[index] if index < len(info.info) else 1
            if status & 7 == 4:
                req.state = _SENT
                self._mark_acked(req)
            else:
                self._requeue(req)  # not received (or forgotten): a new msg_id

    def _on_all_info(self, msg_id: int, seqno: int, body: bytes, now: float) -> None:
        info: Any = decode(body)
        for sent_id, status in zip(info.msg_ids, info.info):
            req = self._by_msg_id.get(sent_id)
            if (req is not None and req.msg_id == sent_id and req.state == _SENT
                    and status & 7 == 4):
                self._mark_acked(req)

    def _on_detailed_info(self, msg_id: int, seqno: int, body: bytes, now: float) -> None:
        info: Any = decode(body)
        if body[:4] == _DETAILED_ID:
            req = self._by_msg_id.get(info.msg_id)
            if req is not None and req.msg_id == info.msg_id and req.state == _SENT:
                self._mark_acked(req)
        answer_id = info.answer_msg_id
        if answer_id in self._received:
            self._ack(answer_id, now)  # we have it: the server only needs to hear so
        elif len(self._resend_wanted) >= wire.MAX_IDS_PER_MESSAGE:
            self.dropped["resend_wanted_overflow"] += 1
        elif answer_id not in self._resend_wanted:
            self._resend_wanted.append(answer_id)

    def _on_resend_req(self, msg_id: int, seqno: int, body: bytes, now: float) -> None:
        ids, end = wire.unpack_id_vector(body)
        if end != len(body):
            raise TLDecodeError("bytes after msg_resend_req", reason="trailing_bytes")
        unknown = False
        for wanted in ids:
            req = self._by_msg_id.get(wanted)
            if req is not None and req.msg_id == wanted and req.state == _SENT:
                req.state = _UNCONFIRMED
                self._again.append(req)
            else:
                unknown = True
        if unknown:
            self._answer_state(msg_id, ids)

    def _on_destroy_session(self, msg_id: int, seqno: int, body: bytes, now: float) -> None:
        result: Any = decode(body)
        wanted = struct.pack("<Iq", wire.DESTROY_SESSION, result.session_id)
        for req in list(self._by_token.values()):
            if req.payload == wanted and req.state == _SENT:
                self._end(req, Answer(req.token, result))
                return

    def _on_msg_copy(self, msg_id: int, seqno: int, body: bytes, now: float) -> None:
        self.dropped["msg_copy"] += 1  # "not used at this time" (service_messages.txt)

    # --- messages outside the time window -----------------------------------------------------

    def _outside_window(self, msg_id: int, seqno: int, body: bytes, now: float) -> None:
        """A message whose msg_id is too far from our idea of the server's time is ignored,
        except a notification about a message we just sent: that is how a wrong clock or salt
        gets fixed (mtproto_description.txt, "Important Checks")."""
        try:
            if body[:4] == _CONTAINER_ID:
                items = [(m.msg_id, m.seqno, m.body) for m in wire.unpack_container(
                    body, max_messages=self._limits.container_max_messages)]
            else:
                items = [(msg_id, seqno, body)]
            rescued = False
            for inner_id, inner_seqno, inner in items:
                if (inner[:4] in (_BAD_MSG_ID, _BAD_SALT_ID) and len(inner) >= 12
                        and inner_id & 1
                        and _Q_AT_4(inner, 0)[0] in self._sent_ids
                        and self._received.add(inner_id) == NEW):
                    self._handle(inner_id, inner_seqno, inner, now)
                    rescued = True
        except RemoteProtocolError as exc:
            self._connection_failed(exc)
            return
        if not rescued:
            self.dropped["msg_id_time"] += 1

    # --- helpers -------------------------------------------------------------------------------

    def _connection_failed(self, error: RemoteProtocolError) -> None:
        self._failed = True
        self.dropped[f"failed:{getattr(error, 'check', None) or error.reason}"] += 1
        self._events.append(ConnectionFailed(error))

    def _random_long(self) -> int:
        raw = self._random(8)
        if len(raw) != 8:
            raise UsageError("random(8) must return 8 bytes")
        return int.from_bytes(raw, "little", signed=True)

    def __repr__(self) -> str:
        return (f"ClientSession(session_id={self._session_id}, key={self._key!r}, "
                f"pending={self.pending()}, connected={self._connected})")


#: the service messages, by constructor: one table for every session
_HANDLERS: dict[int, Callable[[ClientSession, int, int, bytes, float], None]] = {
    wire.MSGS_ACK: ClientSession._on_msgs_ack,
    wire.BAD_MSG_NOTIFICATION: ClientSession._on_bad_msg,
    wire.BAD_SERVER_SALT: ClientSession._on_bad_msg,
    wire.NEW_SESSION_CREATED: ClientSession._on_new_session,
    wire.PONG: ClientSession._on_pong,
    wire.FUTURE_SALTS: ClientSession._on_future_salts,
    wire.MSGS_STATE_REQ: ClientSession._on_state_req,
    wire.MSGS_STATE_INFO: ClientSession._on_state_info,
    wire.MSGS_ALL_INFO: ClientSession._on_all_info,
    wire.MSG_DETAILED_INFO: ClientSession._on_detailed_info,
    wire.MSG_NEW_DETAILED_INFO: ClientSession._on_detailed_info,
    wire.MSG_RESEND_REQ: ClientSession._on_resend_req,
    wire.DESTROY_SESSION_OK: ClientSession._on_destroy_session,
    wire.DESTROY_SESSION_NONE: ClientSession._on_destroy_session,
    wire.MSG_COPY: ClientSession._on_msg_copy,
}
_new = object.__new__
_set_answer_token = cast(Any, Answer).token.__set__
_set_answer_value = cast(Any, Answer).value.__set__
_GZIP_ID = struct.pack("<I", wire.GZIP_PACKED)
_RPC_ERROR_ID = struct.pack("<I", wire.RPC_ERROR)
_RPC_RESULT_ID = struct.pack("<I", wire.RPC_RESULT)
_BAD_MSG_ID = struct.pack("<I", wire.BAD_MSG_NOTIFICATION)
_BAD_SALT_ID = struct.pack("<I", wire.BAD_SERVER_SALT)
_DETAILED_ID = struct.pack("<I", wire.MSG_DETAILED_INFO)


def _msg_id_of(req: _Request) -> int:
    return req.msg_id or 0


_WRAPPERS = frozenset({wire.INVOKE_AFTER_MSG, wire.INVOKE_AFTER_MSGS, wire.INVOKE_WITH_LAYER,
                       wire.INIT_CONNECTION})
#: constructors that need a closer look when invoked
_SPECIAL = _REFUSED | _WRAPPERS | wire.MTPROTO_FUNCTIONS


def _classify(req: _Request, number: int) -> None:
    """What a request starting with ``number`` (one of ``_SPECIAL``) needs (its payload is
    bytes: such requests are never kept in pieces)."""
    payload = _joined(req.payload)
    if number in wire.MTPROTO_FUNCTIONS:
        req.api = False  # service functions are never wrapped
        return
    if number in (wire.INVOKE_AFTER_MSG, wire.INVOKE_AFTER_MSGS):
        req.head = wire.query_header_length(payload)
    if len(payload) >= req.head + 4 and _U32(payload, req.head)[0] in (
            wire.INVOKE_WITH_LAYER, wire.INIT_CONNECTION):
        req.api = False  # the caller wrapped it already


_decode_span = span_reader(read_boxed)
_Way = tuple[ResultReader, "PiecesMaker | None", "int | None"]
_ways: dict[type, _Way] = {}


def _way_to_send(request: object) -> _Way:
    """How a request is serialized and its result decoded: ``(read, make_pieces, number)``.

    ``read`` is the class's result reader, straight (what ``read_result`` does, without its
    per-call overhead), the wrapped query's for generic wrappers, a boxed decode for foreign
    objects; ``make_pieces`` is the class's pieces encoder when it has one (requests with a
    ``bytes`` field), else None (``__bytes__``); ``number`` the constructor number the payload
    starts with, when the class says (None: read it from the payload).  Remembered per TL
    function class."""
    if not isinstance(request, TLFunction):
        return decode, None, None
    cls = type(request)
    # only a class made from the schema is sure to start its bytes with its own number
    number = cls.CONSTRUCTOR_ID if cls.__dict__.get("_TL_COMBINATOR") is not None else None
    if cls._TL_QUERY_ATTR is not None:
        return request.read_result, None, number
    reader = cls._TL_RESULT_READER
    found: _Way = (_decode_span if reader is None else span_reader(reader),
                   cls.__dict__.get("_TL_PIECES"), number)
    return _ways.setdefault(cls, found)


def _check_int64(value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value not in _INT64:
        raise UsageError(f"{what} must be a signed 64-bit int, not {value!r}")

