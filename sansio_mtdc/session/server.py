"""The server side of one MTProto session, for the reference DC cluster: one per (auth key,
session_id), outliving the connections that carry it.

The cluster routes a packet with :func:`auth_key_id_of` (which key) and, after decrypting it
once with :func:`decrypt_client_packet`, :func:`session_id_of` (which session), then hands the
plaintext to :meth:`ServerSession.receive_plaintext`.  The session checks what a server checks
(msg_id parity and time, salt, seqno, containers, replays), answers the service messages itself
and gives every request to execute as an :class:`IncomingRequest` event; the cluster answers
with :meth:`~ServerSession.reply`.  A repeated request is never executed twice: it gets the
cached answer again (or msg_detailed_info when the answer is big).
"""

from __future__ import annotations

import bisect
import struct
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from typing import Any

from ..crypto.mtproto2 import AuthKey
from ..errors import RemoteProtocolError, RPCError, SecurityError, TLDecodeError, UsageError
from ..tl.codec import pack_bytes
from ..tl.decoding import decode
from ..tl.encoding import object_bytes
from ..tl.objects import TLFunction
from . import wire
from .config import ServerLimits
from .errors import PingTimeout
from .events import ConnectionFailed, IncomingRequest, ServerEvent
from .msgid import MsgIdClock
from .recent import DUPLICATE, NEW, RecentIds
from .salts import SaltSchedule

__all__ = ["ServerSession", "auth_key_id_of", "decrypt_client_packet", "session_id_of"]

RandomSource = Callable[[int], bytes]

_ENVELOPE = struct.Struct("<qqqii")
_U32 = struct.Struct("<I").unpack_from
_Q = struct.Struct("<q").unpack_from
_BAD_MSG = struct.Struct("<Iqii").pack
_BAD_SALT = struct.Struct("<Iqiiq").pack
_NEW_SESSION = struct.Struct("<Iqqq").pack
_PONG = struct.Struct("<Iqq").pack
_DETAILED = struct.Struct("<Iqqii").pack
_STATE_INFO = struct.Struct("<Iq").pack
_FUTURE_SALTS = struct.Struct("<Iqii").pack  # ..., now, vector count
_FUTURE_SALT = struct.Struct("<iiq").pack
_DROPPED = struct.Struct("<Iqii").pack
_SCALE = float(1 << 32)
_ANSWER_UNKNOWN = struct.pack("<I", 0x5E2AD36E)
_ANSWER_DROPPED_RUNNING = struct.pack("<I", 0xCD78E586)
_RPC_ANSWER_DROPPED = 0xA43AD8B7
_CONTAINER_ID = struct.pack("<I", wire.MSG_CONTAINER)
_WORKER_BUSY = RPCError(500, "WORKER_BUSY_TOO_LONG_RETRY")
#: service messages a client sends that need nothing from the server
_IGNORED = frozenset({wire.MSGS_STATE_INFO, wire.MSGS_ALL_INFO, wire.MSG_DETAILED_INFO,
                      wire.MSG_NEW_DETAILED_INFO, wire.HTTP_WAIT})
#: the service constructors a client must never mark content-related (34 otherwise)
_NEVER_CONTENT = wire.NOT_CONTENT_RELATED
#: the mtproto constructors a client may send either way
_SERVICE = (_IGNORED | {wire.MSGS_ACK, wire.MSGS_STATE_REQ, wire.MSG_RESEND_REQ}
            | wire.MTPROTO_FUNCTIONS)


def auth_key_id_of(payload: bytes) -> int:
    """The auth_key_id a packet starts with, as a signed int64 (0: unencrypted)."""
    if len(payload) < 8:
        raise SecurityError(f"a packet of {len(payload)} bytes has no auth_key_id",
                            check="length")
    return int(_Q(payload, 0)[0])


