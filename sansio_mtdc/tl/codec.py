"""TL primitives: the encodings of serialize.txt, for the hot paths of other layers.

``pack_*`` turn a Python value into its bare TL bytes and raise :class:`UsageError` for a value
that has no encoding. ``read_*`` take ``(data, pos)`` and return ``(value, new_pos)``; they check
bounds and raise :class:`TLDecodeError` (``reason="truncated"``, ``"bad_length"``...) and
nothing else, whatever the bytes.
"""

from __future__ import annotations

import struct
import zlib

from ..errors import TLDecodeError, UsageError

__all__ = [
    "BOOL_FALSE_ID",
    "BOOL_TRUE_ID",
    "GZIP_MAX_SIZE",
    "GZIP_PACKED_ID",
    "VECTOR_ID",
    "inflate",
    "pack_bool",
    "pack_bytes",
    "pack_double",
    "pack_gzip",
    "pack_int",
    "pack_int128",
    "pack_int256",
    "pack_long",
    "pack_string",
    "pack_uint",
    "pack_vector_header",
    "read_bool",
    "read_bytes",
    "read_double",
    "read_int",
    "read_int128",
    "read_int256",
    "read_long",
    "read_string",
    "read_uint",
]

#: ``vector#1cb5c415``: the one constructor of every boxed ``Vector t``
VECTOR_ID = 0x1CB5C415
#: ``boolTrue#997275b5`` / ``boolFalse#bc799737``
BOOL_TRUE_ID = 0x997275B5
BOOL_FALSE_ID = 0xBC799737
#: ``gzip_packed#3072cfa1 packed_data:bytes = Object``
GZIP_PACKED_ID = 0x3072CFA1
#: The most bytes one decode may inflate from ``gzip_packed`` values (all of them together);
#: more is treated as a compression bomb.
GZIP_MAX_SIZE = 32 * 1024 * 1024
#: Longest string or bytes value the TL length prefix can express (3 length bytes).
MAX_BYTES_LENGTH = (1 << 24) - 1

_INT = struct.Struct("<i")
_UINT = struct.Struct("<I")
_LONG = struct.Struct("<q")
_DOUBLE = struct.Struct("<d")
_UINT2 = struct.Struct("<II")
_BOOL_BYTES = {True: _UINT.pack(BOOL_TRUE_ID), False: _UINT.pack(BOOL_FALSE_ID)}
_ZEROS = (b"", b"\0", b"\0\0", b"\0\0\0")
#: one-byte length prefixes, indexed by length (< 254)
_SHORT_PREFIX = tuple(bytes((n,)) for n in range(254))


# --- encoding ----------------------------------------------------------------------------------

def _int_value(value: object, bits: int, signed: bool, what: str) -> int:
    if not isinstance(value, int):
        raise UsageError(f"{what} must be an int, not {type(value).__name__}")
    low, high = (-(1 << (bits - 1)), 1 << (bits - 1)) if signed else (0, 1 << bits)
    if not low <= value < high:
        raise UsageError(f"{what} {value} is out of range for a {bits}-bit "
                         f"{'signed' if signed else 'unsigned'} value")
    return value


def pack_int(value: int) -> bytes:
    """A signed 32-bit ``int``."""
    return _INT.pack(_int_value(value, 32, True, "int"))


def pack_uint(value: int) -> bytes:
    """An unsigned 32-bit number (constructor ids, ``#`` fields, vector counts)."""
    return _UINT.pack(_int_value(value, 32, False, "uint"))


def pack_long(value: int) -> bytes:
    """A signed 64-bit ``long``."""
    return _LONG.pack(_int_value(value, 64, True, "long"))


def pack_double(value: float) -> bytes:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise UsageError(f"double must be a float, not {type(value).__name__}")
    try:
        return _DOUBLE.pack(value)
    except (OverflowError, struct.error):
        raise UsageError(f"double {value} is out of range") from None


