"""The unencrypted envelope of the handshake's messages (``mtproto_description.txt``):
``auth_key_id = 0 (8) | msg_id (8) | message_data_length (4) | message_data``."""

from __future__ import annotations

import struct

from ..errors import TLDecodeError, UsageError

__all__ = ["HEADER_SIZE", "MAX_TRAILING", "pack_plain", "unpack_plain"]

HEADER_SIZE = 20
#: The padded intermediate transport may leave up to 15 random bytes after the message.
MAX_TRAILING = 15

_HEADER = struct.Struct("<qqi")
_LONG_MIN, _LONG_MAX = -(1 << 63), (1 << 63) - 1


def pack_plain(msg_id: int, body: bytes) -> bytes:
    """The envelope around ``body`` (a boxed TL object)."""
    if not _LONG_MIN <= msg_id <= _LONG_MAX or msg_id == 0:
        raise UsageError(f"msg_id must be a non-zero int64, not {msg_id!r}")
    if not body or len(body) & 3:
        raise UsageError(f"a message body is a positive multiple of 4 bytes, not {len(body)}")
    return _HEADER.pack(0, msg_id, len(body)) + body


def unpack_plain(payload: bytes) -> tuple[int, bytes]:
    """``(msg_id, body)`` of an unencrypted message.

    Raises :class:`~sansio_mtdc.errors.TLDecodeError`: ``reason="truncated"`` for fewer bytes than
    the header and length say, ``"encrypted"`` for a non-zero auth_key_id (an encrypted message
    where a plain one was due), ``"bad_length"`` for a length that is not a positive multiple of 4
    or leaves more than 15 bytes unused.
    """
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise UsageError(f"a payload is bytes, not {type(payload).__name__}")
    size = len(payload)
    if size < HEADER_SIZE:
        raise TLDecodeError(f"a plain message of {size} bytes is shorter than its header",
                            reason="truncated")
    auth_key_id, msg_id, length = _HEADER.unpack_from(payload)
    if auth_key_id != 0:
        raise TLDecodeError("auth_key_id is not 0: an encrypted message, not a plain one",
                            reason="encrypted")
    if length <= 0 or length & 3:
        raise TLDecodeError(f"plain message length {length} is not a positive multiple of 4",
                            reason="bad_length")
    end = HEADER_SIZE + length
    if end > size:
        raise TLDecodeError(f"plain message length {length} runs past the {size}-byte payload",
                            reason="truncated")
    if size - end > MAX_TRAILING:
        raise TLDecodeError(f"{size - end} bytes after a plain message of length {length}",
                            reason="bad_length")
    return msg_id, bytes(payload[HEADER_SIZE:end])
