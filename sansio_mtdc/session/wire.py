"""The bytes of encrypted MTProto messages, written by hand where every message pays for them.

The plaintext of an encrypted message is ``salt | session_id | msg_id | seq_no | length | body |
padding``.  The envelope, containers, acks (and the other id vectors), rpc_result, rpc_error and
gzip_packed are coded here with precompiled structs; the rarer service messages go through the
TL classes (:mod:`sansio_mtdc.tl.mtproto`), where speed does not matter.

Decoders raise :class:`TLDecodeError` (or :class:`SecurityError` for the envelope's length and
padding checks) and nothing else, whatever bytes they get.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from typing import NamedTuple

from ..errors import RPCError, SecurityError, TLDecodeError, UsageError
from ..tl.codec import MAX_BYTES_LENGTH, inflate, pack_bytes, pack_string

__all__ = [
    "BAD_MSG_NOTIFICATION",
    "BAD_SERVER_SALT",
    "CONTAINER_HEADER_SIZE",
    "DESTROY_SESSION",
    "DESTROY_SESSION_NONE",
    "DESTROY_SESSION_OK",
    "ENVELOPE_SIZE",
    "FUTURE_SALTS",
    "GET_FUTURE_SALTS",
    "GZIP_PACKED",
    "HTTP_WAIT",
    "INIT_CONNECTION",
    "INVOKE_AFTER_MSG",
    "INVOKE_AFTER_MSGS",
    "INVOKE_WITH_LAYER",
    "ITEM_HEADER_SIZE",
    "MAX_CONTAINER_BYTES",
    "MAX_CONTAINER_MESSAGES",
    "MAX_IDS_PER_MESSAGE",
    "MSGS_ACK",
    "MSGS_ALL_INFO",
    "MSGS_STATE_INFO",
    "MSGS_STATE_REQ",
    "MSG_CONTAINER",
    "MSG_COPY",
    "MSG_DETAILED_INFO",
    "MSG_NEW_DETAILED_INFO",
    "MSG_RESEND_REQ",
    "MTPROTO_FUNCTIONS",
    "NEW_SESSION_CREATED",
    "NOT_CONTENT_RELATED",
    "PING",
    "PING_DELAY_DISCONNECT",
    "PONG",
    "RPC_DROP_ANSWER",
    "RPC_ERROR",
    "RPC_RESULT",
    "ContainedMessage",
    "Envelope",
    "check_body_length",
    "constructor_of",
    "gzip_packed",
    "pack_container",
    "pack_envelope",
    "pack_id_vector",
    "pack_rpc_error",
    "pack_rpc_result",
    "query_header_length",
    "trim_transport_padding",
    "unpack_container",
    "unpack_envelope",
    "unpack_gzip_packed",
    "unpack_id_vector",
    "unpack_rpc_error",
    "unpack_rpc_result",
]

# --- constructor numbers (mtproto.tl) ----------------------------------------------------------

RPC_RESULT = 0xF35C6D01
RPC_ERROR = 0x2144CA19
MSG_CONTAINER = 0x73F1F8DC
MSG_COPY = 0xE06046B2
GZIP_PACKED = 0x3072CFA1
MSGS_ACK = 0x62D6B459
BAD_MSG_NOTIFICATION = 0xA7EFF811
BAD_SERVER_SALT = 0xEDAB447B
NEW_SESSION_CREATED = 0x9EC20908
PONG = 0x347773C5
MSGS_STATE_REQ = 0xDA69FB52
MSGS_STATE_INFO = 0x04DEB57D
MSGS_ALL_INFO = 0x8CC0D131
MSG_DETAILED_INFO = 0x276D3EC6
MSG_NEW_DETAILED_INFO = 0x809DB6DF
MSG_RESEND_REQ = 0x7D861A08
FUTURE_SALTS = 0xAE500895
DESTROY_SESSION_OK = 0xE22045FC
DESTROY_SESSION_NONE = 0x62D350C9
PING = 0x7ABE77EC
PING_DELAY_DISCONNECT = 0xF3427B8C
RPC_DROP_ANSWER = 0x58E4A740
GET_FUTURE_SALTS = 0xB921BD04
DESTROY_SESSION = 0xE7512126
DESTROY_AUTH_KEY = 0xD1435160
HTTP_WAIT = 0x9299359F
# api.tl wrappers the session itself adds or looks into
INVOKE_AFTER_MSG = 0xCB9F372D
INVOKE_AFTER_MSGS = 0x3DC4B4F0
INVOKE_WITH_LAYER = 0xDA9B0D0D
INIT_CONNECTION = 0xC1CD5EA9
_VECTOR = 0x1CB5C415

#: functions of the service layer: never wrapped in invokeWithLayer/initConnection
MTPROTO_FUNCTIONS = frozenset({PING, PING_DELAY_DISCONNECT, RPC_DROP_ANSWER, GET_FUTURE_SALTS,
                               DESTROY_SESSION, DESTROY_AUTH_KEY, HTTP_WAIT})
#: constructors a sender must never mark content-related (bad_msg_notification 34 otherwise)
NOT_CONTENT_RELATED = frozenset({MSGS_ACK, MSG_CONTAINER, MSG_COPY, GZIP_PACKED})

#: at most this many messages in one container, and this many bytes in its body
MAX_CONTAINER_MESSAGES = 1024
MAX_CONTAINER_BYTES = 1 << 20
#: at most this many ids in one msgs_ack, msgs_state_req or msg_resend_req
MAX_IDS_PER_MESSAGE = 8192

# --- structs -----------------------------------------------------------------------------------

#: salt, session_id, msg_id, seq_no, length
_ENVELOPE = struct.Struct("<qqqii")
ENVELOPE_SIZE = _ENVELOPE.size
#: msg_id, seqno, bytes: the header of each message in a container
_ITEM = struct.Struct("<qii")
ITEM_HEADER_SIZE = _ITEM.size
_CONTAINER = struct.Struct("<II")
CONTAINER_HEADER_SIZE = _CONTAINER.size
_U32 = struct.Struct("<I")
_RPC_RESULT = struct.Struct("<Iq")
_RPC_ERROR = struct.Struct("<Ii")
_U32_Q = struct.Struct("<Iq")

_MIN_PADDING = 12
_MAX_PADDING = 1024


def constructor_of(body: bytes, pos: int = 0) -> int:
    """The constructor number at ``pos`` (``TLDecodeError`` when fewer than 4 bytes are left)."""
    if len(body) < pos + 4:
        raise TLDecodeError("a message body shorter than its constructor number",
                            reason="truncated")
    return int(_U32.unpack_from(body, pos)[0])


# --- the envelope ------------------------------------------------------------------------------

class Envelope(NamedTuple):
    """One decrypted message: its internal header and body (padding removed)."""

    salt: int
    session_id: int
    msg_id: int
    seqno: int
    body: bytes


def pack_envelope(salt: int, session_id: int, msg_id: int, seqno: int, body: bytes) -> bytes:
    """The plaintext to encrypt, without its padding."""
    try:
        return _ENVELOPE.pack(salt, session_id, msg_id, seqno, len(body)) + body
    except struct.error:
        raise UsageError("salt, session_id and msg_id are signed 64-bit values and seqno a "
                         "signed 32-bit one") from None


def unpack_envelope(plaintext: bytes) -> Envelope:
    """Split a decrypted plaintext, checking what security_guidelines.txt asks of its length:
    the length field is non-negative, divisible by 4 and inside the plaintext, and the padding
    left after the body is 12..1024 bytes.  ``SecurityError(check="length" | "padding")``."""
    size = len(plaintext)
    if size < ENVELOPE_SIZE + _MIN_PADDING:
        raise SecurityError(f"a plaintext of {size} bytes has no room for its header",
                            check="length")
    salt, session_id, msg_id, seqno, length = _ENVELOPE.unpack_from(plaintext, 0)
    check_body_length(length, size)
    body = plaintext[ENVELOPE_SIZE:ENVELOPE_SIZE + length]
    return Envelope(salt, session_id, msg_id, seqno, body)


def check_body_length(length: int, size: int) -> None:
    """The envelope's length and padding checks for a ``size``-byte plaintext."""
    if length < 0 or length & 3 or ENVELOPE_SIZE + length > size:
        raise SecurityError(f"message length {length} does not fit a {size}-byte plaintext",
                            check="length")
    padding = size - ENVELOPE_SIZE - length
    if not _MIN_PADDING <= padding <= _MAX_PADDING:
        raise SecurityError(f"{padding} bytes of padding; MTProto 2.0 needs 12..1024",
                            check="padding")


