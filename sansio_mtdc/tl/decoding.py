"""Reading boxed TL values: the constructor-number table, vectors, ``gzip_packed``, and the entry
points that turn every way bytes can be wrong into :class:`TLDecodeError`.

A *reader* is a function ``(data, pos) -> (value, new_pos)`` over ``bytes``. Readers in the table
:data:`READERS` start just after the constructor number; the field readers here start at it. The
generated class readers (see :mod:`.codegen`) do no bounds checks of their own where Python
already does them (``struct.unpack_from`` and indexing raise); the entry points translate those
into ``reason="truncated"``, and ``RecursionError`` into ``reason="too_deep"``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING

from ..errors import TLDecodeError, UsageError
from .codec import (
    BOOL_FALSE_ID,
    BOOL_TRUE_ID,
    GZIP_MAX_SIZE,
    GZIP_PACKED_ID,
    VECTOR_ID,
    inflate,
)

if TYPE_CHECKING:
    from .kinds import Kind

__all__ = [
    "READERS",
    "Reader",
    "decode",
    "read_all",
    "read_boxed",
    "read_object",
    "span_reader",
    "typed_reader",
    "typed_table",
    "vector_reader",
]

Reader = Callable[[bytes, int], tuple[object, int]]

_U32 = struct.Struct("<I").unpack_from
_U32X2 = struct.Struct("<II").unpack_from
_TRUNCATION_ERRORS = (struct.error, IndexError)


class _ReaderTable(dict[int, Reader]):
    """Constructor number -> reader of what follows it; classes are built on first sight."""

    def __missing__(self, number: int) -> Reader:
        from .registry import reader_for_id  # the registry builds classes, which use this table

        return reader_for_id(number)


#: constructor number -> reader of the value after that number (filled lazily)
READERS: dict[int, Reader] = _ReaderTable()


class _TypedReaderTable(dict[int, Reader]):
    """The same for a field of one boxed type: a constructor of another type is an error
    (``reason="wrong_type"``), so a decoded field always holds what its type says."""

    def __init__(self, schema_name: str, type_name: str) -> None:
        super().__init__()
        self.schema_name = schema_name
        self.type_name = type_name
        self[GZIP_PACKED_ID] = self._read_gzip_packed

    def __missing__(self, number: int) -> Reader:
        from .registry import typed_reader_for_id

        reader = typed_reader_for_id(self.schema_name, self.type_name, number)
        return self.setdefault(number, reader)

    def _read_gzip_packed(self, data: bytes, pos: int) -> tuple[object, int]:
        return read_gzipped(data, pos, self.read)

    def read(self, data: bytes, pos: int) -> tuple[object, int]:
        return self[_U32(data, pos)[0]](data, pos + 4)


_typed_tables: dict[tuple[str, str], _TypedReaderTable] = {}


def typed_table(schema_name: str, type_name: str) -> dict[int, Reader]:
    """Constructor number -> reader, for values of the boxed type ``type_name``."""
    key = (schema_name, type_name)
    table = _typed_tables.get(key)
    if table is None:
        table = _typed_tables.setdefault(key, _TypedReaderTable(schema_name, type_name))
    return table


def typed_reader(schema_name: str, type_name: str) -> Reader:
    """Reader of one boxed value of ``type_name`` (at its constructor number)."""
    table = typed_table(schema_name, type_name)
    assert isinstance(table, _TypedReaderTable)
    return table.read


#: gzip inflation left to the current top-level decode (None: nothing inflated yet)
_gzip_budget: ContextVar[list[int] | None] = ContextVar("sansio_mtdc_tl_gzip_budget",
                                                         default=None)


# --- entry points ------------------------------------------------------------------------------

def _as_bytes(data: object) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise UsageError(f"TL data must be bytes, not {type(data).__name__}")


def _run(reader: Reader, data: bytes, pos: int) -> tuple[object, int]:
    # The gzip budget is per top-level decode: whatever this one inflated is forgotten when it
    # ends (a decode nested in another shares the outer one's budget).
    outer = _gzip_budget.get()
    try:
        return reader(data, pos)
    except _TRUNCATION_ERRORS:
        raise TLDecodeError("truncated TL data", reason="truncated") from None
    except RecursionError:
        raise TLDecodeError("TL data nested too deep", reason="too_deep") from None
    finally:
        if _gzip_budget.get() is not outer:
            _gzip_budget.set(outer)


def read_object(data: bytes | bytearray | memoryview, pos: int = 0) -> tuple[object, int]:
    """One boxed value of either schema at ``pos``: ``(value, position after it)``."""
    data = _as_bytes(data)
    if pos < 0:
        raise UsageError(f"negative position {pos}")
    return _run(read_boxed, data, pos)


def decode(data: bytes | bytearray | memoryview, start: int = 0, end: int | None = None
           ) -> object:
    """The one boxed value that ``data`` holds, every byte of it; or, with ``start`` and
    ``end``, the one value that ``data[start:end]`` holds, read in place (no copy of the span:
    what a session does with the result inside a decrypted message)."""
    if end is not None or start or data.__class__ is not bytes:
        return read_all(read_boxed, data, start, end)
    # read_all(read_boxed, data), flattened: the layers cost more than a small object's reader
    outer = _gzip_budget.get()
    try:
        value, stop = READERS[_U32(data, 0)[0]](data, 4)
    except _TRUNCATION_ERRORS:
        raise TLDecodeError("truncated TL data", reason="truncated") from None
    except RecursionError:
        raise TLDecodeError("TL data nested too deep", reason="too_deep") from None
    finally:
        if _gzip_budget.get() is not outer:
            _gzip_budget.set(outer)
    if stop != len(data):
        raise TLDecodeError(f"{len(data) - stop} bytes after the TL value",
                            reason="trailing_bytes")
    return value


def read_all(reader: Reader, data: bytes | bytearray | memoryview, start: int = 0,
             end: int | None = None) -> object:
    """``reader`` applied at ``start`` (0); it must stop exactly at ``end`` (the end of
    ``data``): bytes left over are ``reason="trailing_bytes"``.  The result and any error are
    those of decoding the copy ``data[start:end]``."""
    if data.__class__ is not bytes:
        data = _as_bytes(data)
    size = len(data)
    if end is None or end == size:
        if not 0 <= start <= size:
            raise UsageError(f"start {start} is outside the {size} bytes of data")
        return _read_span(reader, data, start, size)
    if not 0 <= start <= end <= size:
        raise UsageError(f"span {start}..{end} is outside the {size} bytes of data")
    # In place first.  Readers only move forward, so a value that ends exactly at `end` read
    # nothing beyond it and is what the copy would give; anything else (an error, a stop
    # elsewhere, a field that runs "to the end of the data") is decided on the copy itself.
    try:
        value, stop = _run(reader, data, start)
        if stop == end:
            return value
    except TLDecodeError:
        pass
    return _read_span(reader, data[start:end], 0, end - start)


SpanReader = Callable[[bytes, int, "int | None"], object]


def span_reader(reader: Reader) -> SpanReader:
    """``read(data, start=0, end=None)``: :func:`read_all` with ``reader``, with the fewest
    layers between the caller and the reader (what a session calls once per answer)."""

    def read(data: bytes, start: int = 0, end: int | None = None) -> object:
        if end is None or data.__class__ is not bytes or not 0 <= start <= end <= len(data):
            return read_all(reader, data, start, end)
        outer = _gzip_budget.get()
        try:
            value, stop = reader(data, start)
        except Exception:  # decided on the copy, which says what is wrong
            stop = -1
        finally:
            if _gzip_budget.get() is not outer:
                _gzip_budget.set(outer)
        if stop == end:  # readers move forward only: nothing beyond `end` was read
            return value
        return _read_span(reader, data[start:end], 0, end - start)

    return read


def _read_span(reader: Reader, data: bytes, pos: int, end: int) -> object:
    value, stop = _run(reader, data, pos)
    if stop != end:
        raise TLDecodeError(f"{end - stop} bytes after the TL value", reason="trailing_bytes")
    return value


# --- readers -----------------------------------------------------------------------------------

def read_boxed(data: bytes, pos: int) -> tuple[object, int]:
    """Any boxed value: its constructor number picks the reader."""
    return READERS[_U32(data, pos)[0]](data, pos + 4)


def bad_body_length(expected: int, got: int) -> TLDecodeError:
    return TLDecodeError(f"message body is {expected} bytes but its object {got}",
                         reason="bad_length")


def read_result_payload(data: bytes, pos: int) -> tuple[object, int]:
    """``rpc_result.result``: the rest of ``data``. Decoded as a boxed value when that works;
    otherwise (a bare ``Vector<long>`` result, say, which only the request can decode) the raw
    bytes, for :meth:`TLFunction.read_result`."""
    try:
        value, end = read_boxed(data, pos)
        if end == len(data):
            return value, end
    except (TLDecodeError, *_TRUNCATION_ERRORS):
        pass
    return data[pos:], len(data)


def _read_true(data: bytes, pos: int) -> tuple[object, int]:
    return True, pos


def _read_false(data: bytes, pos: int) -> tuple[object, int]:
    return False, pos


def bad_bool(number: int) -> TLDecodeError:
    return TLDecodeError(f"expected a Bool, got constructor {number:#010x}", reason="bad_bool")


def read_raw_bytes(data: bytes, pos: int) -> tuple[bytes, int]:
    n = data[pos]
    if n < 254:
        start = pos + 1
        end = pos + ((n + 4) & -4)
    elif n == 254:
        n = data[pos + 1] | data[pos + 2] << 8 | data[pos + 3] << 16
        start = pos + 4
        end = pos + ((n + 7) & -4)
    else:
        raise TLDecodeError("bytes length prefix 0xff is not valid TL", reason="bad_length")
    if end > len(data):
        raise TLDecodeError("truncated bytes", reason="truncated")
    return data[start:start + n], end


def read_raw_string(data: bytes, pos: int) -> tuple[str, int]:
    raw, end = read_raw_bytes(data, pos)
    return raw.decode("utf-8", "surrogateescape"), end


def inflate_in_budget(packed: bytes) -> bytes:
    """Inflate ``gzip_packed`` data against what the current top-level decode may still inflate."""
    budget = _gzip_budget.get()
    if budget is None:
        budget = [GZIP_MAX_SIZE]
        _gzip_budget.set(budget)
    data = inflate(packed, budget[0])
    budget[0] -= len(data)
    return data


def read_gzipped(data: bytes, pos: int, reader: Reader) -> tuple[object, int]:
    """The value inside a ``gzip_packed`` whose number ends at ``pos``, read by ``reader``."""
    packed, end = read_raw_bytes(data, pos)
    inner = inflate_in_budget(packed)
    value, inner_end = reader(inner, 0)
    if inner_end != len(inner):
        raise TLDecodeError(f"{len(inner) - inner_end} bytes after the value in gzip_packed",
                            reason="trailing_bytes")
    return value, end


def _read_gzip_packed(data: bytes, pos: int) -> tuple[object, int]:
    return read_gzipped(data, pos, read_boxed)


def _not_a_vector(number: int) -> TLDecodeError:
    return TLDecodeError(f"expected a vector, got constructor {number:#010x}", reason="bad_vector")


def _too_many(count: int) -> TLDecodeError:
    return TLDecodeError(f"vector of {count} items is longer than the data left",
                         reason="bad_vector")


def _read_boxed_items(data: bytes, pos: int) -> tuple[object, int]:
    """After ``vector#1cb5c415`` in a context of any type: a count, then boxed items."""
    count = _U32(data, pos)[0]
    pos += 4
    if count > (len(data) - pos) >> 2:
        raise _too_many(count)
    table = READERS
    items: list[object] = []
    append = items.append
    for _ in range(count):
        value, pos = table[_U32(data, pos)[0]](data, pos + 4)
        append(value)
    return items, pos