def decrypt_client_packet(auth_key: AuthKey, payload: bytes) -> bytes:
    """The padded plaintext of a client packet (x = 0) after the msg_key check and the length
    and padding checks; tolerates the padded intermediate transport's 0..15 trailing bytes.
    Raises :class:`SecurityError`."""
    payload = wire.trim_transport_padding(bytes(payload))
    plain = auth_key.decrypt(payload, 0)
    if len(plain) < wire.ENVELOPE_SIZE + 12:
        raise SecurityError("a plaintext too short for its header", check="length")
    wire.check_body_length(_ENVELOPE.unpack_from(plain, 0)[4], len(plain))
    return plain


def session_id_of(plaintext: bytes) -> int:
    """The session_id of a decrypted plaintext (from :func:`decrypt_client_packet`)."""
    if len(plaintext) < 16:
        raise SecurityError("a plaintext too short for its header", check="length")
    return int(_Q(plaintext, 8)[0])


class _Outgoing:
    """A content message the server sent and keeps until the client acknowledges it."""

    __slots__ = ("body", "msg_id", "req_msg_id", "seqno")

    def __init__(self, msg_id: int, seqno: int, body: bytes, req_msg_id: int | None) -> None:
        self.msg_id = msg_id
        self.seqno = seqno
        self.body = body
        self.req_msg_id = req_msg_id