def trim_transport_padding(payload: bytes) -> bytes:
    """Drop the 0..15 bytes the padded intermediate transport may leave after an encrypted
    packet (which is always 24 + a multiple of 16 bytes)."""
    extra = (len(payload) - 24) & 15
    if extra and len(payload) > 24:
        return payload[:-extra]
    return payload


# --- containers --------------------------------------------------------------------------------

class ContainedMessage(NamedTuple):
    """One message inside a msg_container."""

    msg_id: int
    seqno: int
    body: bytes


def pack_container(messages: Sequence[tuple[int, int, bytes]]) -> bytes:
    """The body of a msg_container holding ``(msg_id, seqno, body)`` messages."""
    pack = _ITEM.pack
    parts = [_CONTAINER.pack(MSG_CONTAINER, len(messages))]
    for msg_id, seqno, body in messages:
        parts.append(pack(msg_id, seqno, len(body)))
        parts.append(body)
    return b"".join(parts)


def unpack_container(body: bytes, *, max_messages: int = MAX_CONTAINER_MESSAGES
                     ) -> list[ContainedMessage]:
    """The messages of a msg_container body (starting at its constructor number).

    ``TLDecodeError`` with reason ``"container_count"`` (more than ``max_messages``),
    ``"truncated"``, ``"bad_length"``, ``"nested_container"`` or ``"trailing_bytes"``."""
    end = len(body)
    if end < CONTAINER_HEADER_SIZE:
        raise TLDecodeError("truncated msg_container", reason="truncated")
    number, count = _CONTAINER.unpack_from(body, 0)
    if number != MSG_CONTAINER:
        raise TLDecodeError(f"expected msg_container, got {number:#010x}",
                            reason="unknown_constructor")
    if count > max_messages:
        raise TLDecodeError(f"a container of {count} messages; at most {max_messages}",
                            reason="container_count")
    if count * (ITEM_HEADER_SIZE + 4) > end - CONTAINER_HEADER_SIZE:
        raise TLDecodeError(f"a container of {count} messages in {end} bytes", reason="truncated")
    unpack = _ITEM.unpack_from
    out: list[ContainedMessage] = []
    pos = CONTAINER_HEADER_SIZE
    for _ in range(count):
        if pos + ITEM_HEADER_SIZE > end:
            raise TLDecodeError("truncated message header in a container", reason="truncated")
        msg_id, seqno, length = unpack(body, pos)
        pos += ITEM_HEADER_SIZE
        if length < 4 or length & 3:
            raise TLDecodeError(f"contained message of {length} bytes", reason="bad_length")
        if pos + length > end:
            raise TLDecodeError("contained message runs past its container", reason="truncated")
        inner = body[pos:pos + length]
        if inner[:4] == _CONTAINER_ID_BYTES:
            raise TLDecodeError("a container inside a container", reason="nested_container")
        out.append(ContainedMessage(msg_id, seqno, inner))
        pos += length
    if pos != end:
        raise TLDecodeError(f"{end - pos} bytes after the container's messages",
                            reason="trailing_bytes")
    return out