def _fixed(value: object, size: int, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise UsageError(f"{what} must be {size} bytes, not {type(value).__name__}")
    if len(value) != size:
        raise UsageError(f"{what} must be {size} bytes, not {len(value)}")
    return bytes(value)


def pack_int128(value: bytes) -> bytes:
    """An ``int128`` given as its 16 raw wire bytes (nonces are random byte strings)."""
    return _fixed(value, 16, "int128")


def pack_int256(value: bytes) -> bytes:
    """An ``int256`` given as its 32 raw wire bytes."""
    return _fixed(value, 32, "int256")


def pack_bool(value: bool) -> bytes:
    """A boxed ``Bool`` (``boolTrue`` or ``boolFalse``)."""
    if value is not True and value is not False:
        raise UsageError(f"Bool must be True or False, not {value!r}")
    return _BOOL_BYTES[value]


def pack_bytes(value: bytes | bytearray | memoryview) -> bytes:
    """TL ``bytes``: a 1-byte length (< 254) or 0xfe and a 3-byte length, then the data,
    then zeros up to a multiple of 4."""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise UsageError(f"bytes value must be bytes, not {type(value).__name__}")
    n = len(value)
    if n < 254:
        return _SHORT_PREFIX[n] + value + _ZEROS[~n & 3]
    if n > MAX_BYTES_LENGTH:
        raise UsageError(f"bytes value of {n} bytes is too long for TL "
                         f"(at most {MAX_BYTES_LENGTH})")
    return b"".join((_UINT.pack(254 | n << 8), value, _ZEROS[-n & 3]))


def pack_string(value: str) -> bytes:
    """TL ``string``: UTF-8 (``surrogateescape``, so undecodable input bytes round-trip) packed
    as :func:`pack_bytes`."""
    if not isinstance(value, str):
        raise UsageError(f"string value must be str, not {type(value).__name__}")
    try:
        encoded = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise UsageError(f"string value cannot be encoded as UTF-8: {exc.reason}") from None
    return pack_bytes(encoded)


def pack_vector_header(count: int) -> bytes:
    """``vector#1cb5c415`` and the item count: what precedes the items of a boxed vector."""
    return _UINT2.pack(VECTOR_ID, _int_value(count, 32, False, "vector count"))


def pack_gzip(data: bytes) -> bytes:
    """A boxed ``gzip_packed`` holding ``data`` (usually a serialized TL object).

    The gzip header carries no time stamp, so the same input always gives the same bytes."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise UsageError(f"pack_gzip needs bytes, not {type(data).__name__}")
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    packed = compressor.compress(data) + compressor.flush()
    return _UINT.pack(GZIP_PACKED_ID) + pack_bytes(packed)


# --- decoding ----------------------------------------------------------------------------------

def truncated(what: str = "value") -> TLDecodeError:
    return TLDecodeError(f"truncated {what}", reason="truncated")


def _check_pos(data: bytes | bytearray | memoryview, pos: int, size: int, what: str) -> None:
    if pos < 0:
        raise UsageError(f"negative position {pos}")
    if pos + size > len(data):
        raise truncated(what)


def read_int(data: bytes | bytearray | memoryview, pos: int) -> tuple[int, int]:
    _check_pos(data, pos, 4, "int")
    return _INT.unpack_from(data, pos)[0], pos + 4


def read_uint(data: bytes | bytearray | memoryview, pos: int) -> tuple[int, int]:
    _check_pos(data, pos, 4, "uint")
    return _UINT.unpack_from(data, pos)[0], pos + 4


def read_long(data: bytes | bytearray | memoryview, pos: int) -> tuple[int, int]:
    _check_pos(data, pos, 8, "long")
    return _LONG.unpack_from(data, pos)[0], pos + 8


def read_double(data: bytes | bytearray | memoryview, pos: int) -> tuple[float, int]:
    _check_pos(data, pos, 8, "double")
    return _DOUBLE.unpack_from(data, pos)[0], pos + 8


def read_int128(data: bytes | bytearray | memoryview, pos: int) -> tuple[bytes, int]:
    _check_pos(data, pos, 16, "int128")
    return bytes(data[pos:pos + 16]), pos + 16


def read_int256(data: bytes | bytearray | memoryview, pos: int) -> tuple[bytes, int]:
    _check_pos(data, pos, 32, "int256")
    return bytes(data[pos:pos + 32]), pos + 32


def read_bool(data: bytes | bytearray | memoryview, pos: int) -> tuple[bool, int]:
    """A boxed ``Bool``; anything but ``boolTrue``/``boolFalse`` is ``reason="bad_bool"``."""
    _check_pos(data, pos, 4, "Bool")
    number = _UINT.unpack_from(data, pos)[0]
    if number == BOOL_TRUE_ID:
        return True, pos + 4
    if number == BOOL_FALSE_ID:
        return False, pos + 4
    raise TLDecodeError(f"expected a Bool, got constructor {number:#010x}", reason="bad_bool")


def read_bytes(data: bytes | bytearray | memoryview, pos: int) -> tuple[bytes, int]:
    """TL ``bytes``; the padding must be present (its value is not checked)."""
    _check_pos(data, pos, 1, "bytes")
    n = data[pos]
    if n < 254:
        start = pos + 1
        end = pos + ((n + 4) & -4)
    elif n == 254:
        _check_pos(data, pos, 4, "bytes")
        n = data[pos + 1] | data[pos + 2] << 8 | data[pos + 3] << 16
        start = pos + 4
        end = pos + ((n + 7) & -4)
    else:
        raise TLDecodeError("bytes length prefix 0xff is not valid TL", reason="bad_length")
    if end > len(data):
        raise truncated("bytes")
    return bytes(data[start:start + n]), end


def read_string(data: bytes | bytearray | memoryview, pos: int) -> tuple[str, int]:
    """TL ``string`` as str; bytes that are not UTF-8 come back as lone surrogates
    (``surrogateescape``) so that :func:`pack_string` gives back the same bytes."""
    raw, end = read_bytes(data, pos)
    return raw.decode("utf-8", "surrogateescape"), end


def inflate(packed: bytes, limit: int = GZIP_MAX_SIZE) -> bytes:
    """The data inside a ``gzip_packed`` (gzip or zlib stream); more than ``limit`` bytes, a
    damaged stream or bytes after its end are ``TLDecodeError(reason="gzip")``."""
    decompressor = zlib.decompressobj(47)
    try:
        data = decompressor.decompress(packed, limit + 1)
    except zlib.error as exc:
        raise TLDecodeError(f"gzip_packed data cannot be inflated: {exc}", reason="gzip") from None
    if len(data) > limit:
        raise TLDecodeError(f"gzip_packed data inflates to more than {limit} bytes",
                            reason="gzip")
    if not decompressor.eof:
        raise TLDecodeError("gzip_packed data ends before its gzip stream does", reason="gzip")
    if decompressor.unused_data:
        raise TLDecodeError("gzip_packed data has bytes after its gzip stream", reason="gzip")
    return data