class ServerSession:
    """``ServerSession(auth_key, session_id, *, salts, random, now, limits=ServerLimits())``.

    ``salts`` is a :class:`SaltSchedule` (or one int salt, accepted forever); ``random(n)``
    gives n random bytes; ``now`` is when the session is made (:attr:`created`).  The cluster
    calls :meth:`connection_made` whenever a new connection starts carrying the session
    (unacknowledged answers are sent again on it), :meth:`receive` /
    :meth:`receive_plaintext` for each packet, drains :meth:`next_event`, answers each
    :class:`IncomingRequest` with :meth:`reply`, sends :meth:`data_to_send`, and calls
    :meth:`handle_timer` at :meth:`get_timer`.

    The session answers the service messages itself (ping, ping_delay_disconnect,
    get_future_salts, rpc_drop_answer, msgs_state_req, msg_resend_req, msgs_ack) and requests
    it cannot decode (``rpc_error 400 INPUT_METHOD_INVALID / INPUT_CONSTRUCTOR_INVALID /
    INPUT_FETCH_FAIL``).  destroy_session and destroy_auth_key come out as
    :class:`IncomingRequest` like API calls: other sessions and the keys are the cluster's.
    :class:`ConnectionFailed` means "close the connection": a packet that failed a security
    check, or the client's ping_delay_disconnect ran out (:class:`PingTimeout`).
    """

    def __init__(self, auth_key: AuthKey, session_id: int, *, salts: SaltSchedule | int,
                 random: RandomSource, now: float, limits: ServerLimits | None = None) -> None:
        if not isinstance(auth_key, AuthKey):
            raise UsageError(f"auth_key must be an AuthKey, not {type(auth_key).__name__}")
        if not callable(random):
            raise UsageError("random must be a callable returning n random bytes")
        if isinstance(salts, int) and not isinstance(salts, bool):
            salts = SaltSchedule.fixed(salts)
        if not isinstance(salts, SaltSchedule):
            raise UsageError("salts must be a SaltSchedule or an int")
        if isinstance(session_id, bool) or not isinstance(session_id, int) or not (
                -(1 << 63) <= session_id < 1 << 63):
            raise UsageError(f"session_id must be a signed 64-bit int, not {session_id!r}")
        if limits is None:
            limits = ServerLimits()
        self._key = auth_key
        self._session_id = session_id
        self._salts = salts
        self._random = random
        self._limits = limits
        self._created = now
        self._clock = MsgIdClock(server=True)
        self._seq = 0
        self._first_msg_id: int | None = None
        self._received = RecentIds(limits.dedup_window)
        self._container_ids = RecentIds(limits.dedup_window)
        self._seqnos: list[tuple[int, int]] = []
        self._executing: dict[int, bool] = {}  # client msg_id -> answer dropped by the client
        self._answers: OrderedDict[int, _Outgoing] = OrderedDict()
        self._answer_bytes = 0
        self._unacked: OrderedDict[int, _Outgoing] = OrderedDict()
        self._outbox: list[tuple[int, int, bytes]] = []
        self._again: list[tuple[int, int, bytes]] = []
        self._to_ack: list[int] = []
        self._events: deque[ServerEvent] = deque()
        self._disconnect_at: float | None = None
        self._disconnect_delay = 0
        #: why messages were ignored, counted by reason
        self.dropped: Counter[str] = Counter()

    # --- properties ----------------------------------------------------------------------------

    @property
    def session_id(self) -> int:
        return self._session_id

    @property
    def auth_key(self) -> AuthKey:
        return self._key

    @property
    def created(self) -> float:
        """When the session was made (the ``now`` given to the constructor)."""
        return self._created

    def executing(self) -> int:
        """Requests handed out and not yet replied to."""
        return len(self._executing)

    def unacknowledged(self) -> int:
        """Content messages sent and not yet acknowledged by the client."""
        return len(self._unacked)

    # --- connections ---------------------------------------------------------------------------

    def connection_made(self, *, now: float) -> None:
        """A (new) connection carries the session: what the client has not acknowledged is sent
        again on it, with the same msg_ids."""
        self._disconnect_at = None
        waiting = {item[0] for item in self._outbox}
        self._again = [(o.msg_id, o.seqno, o.body) for o in self._unacked.values()
                       if o.msg_id not in waiting]

    def connection_lost(self, *, now: float) -> None:
        """The connection is gone; what is queued waits for the next one."""
        self._disconnect_at = None

    def get_timer(self) -> float | None:
        """When the client's ping_delay_disconnect runs out (local time), or None."""
        return self._disconnect_at

    def handle_timer(self, *, now: float) -> None:
        at = self._disconnect_at
        if at is not None and now >= at:
            self._disconnect_at = None
            self._events.append(ConnectionFailed(PingTimeout(self._disconnect_delay)))

    def next_event(self) -> ServerEvent | None:
        return self._events.popleft() if self._events else None

    # --- input ---------------------------------------------------------------------------------

    def receive(self, payload: bytes, *, now: float) -> None:
        """One client packet (already routed here).  Never raises: a packet that fails the
        security checks gives :class:`ConnectionFailed`."""
        try:
            plain = decrypt_client_packet(self._key, payload)
        except SecurityError as exc:
            self._fail(exc)
            return
        self.receive_plaintext(plain, now=now)

    def receive_plaintext(self, plaintext: bytes, *, now: float) -> None:
        """A plaintext from :func:`decrypt_client_packet`."""
        try:
            self._receive(plaintext, now)
        except RemoteProtocolError as exc:
            self._fail(exc)

    def _receive(self, plain: bytes, now: float) -> None:
        size = len(plain)
        if size < wire.ENVELOPE_SIZE + 12:
            raise SecurityError("a plaintext too short for its header", check="length")
        salt, session_id, msg_id, seqno, length = _ENVELOPE.unpack_from(plain, 0)
        if session_id != self._session_id:
            raise SecurityError("a message for another session", check="session_id")
        wire.check_body_length(length, size)
        body = plain[32:32 + length]
        if msg_id & 3:
            self._notify(msg_id, seqno, 18, now)
            return
        is_container = body[:4] == _CONTAINER_ID
        if msg_id in self._received:
            # A repeat is recognised before anything else: whatever else is wrong with it now
            # (its time, its salt), asking the client to send it again could run it twice.
            if not is_container:
                self._repeat(msg_id, seqno, now)
            elif msg_id in self._container_ids:
                self._replayed_container(body, now)
            else:
                self._notify(msg_id, seqno, 19, now)
            return
        code = self._time_code(msg_id, now)
        if code:
            self._notify(msg_id, seqno, code, now)
            return
        if not self._salts.accepts(salt, now):
            self._bad_salt(msg_id, seqno, now)
            return
        if is_container:
            self._on_container(msg_id, seqno, body, now)
            return
        start = len(self._outbox)
        if self._check_seqno(msg_id, seqno, body, now) and self._message(
                msg_id, seqno, body, now, top=True):
            self._announce(msg_id, now, start)

    def _time_code(self, msg_id: int, now: float) -> int:
        sent = msg_id / _SCALE
        if sent < now - self._limits.time_window_past:
            return 16
        if sent > now + self._limits.time_window_future:
            return 17
        return 0

    def _replayed_container(self, body: bytes, now: float) -> None:
        self.dropped["duplicate"] += 1
        try:
            items = wire.unpack_container(body, max_messages=self._limits.container_max_messages)
        except TLDecodeError:
            return
        for msg_id, seqno, _ in items:
            if msg_id in self._received:
                self._repeat(msg_id, seqno, now)

    def _on_container(self, container_id: int, seqno: int, body: bytes, now: float) -> None:
        if seqno & 1:
            self._notify(container_id, seqno, 34, now)
            return
        try:
            items = wire.unpack_container(body, max_messages=self._limits.container_max_messages)
        except TLDecodeError:
            self._notify(container_id, seqno, 64, now)
            return
        if len(body) > self._limits.container_max_bytes or any(
                item.msg_id >= container_id for item in items):
            self._notify(container_id, seqno, 64, now)
            return
        self._received.add(container_id)
        self._container_ids.add(container_id)
        self._remember_seqno(container_id, seqno)
        received = self._received
        start = len(self._outbox)
        accepted = []
        for msg_id, inner_seqno, inner in items:
            if msg_id & 3:
                self._notify(msg_id, inner_seqno, 18, now)
            elif msg_id in received:
                self._repeat(msg_id, inner_seqno, now)
            elif msg_id / _SCALE > now + self._limits.time_window_future:
                self._notify(msg_id, inner_seqno, 17, now)
            elif self._check_seqno(msg_id, inner_seqno, inner, now) and self._message(
                    msg_id, inner_seqno, inner, now, top=False):
                accepted.append(msg_id)
        if accepted:
            self._announce(min(accepted), now, start)

    def _announce(self, msg_id: int, now: float, position: int) -> None:
        """new_session_created for the first message the session takes, and again for any
        later one below it (mtproto/service_messages.txt); it goes before what answered the
        packet (``position`` in the outbox)."""
        first = self._first_msg_id
        if first is None or msg_id < first:
            self._first_msg_id = msg_id
            unique_id = int.from_bytes(self._random(8), "little", signed=True)
            body = _NEW_SESSION(wire.NEW_SESSION_CREATED, msg_id, unique_id,
                                self._salts.current(now))
            self._send_content(body, now, answer=False, req_msg_id=None, position=position)

    def _kind(self, body: bytes) -> int:
        """The constructor that decides content-relatedness (inside gzip_packed, if any)."""
        number = wire.constructor_of(body)
        if number == wire.GZIP_PACKED and len(body) >= 8:
            try:
                inner = wire.unpack_gzip_packed(body, self._limits.max_inflated)
                return wire.constructor_of(inner)
            except TLDecodeError:
                return number
        return number

    def _check_seqno(self, msg_id: int, seqno: int, body: bytes, now: float) -> bool:
        """Checks 32-35 for a message not seen before; True when it may be processed (a repeat
        is let through: :meth:`_message` handles it)."""
        if msg_id in self._received:
            return True
        number = self._kind(body)
        code = 0
        if seqno & 1 and number in _NEVER_CONTENT:
            code = 34
        elif not seqno & 1 and number not in _SERVICE and number not in _NEVER_CONTENT:
            code = 35
        else:
            code = self._seqno_order(msg_id, seqno)
        if code:
            self._notify(msg_id, seqno, code, now)
            return False
        return True

    def _seqno_order(self, msg_id: int, seqno: int) -> int:
        seqnos = self._seqnos
        index = bisect.bisect_left(seqnos, (msg_id, -(1 << 40)))
        if index > 0:
            before = seqnos[index - 1][1]
            if before > seqno or (before == seqno and seqno & 1):
                return 32
        if index < len(seqnos):
            after = seqnos[index][1]
            if after < seqno or (after == seqno and seqno & 1):
                return 33
        return 0

    def _remember_seqno(self, msg_id: int, seqno: int) -> None:
        bisect.insort(self._seqnos, (msg_id, seqno))
        if len(self._seqnos) > self._limits.dedup_window:
            del self._seqnos[0]

    def _message(self, msg_id: int, seqno: int, body: bytes, now: float, *, top: bool
                 ) -> bool:
        """Handle one message; True when it was taken (new, and not too old)."""
        status = self._received.check(msg_id)
        if status == DUPLICATE:
            self._repeat(msg_id, seqno, now)
            return False
        if status != NEW or (not top and msg_id / _SCALE < now - self._limits.time_window_past):
            # below what we remember, or a message that waited too long inside a container:
            # we cannot tell whether we had it
            self.dropped["msg_id_too_old"] += 1
            if seqno & 1:
                self._notify(msg_id, seqno, 20, now)
            return False
        self._received.add(msg_id)
        self._remember_seqno(msg_id, seqno)
        number = wire.constructor_of(body)
        if number == wire.GZIP_PACKED:
            try:
                body = wire.unpack_gzip_packed(body, self._limits.max_inflated)
                number = wire.constructor_of(body)
            except TLDecodeError:
                self._request_error(msg_id, RPCError(400, "INPUT_FETCH_FAIL"), now, seqno)
                return True
        handler = self._SERVICE_HANDLERS.get(number)
        if handler is not None:
            try:
                handler(self, msg_id, seqno, body, now)
            except TLDecodeError:
                self.dropped["bad_service_message"] += 1
            return True
        if not seqno & 1:
            self.dropped["not_content"] += 1
            return True
        self._request(msg_id, body, now)
        return True

    def _repeat(self, msg_id: int, seqno: int, now: float) -> None:
        """A message seen before: the answer again, never a second execution."""
        self.dropped["duplicate"] += 1
        answer = self._answers.get(msg_id)
        if answer is not None:
            if len(answer.body) <= self._limits.resend_answer_max:
                self._send_again(answer)
            else:
                body = _DETAILED(wire.MSG_DETAILED_INFO, msg_id, answer.msg_id,
                                 len(answer.body), 0)
                self._send_service(body, now)
        elif msg_id in self._executing and msg_id not in self._to_ack:
            self._to_ack.append(msg_id)

    # --- requests ------------------------------------------------------------------------------

    def _request(self, msg_id: int, body: bytes, now: float) -> None:
        try:
            query = decode(body)
        except TLDecodeError as exc:
            self._request_error(msg_id, _decode_error(body, exc), now, 1)
            return
        if not isinstance(query, TLFunction):
            self._request_error(msg_id, RPCError(400, "INPUT_METHOD_INVALID"), now, 1)
            return
        request: object = query
        wrappers: list[object] = []
        after: tuple[int, ...] = ()
        layer: int | None = None
        init: object | None = None
        without_updates = False
        while isinstance(request, TLFunction) and type(request)._TL_QUERY_ATTR is not None:
            wrapper: Any = request
            wrappers.append(wrapper)
            name = wrapper.TL_NAME
            if name == "invokeAfterMsg":
                after += (wrapper.msg_id,)
            elif name == "invokeAfterMsgs":
                after += tuple(wrapper.msg_ids)
            elif name == "invokeWithLayer":
                layer = wrapper.layer
            elif name == "initConnection":
                init = wrapper
            elif name == "invokeWithoutUpdates":
                without_updates = True
            request = getattr(wrapper, type(wrapper)._TL_QUERY_ATTR)
        if not isinstance(request, TLFunction):
            self._request_error(msg_id, RPCError(400, "INPUT_METHOD_INVALID"), now, 1)
            return
        if len(self._executing) >= self._limits.max_executing:
            self._request_error(msg_id, _WORKER_BUSY, now, 1)
            return
        self._executing[msg_id] = False
        self._to_ack.append(msg_id)
        self._events.append(IncomingRequest(msg_id, query, request, tuple(wrappers), after,
                                            layer, init, without_updates))

    def _request_error(self, msg_id: int, error: RPCError, now: float, seqno: int) -> None:
        if not seqno & 1:
            self.dropped["bad_service_message"] += 1
            return
        self._answer(msg_id, wire.pack_rpc_error(error.code, error.message), now)

    def reply(self, msg_id: int, result: object, *, now: float) -> None:
        """Answer the request ``msg_id`` (from an :class:`IncomingRequest`): ``result`` is a TL
        object, a bool, a list (a vector), raw serialized bytes, or an :class:`RPCError`.
        Raises :class:`UsageError` for a msg_id that is not executing or a result that cannot
        be serialized (nothing changes then)."""
        if msg_id not in self._executing:
            raise UsageError(f"no request {msg_id} is waiting for a reply")
        if isinstance(result, RPCError):
            data = wire.pack_rpc_error(result.code, result.message)
        elif isinstance(result, (bytes, bytearray, memoryview)):
            data = bytes(result)
        else:
            try:
                data = object_bytes(result)
            except AttributeError:
                raise UsageError(f"cannot serialize a {type(result).__name__} result") from None
        if self._executing.pop(msg_id):
            data = _ANSWER_DROPPED_RUNNING  # the client asked to drop it while it ran
        self._answer(msg_id, data, now)

    def _answer(self, req_msg_id: int, data: bytes, now: float) -> None:
        limits = self._limits
        if len(data) >= limits.gzip_min_size:
            packed = wire.gzip_packed(data, limits.gzip_level)
            if len(packed) < len(data):
                data = packed
        outgoing = self._send_content(wire.pack_rpc_result(req_msg_id, data), now, answer=True,
                                      req_msg_id=req_msg_id)
        answers = self._answers
        answers[req_msg_id] = outgoing
        self._answer_bytes += len(outgoing.body)
        while answers and (len(answers) > limits.answer_cache
                           or self._answer_bytes > limits.answer_cache_bytes):
            _, old = answers.popitem(last=False)
            self._answer_bytes -= len(old.body)
        try:
            self._to_ack.remove(req_msg_id)
        except ValueError:
            pass

    def push(self, update: object, *, now: float) -> int:
        """Send a server-initiated content message (an update); returns its msg_id."""
        try:
            body = object_bytes(update)
        except AttributeError:
            raise UsageError(f"cannot serialize a {type(update).__name__}") from None
        if len(body) < 4:
            raise UsageError("a message body is at least a constructor number")
        return self._send_content(body, now, answer=False, req_msg_id=None).msg_id

    def _send_content(self, body: bytes, now: float, *, answer: bool,
                      req_msg_id: int | None, position: int | None = None) -> _Outgoing:
        msg_id = self._clock.next(now, answer=answer)
        seqno = self._seq * 2 + 1
        self._seq += 1
        if position is None:
            self._outbox.append((msg_id, seqno, body))
        else:
            self._outbox.insert(position, (msg_id, seqno, body))
        outgoing = _Outgoing(msg_id, seqno, body, req_msg_id)
        unacked = self._unacked
        unacked[msg_id] = outgoing
        if len(unacked) > self._limits.max_unacked:
            unacked.popitem(last=False)
            self.dropped["unacked_overflow"] += 1
        return outgoing

    def _send_again(self, outgoing: _Outgoing) -> None:
        """Queue a message sent before, with its msg_id (unless it is queued already)."""
        msg_id = outgoing.msg_id
        if any(item[0] == msg_id for item in self._outbox) or any(
                item[0] == msg_id for item in self._again):
            return
        self._again.append((msg_id, outgoing.seqno, outgoing.body))

    def _send_service(self, body: bytes, now: float) -> None:
        msg_id = self._clock.next(now, answer=True)
        self._outbox.append((msg_id, self._seq * 2, body))

    def _notify(self, bad_msg_id: int, bad_seqno: int, code: int, now: float) -> None:
        self.dropped[f"bad_msg_{code}"] += 1
        self._send_service(_BAD_MSG(wire.BAD_MSG_NOTIFICATION, bad_msg_id, bad_seqno, code), now)

    def _bad_salt(self, bad_msg_id: int, bad_seqno: int, now: float) -> None:
        self.dropped["bad_msg_48"] += 1
        self._send_service(_BAD_SALT(wire.BAD_SERVER_SALT, bad_msg_id, bad_seqno, 48,
                                     self._salts.current(now)), now)

    # --- service messages ----------------------------------------------------------------------

    def _on_ack(self, msg_id: int, seqno: int, body: bytes, now: float) -> None:
        ids, _ = wire.unpack_id_vector(body)
        for acked in ids:
            self._unacked.pop(acked, None)

    def _on_ping(self, msg_id: int, seqno: int, body: bytes, now: float) -> None:
        if len(body) < 12:
            raise TLDecodeError("truncated ping", reason="truncated")
        ping_id = _Q(body, 4)[0]
        if body[:4] == _PING_DELAY_ID:
            if len(body) < 16:
                raise TLDecodeError("truncated ping_delay_disconnect", reason="truncated")
            delay = max(0, struct.unpack_from("<i", body, 12)[0])
            self._disconnect_delay = delay
            self._disconnect_at = now + delay
        self._send_service(_PONG(wire.PONG, msg_id, ping_id), now)

    def _on_future_salts(self, msg_id: int, seqno: int, body: bytes, now: float) -> None:
        if len(body) < 8:
            raise TLDecodeError("truncated get_future_salts", reason="truncated")
        num = struct.unpack_from("<i", body, 4)[0]
        salts = self._salts.future(now, num)
        parts = [_FUTURE_SALTS(wire.FUTURE_SALTS, msg_id, int(now), len(salts))]
        parts += [_FUTURE_SALT(since, until, salt) for since, until, salt in salts]
        self._send_service(b"".join(parts), now)

    def _on_drop_answer(self, msg_id: int, seqno: int, body: bytes, now: float) -> None:
        if len(body) < 12:
            raise TLDecodeError("truncated rpc_drop_answer", reason="truncated")
        target = _Q(body, 4)[0]
        if target in self._executing:
            self._executing[target] = True
            result = _ANSWER_DROPPED_RUNNING
        else:
            answer = self._answers.get(target)
            if answer is not None and answer.msg_id in self._unacked:
                del self._unacked[answer.msg_id]
                self._outbox = [m for m in self._outbox if m[0] != answer.msg_id]
                self._again = [m for m in self._again if m[0] != answer.msg_id]
                result = _DROPPED(_RPC_ANSWER_DROPPED, answer.msg_id, answer.seqno,
                                  len(answer.body))
            else:
                result = _ANSWER_UNKNOWN
        self._answer(msg_id, result, now)

    def _state_of(self, msg_id: int) -> int:
        status = self._received.check(msg_id)
        if status == DUPLICATE:
            state = 4 | 8
            if msg_id in self._answers:
                state |= 32 | 64
            elif msg_id in self._executing:
                state |= 32
            return state
        first = self._first_msg_id
        if status != NEW or (first is not None and msg_id < first):
            return 1
        highest = self._received.highest
        return 3 if highest is None or msg_id > highest else 2

    def _on_state_req(self, msg_id: int, seqno: int, body: bytes, now: float) -> None:
        ids, _ = wire.unpack_id_vector(body)
        self._state_info(msg_id, ids, now)

    def _state_info(self, msg_id: int, ids: list[int], now: float) -> None:
        info = bytes(self._state_of(i) for i in ids)
        self._send_service(_STATE_INFO(wire.MSGS_STATE_INFO, msg_id) + pack_bytes(info), now)

    def _on_resend_req(self, msg_id: int, seqno: int, body: bytes, now: float) -> None:
        ids, _ = wire.unpack_id_vector(body)
        by_msg_id = {o.msg_id: o for o in self._answers.values()}
        by_msg_id.update(self._unacked)
        unknown = False
        for wanted in ids:
            outgoing = by_msg_id.get(wanted)
            if outgoing is None:
                unknown = True
            else:
                self._send_again(outgoing)
        if unknown:
            self._state_info(msg_id, ids, now)

    def _on_ignored(self, msg_id: int, seqno: int, body: bytes, now: float) -> None:
        pass

    _SERVICE_HANDLERS: dict[int, Callable[[ServerSession, int, int, bytes, float], None]] = {
        wire.MSGS_ACK: _on_ack,
        wire.PING: _on_ping,
        wire.PING_DELAY_DISCONNECT: _on_ping,
        wire.GET_FUTURE_SALTS: _on_future_salts,
        wire.RPC_DROP_ANSWER: _on_drop_answer,
        wire.MSGS_STATE_REQ: _on_state_req,
        wire.MSG_RESEND_REQ: _on_resend_req,
        **dict.fromkeys(_IGNORED, _on_ignored),
    }

    # --- output --------------------------------------------------------------------------------

    def data_to_send(self, *, now: float) -> list[bytes]:
        """Encrypted payloads for the client, in order."""
        again, self._again = self._again, []
        outbox, self._outbox = self._outbox, []
        if self._to_ack:
            ids, self._to_ack = self._to_ack, []
            for start in range(0, len(ids), wire.MAX_IDS_PER_MESSAGE):
                chunk = ids[start:start + wire.MAX_IDS_PER_MESSAGE]
                outbox.append((self._clock.next(now, answer=True), self._seq * 2,
                               wire.pack_id_vector(wire.MSGS_ACK, chunk)))
        if not again and not outbox:
            return []
        salt = self._salts.current(now)
        out: list[bytes] = []
        max_bytes = self._limits.container_max_bytes
        max_messages = self._limits.container_max_messages
        items: list[tuple[int, int, bytes]] = []
        size = wire.CONTAINER_HEADER_SIZE
        forced = False

        def close() -> None:
            nonlocal items, size, forced
            if not items:
                return
            if len(items) == 1 and not forced:
                out.append(self._packet(salt, *items[0]))
            else:
                container_id = self._clock.next(now, answer=False)
                out.append(self._packet(salt, container_id, self._seq * 2,
                                        wire.pack_container(items)))
            items, size, forced = [], wire.CONTAINER_HEADER_SIZE, False

        for is_again, batch in ((True, again), (False, outbox)):
            for item in batch:
                item_size = len(item[2]) + wire.ITEM_HEADER_SIZE
                if item_size + wire.CONTAINER_HEADER_SIZE > max_bytes:
                    close()  # too big for a container: alone (a repeat then has to go too)
                    out.append(self._packet(salt, *item))
                    continue
                if len(items) >= max_messages or size + item_size > max_bytes:
                    close()
                items.append(item)
                size += item_size
                forced = forced or is_again
        close()
        return out

    def _packet(self, salt: int, msg_id: int, seqno: int, body: bytes) -> bytes:
        plaintext = _ENVELOPE.pack(salt, self._session_id, msg_id, seqno, len(body)) + body
        padding = self._random(12 + (-(len(plaintext) + 12) & 15))
        return self._key.encrypt(plaintext, padding, 8)

    def _fail(self, error: RemoteProtocolError) -> None:
        self.dropped[f"failed:{getattr(error, 'check', None) or error.reason}"] += 1
        self._events.append(ConnectionFailed(error))

    def __repr__(self) -> str:
        return (f"ServerSession(session_id={self._session_id}, key={self._key!r}, "
                f"executing={len(self._executing)})")


_PING_DELAY_ID = struct.pack("<I", wire.PING_DELAY_DISCONNECT)


def _decode_error(body: bytes, error: TLDecodeError) -> RPCError:
    """The rpc_error Telegram gives a request it cannot read: an unknown method, an unknown
    constructor inside it (a client of another layer), or data that does not parse."""
    if error.reason == "unknown_constructor":
        from ..tl.registry import find_combinator

        found = find_combinator(wire.constructor_of(body)) if len(body) >= 4 else None
        if found is None or not found[1].is_function:
            return RPCError(400, "INPUT_METHOD_INVALID")
        return RPCError(400, "INPUT_CONSTRUCTOR_INVALID")
    return RPCError(400, "INPUT_FETCH_FAIL")