_CONTAINER_ID_BYTES = _U32.pack(MSG_CONTAINER)


# --- id vectors: msgs_ack, msgs_state_req, msg_resend_req ---------------------------------------

def pack_id_vector(constructor: int, ids: Sequence[int]) -> bytes:
    """``constructor msg_ids:Vector<long>`` (msgs_ack, msgs_state_req, msg_resend_req)."""
    n = len(ids)
    if n > MAX_IDS_PER_MESSAGE:
        raise UsageError(f"{n} ids in one message; at most {MAX_IDS_PER_MESSAGE}")
    return struct.pack(f"<III{n}q", constructor, _VECTOR, n, *ids)


def unpack_id_vector(body: bytes, pos: int = 4) -> tuple[list[int], int]:
    """A boxed ``Vector<long>`` at ``pos`` (after the constructor number by default):
    ``(ids, end)``."""
    end = len(body)
    if pos + 8 > end:
        raise TLDecodeError("truncated vector of ids", reason="truncated")
    number, count = _CONTAINER.unpack_from(body, pos)
    if number != _VECTOR:
        raise TLDecodeError(f"expected a vector, got {number:#010x}", reason="bad_vector")
    pos += 8
    if count > (end - pos) >> 3:
        raise TLDecodeError(f"vector of {count} ids is longer than the data left",
                            reason="bad_vector")
    ids = list(struct.unpack_from(f"<{count}q", body, pos))
    return ids, pos + 8 * count


