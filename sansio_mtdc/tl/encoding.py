"""Constants and helpers that the generated encoders (see :mod:`.codegen`) call."""

from __future__ import annotations

import struct

from .codec import BOOL_FALSE_ID, BOOL_TRUE_ID, VECTOR_ID

__all__ = ["BOOL_NUMBERS", "SHORT_PREFIX", "ZEROS", "object_bytes"]

#: a Bool value -> its constructor number (a KeyError for anything else)
BOOL_NUMBERS: dict[object, int] = {True: BOOL_TRUE_ID, False: BOOL_FALSE_ID}
#: one-byte length prefixes of bytes/string values shorter than 254 bytes, by length
SHORT_PREFIX: tuple[bytes, ...] = tuple(bytes((n,)) for n in range(254))
#: zero padding by its length
ZEROS: tuple[bytes, ...] = (b"", b"\0", b"\0\0", b"\0\0\0")

_UINT = struct.Struct("<I").pack
_VECTOR_HEADER = struct.Struct("<II").pack
_TRUE = _UINT(BOOL_TRUE_ID)
_FALSE = _UINT(BOOL_FALSE_ID)


def object_bytes(value: object) -> bytes:
    """Boxed bytes of a value in an ``Object`` field (``rpc_result.result``, a message body):
    a TL object or anything with ``__bytes__`` (raw ``bytes`` are taken as already serialized),
    a bool (``boolTrue``/``boolFalse``), or a list of those (a boxed vector)."""
    if value is True:
        return _TRUE
    if value is False:
        return _FALSE
    if isinstance(value, (list, tuple)):
        return _VECTOR_HEADER(VECTOR_ID, len(value)) + b"".join(
            [object_bytes(item) for item in value])
    return value.__bytes__()  # type: ignore[attr-defined, no-any-return]