READERS[VECTOR_ID] = _read_boxed_items
READERS[BOOL_TRUE_ID] = _read_true
READERS[BOOL_FALSE_ID] = _read_false
READERS[GZIP_PACKED_ID] = _read_gzip_packed


# --- vector readers for fields and results -----------------------------------------------------

def _fixed_vector_reader(code: str, size: int, boxed: bool) -> Reader:
    header = 8 if boxed else 4

    def read(data: bytes, pos: int) -> tuple[object, int]:
        if boxed:
            number, count = _U32X2(data, pos)
            if number != VECTOR_ID:
                if number == GZIP_PACKED_ID:
                    return read_gzipped(data, pos + 4, read)
                raise _not_a_vector(number)
        else:
            count = _U32(data, pos)[0]
        pos += header
        if count > (len(data) - pos) // size:
            raise _too_many(count)
        return list(struct.unpack_from(f"<{count}{code}", data, pos)), pos + count * size

    return read


def _item_vector_reader(item: Reader, boxed: bool, min_size: int) -> Reader:
    header = 8 if boxed else 4

    def read(data: bytes, pos: int) -> tuple[object, int]:
        if boxed:
            number, count = _U32X2(data, pos)
            if number != VECTOR_ID:
                if number == GZIP_PACKED_ID:
                    return read_gzipped(data, pos + 4, read)
                raise _not_a_vector(number)
        else:
            count = _U32(data, pos)[0]
        pos += header
        if count * min_size > len(data) - pos:
            raise _too_many(count)
        items: list[object] = []
        append = items.append
        for _ in range(count):
            value, pos = item(data, pos)
            append(value)
        return items, pos

    return read


