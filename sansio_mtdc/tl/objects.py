"""Base classes of every generated TL class.

The classes themselves are made from the schema on first use (:mod:`.registry`); what they share
lives here: equality by type and fields, a readable ``repr``, ``to_dict`` and, for functions,
decoding the result that answers them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from .decoding import decode, read_all

if TYPE_CHECKING:
    from .decoding import Reader
    from .kinds import Field
    from .schema import Combinator

__all__ = ["TLFunction", "TLObject"]

_REPR_BYTES_LIMIT = 64


class TLObject:
    """A value of a TL constructor (or, as :class:`TLFunction`, a function call).

    ``bytes(obj)`` is its boxed serialization. ``CONSTRUCTOR_ID`` is the constructor number,
    ``TL_NAME`` the TL name (``"dcOption"``, ``"help.getConfig"``), ``TL_TYPE`` the type it
    belongs to (``"DcOption"``; for a function the result type, ``"Vector<long>"``, ``"X"``).
    """

    __slots__ = ()

    CONSTRUCTOR_ID: ClassVar[int] = 0
    TL_NAME: ClassVar[str] = ""
    TL_TYPE: ClassVar[str] = ""
    #: the schema's fields, including the computed ones (``#`` flags) whose ``attr`` is None
    _TL_FIELDS: ClassVar[tuple[Field, ...]] = ()
    #: attribute names, in wire order
    _TL_ATTRS: ClassVar[tuple[str, ...]] = ()
    #: attributes that repr leaves out when unset (None / False)
    _TL_OPTIONAL: ClassVar[frozenset[str]] = frozenset()
    _TL_COMBINATOR: ClassVar[Combinator | None] = None
    #: the generated Python source of this class's methods, for reading and debugging
    _TL_SOURCE: ClassVar[str] = ""
    #: reader of the bare value (what follows the constructor number)
    _TL_READ: ClassVar[Reader]
    #: the serialization as unjoined pieces when a ``bytes`` field is large, else as bytes
    #: (generated for functions with a ``bytes`` field)
    _TL_PIECES: ClassVar[Callable[[Any], bytes | list[bytes]] | None] = None

    def __bytes__(self) -> bytes:
        raise NotImplementedError  # every generated class defines it

    def pieces(self) -> list[bytes]:
        """``bytes(self)`` as a list of pieces whose concatenation it is.  For a request with a
        ``bytes`` field (a file part...) a large value is one of the pieces, the very object
        given, not a copy: what a session keeps to send the request again, and joins only into
        the buffer it encrypts."""
        make = type(self)._TL_PIECES
        made = self.__bytes__() if make is None else make(self)
        return [made] if isinstance(made, bytes) else made

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, a) == getattr(other, a) for a in self._TL_ATTRS)

    __hash__ = None  # type: ignore[assignment]  # mutable values

    def __repr__(self) -> str:
        optional = self._TL_OPTIONAL
        parts = []
        for attr in self._TL_ATTRS:
            value = getattr(self, attr, None)
            if attr in optional and (value is None or value is False):
                continue
            parts.append(f"{attr}={_short_repr(value)}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def to_dict(self) -> dict[str, Any]:
        """``{"_": TL name, field: value, ...}``, nested objects as dicts too."""
        out: dict[str, Any] = {"_": self.TL_NAME}
        for attr in self._TL_ATTRS:
            out[attr] = _plain(getattr(self, attr, None))
        return out


class TLFunction(TLObject):
    """A TL function: a request. ``read_result`` decodes the answer found in ``rpc_result``."""

    __slots__ = ()

    #: the ``!X`` field of a wrapper such as invokeWithLayer, whose result is the wrapped query's
    _TL_QUERY_ATTR: ClassVar[str | None] = None
    #: reader of the result when the result type is not a type variable
    _TL_RESULT_READER: ClassVar[Reader | None] = None

    def wrapped(self) -> object | None:
        """The query this wrapper carries (invokeWithLayer, initConnection, invokeAfterMsg,
        invokeWithoutUpdates...: any function with a ``!X`` field), or None if it is not a
        wrapper."""
        query_attr = self._TL_QUERY_ATTR
        return None if query_attr is None else getattr(self, query_attr)

    def read_result(self, data: bytes | bytearray | memoryview, start: int = 0,
                    end: int | None = None) -> object:
        """Decode ``data``, the result payload of this request (all of it must be used); or,
        with ``start`` and ``end``, the result that ``data[start:end]`` holds, read in place.

        Boxed results decode as any boxed value; bare ones (``Vector<long>``...) need the
        request's result type, which is why this is a method. Wrappers delegate to the wrapped
        query; a foreign query (any object with ``__bytes__``) gets a generic boxed decode.
        """
        query_attr = self._TL_QUERY_ATTR
        if query_attr is not None:
            query = getattr(self, query_attr)
            if isinstance(query, TLFunction):
                return query.read_result(data, start, end)
            return decode(data, start, end)
        reader = type(self)._TL_RESULT_READER
        if reader is None:
            return decode(data, start, end)
        return read_all(reader, data, start, end)


def _short_repr(value: object) -> str:
    if isinstance(value, (bytes, bytearray)) and len(value) > _REPR_BYTES_LIMIT:
        return f"<{len(value)} bytes {bytes(value[:16]).hex()}...>"
    return repr(value)


def _plain(value: object) -> object:
    if isinstance(value, TLObject):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