# --- rpc_result / rpc_error --------------------------------------------------------------------

def pack_rpc_result(req_msg_id: int, result: bytes) -> bytes:
    """``rpc_result req_msg_id result`` with ``result`` already serialized (boxed)."""
    return _RPC_RESULT.pack(RPC_RESULT, req_msg_id) + result


def unpack_rpc_result(body: bytes) -> tuple[int, bytes]:
    """``(req_msg_id, result bytes)`` of an rpc_result body."""
    if len(body) < 16:
        raise TLDecodeError("truncated rpc_result", reason="truncated")
    return int(_U32_Q.unpack_from(body, 0)[1]), body[12:]


def pack_rpc_error(code: int, message: str) -> bytes:
    """A boxed ``rpc_error``."""
    try:
        return _RPC_ERROR.pack(RPC_ERROR, code) + pack_string(message)
    except struct.error:
        raise UsageError(f"rpc_error code {code!r} is not a 32-bit int") from None


def unpack_rpc_error(data: bytes) -> RPCError:
    """The RPCError of a boxed ``rpc_error`` (all of ``data``)."""
    if len(data) < 12:
        raise TLDecodeError("truncated rpc_error", reason="truncated")
    code = int(_RPC_ERROR.unpack_from(data, 0)[1])
    n = data[8]
    if n < 254:
        start, end = 9, 8 + ((n + 4) & -4)
    elif n == 254:
        n = data[9] | data[10] << 8 | data[11] << 16
        start, end = 12, 8 + ((n + 7) & -4)
    else:
        raise TLDecodeError("bytes length prefix 0xff is not valid TL", reason="bad_length")
    if end != len(data):
        raise TLDecodeError("rpc_error of the wrong length",
                            reason="truncated" if end > len(data) else "trailing_bytes")
    message = data[start:start + n].decode("utf-8", "surrogateescape")
    return RPCError(code, message)


# --- gzip_packed -------------------------------------------------------------------------------

def gzip_packed(data: bytes, level: int = 6) -> bytes:
    """A boxed ``gzip_packed`` of ``data`` (gzip, no time stamp: the same input gives the same
    bytes)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    packed = compressor.compress(data) + compressor.flush()
    if len(packed) > MAX_BYTES_LENGTH:
        raise UsageError("gzip_packed data longer than TL bytes can carry")
    return _U32.pack(GZIP_PACKED) + pack_bytes(packed)


def unpack_gzip_packed(body: bytes, limit: int) -> bytes:
    """The inflated data of a boxed ``gzip_packed`` that is all of ``body``; more than
    ``limit`` bytes is ``TLDecodeError(reason="gzip")``."""
    size = len(body)
    if size < 8:
        raise TLDecodeError("truncated gzip_packed", reason="truncated")
    n = body[4]
    if n < 254:
        start, end = 5, 4 + ((n + 4) & -4)
    elif n == 254:
        n = body[5] | body[6] << 8 | body[7] << 16
        start, end = 8, 4 + ((n + 7) & -4)
    else:
        raise TLDecodeError("bytes length prefix 0xff is not valid TL", reason="bad_length")
    if end != size:
        raise TLDecodeError("gzip_packed of the wrong length",
                            reason="truncated" if end > size else "trailing_bytes")
    return inflate(body[start:start + n], limit)


# --- invokeAfterMsg(s) -------------------------------------------------------------------------

def query_header_length(payload: bytes) -> int:
    """How many bytes of ``payload`` (a serialized request) are invokeAfterMsg/invokeAfterMsgs
    wrappers, which must stay outermost: the session puts its own wrappers after them."""
    pos = 0
    size = len(payload)
    while pos + 4 <= size:
        number = _U32.unpack_from(payload, pos)[0]
        if number == INVOKE_AFTER_MSG:
            pos += 12
        elif number == INVOKE_AFTER_MSGS and pos + 12 <= size:
            count = _U32.unpack_from(payload, pos + 8)[0]
            pos += 12 + 8 * count
        else:
            break
    return min(pos, size)