def _read_bool_item(data: bytes, pos: int) -> tuple[object, int]:
    number = _U32(data, pos)[0]
    if number == BOOL_TRUE_ID:
        return True, pos + 4
    if number == BOOL_FALSE_ID:
        return False, pos + 4
    if number == GZIP_PACKED_ID:
        return read_gzipped(data, pos + 4, _read_bool_item)
    raise bad_bool(number)


def _fixed_item_reader(code: str, size: int) -> Reader:
    unpack = struct.Struct("<" + code).unpack_from

    def read(data: bytes, pos: int) -> tuple[object, int]:
        return unpack(data, pos)[0], pos + size

    return read


_vector_readers: dict[str, Reader] = {}


def item_reader(kind: Kind, schema_name: str) -> tuple[Reader, int]:
    """A reader for one value of ``kind`` (of schema ``schema_name``) and the fewest bytes such
    a value takes."""
    from .kinds import FIXED_FORMATS

    tag = kind.tag
    if tag == "bool":
        return _read_bool_item, 4
    if tag in FIXED_FORMATS:
        code, size = FIXED_FORMATS[tag]
        return _fixed_item_reader(code, size), size
    if tag == "string":
        return read_raw_string, 4
    if tag == "bytes":
        return read_raw_bytes, 4
    if tag == "boxed" and kind.type_name is not None:
        return typed_reader(schema_name, kind.type_name), 4
    if tag in ("object", "query", "result"):
        return read_boxed, 4
    if tag in ("vector", "bare_vector"):
        return vector_reader(kind, schema_name), 4
    if tag == "bare" and kind.target is not None:
        from .registry import bare_reader

        return bare_reader(kind.target), 1
    raise ValueError(f"no reader for {kind}")


def vector_reader(kind: Kind, schema_name: str) -> Reader:
    """The reader of a ``Vector<T>`` (``vector<T>`` for ``bare_vector``) field or result of
    schema ``schema_name``."""
    item = kind.item
    if item is None:
        raise ValueError(f"{kind} is not a vector kind")
    key = f"{schema_name}/{kind}/{item.target.id if item.target else ''}"
    cached = _vector_readers.get(key)
    if cached is not None:
        return cached
    boxed = kind.tag == "vector"
    from .kinds import FIXED_FORMATS

    reader: Reader
    if item.tag in ("int", "long", "double", "nat"):
        code, size = FIXED_FORMATS[item.tag]
        reader = _fixed_vector_reader(code, size, boxed)
    else:
        one, min_size = item_reader(item, schema_name)
        reader = _item_vector_reader(one, boxed, min_size)
    return _vector_readers.setdefault(key, reader)
