"""Say which field made an encode fail.

The generated encoders do no checks of their own beyond what ``struct`` and the bytes operations
already do, so that encoding stays fast; when one of those raises, :func:`explain_encode_error`
walks the object's fields to find the culprit and raises a :class:`UsageError` naming the class
and the field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from ..errors import UsageError
from .codec import MAX_BYTES_LENGTH

if TYPE_CHECKING:
    from .kinds import Kind
    from .objects import TLObject

__all__ = ["check_value", "explain_encode_error", "find_problem"]

_INT_RANGES = {
    "int": (-(1 << 31), 1 << 31),
    "long": (-(1 << 63), 1 << 63),
    "nat": (0, 1 << 32),
}


def explain_encode_error(obj: TLObject, exc: BaseException) -> NoReturn:
    """Raise the :class:`UsageError` that explains why ``obj`` could not be encoded."""
    name = type(obj).__name__
    problem = find_problem(obj)
    if problem is not None:
        raise UsageError(f"{name}.{problem}") from exc
    raise UsageError(f"{name} cannot be serialized: {exc!r}") from exc


def find_problem(obj: TLObject) -> str | None:
    """``"field: what is wrong"`` for the first field of ``obj`` that cannot be encoded."""
    fields = type(obj)._TL_FIELDS
    set_bits: dict[tuple[str, int], str] = {}
    for field in fields:
        attr = field.attr
        if attr is None:
            continue
        try:
            value = getattr(obj, attr)
        except AttributeError:
            return f"{attr} is not set"
        param = field.param
        if param.flag_field is not None and param.flag_bit is not None:
            if field.kind.tag == "true":
                if value:
                    set_bits.setdefault((param.flag_field, param.flag_bit), attr)
                continue
            if value is None:
                continue
            set_bits.setdefault((param.flag_field, param.flag_bit), attr)
        problem = check_value(field.kind, value)
        if problem is not None:
            return f"{attr}: {problem}"
    for field in fields:
        param = field.param
        if (field.attr is None or param.flag_field is None or param.flag_bit is None
                or field.kind.tag == "true"):
            continue
        setter = set_bits.get((param.flag_field, param.flag_bit))
        if setter is not None and getattr(obj, field.attr) is None:
            return (f"{field.attr} must be set too: {setter} sets "
                    f"{param.flag_field}.{param.flag_bit}, which carries both")
    return None


def check_value(kind: Kind, value: object) -> str | None:
    """What is wrong with ``value`` as a value of ``kind``, or None."""
    tag = kind.tag
    if tag in _INT_RANGES:
        if not isinstance(value, int):
            return f"expected an int, got {type(value).__name__}"
        low, high = _INT_RANGES[tag]
        if not low <= value < high:
            return f"{value} is out of range for TL {tag}"
        return None
    if tag == "double":
        if not isinstance(value, (int, float)):
            return f"expected a float, got {type(value).__name__}"
        try:
            float(value)
        except OverflowError:
            return f"{value} is out of range for a double"
        return None
    if tag in ("int128", "int256"):
        size = 16 if tag == "int128" else 32
        if not isinstance(value, (bytes, bytearray)):
            return f"expected {size} bytes, got {type(value).__name__}"
        if len(value) != size:
            return f"expected {size} bytes, got {len(value)}"
        return None
    if tag == "string":
        if not isinstance(value, str):
            return f"expected a str, got {type(value).__name__}"
        try:
            encoded = value.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError as exc:
            return f"cannot be encoded as UTF-8 ({exc.reason} at {exc.start})"
        return _length_problem(len(encoded))
    if tag == "bytes":
        if not isinstance(value, (bytes, bytearray, memoryview)):
            return f"expected bytes, got {type(value).__name__}"
        return _length_problem(len(value))
    if tag == "bool":
        if value is not True and value is not False:
            return f"expected True or False, got {value!r}"
        return None
    if tag == "true":
        return None
    if tag in ("boxed", "object", "query", "result"):
        return _object_problem(kind, value)
    if tag in ("vector", "bare_vector"):
        if not isinstance(value, (list, tuple)):
            return f"expected a list, got {type(value).__name__}"
        assert kind.item is not None
        for index, item in enumerate(value):
            problem = check_value(kind.item, item)
            if problem is not None:
                return f"item {index}: {problem}"
        return None
    if tag == "bare":
        from .registry import class_for

        assert kind.target is not None
        cls = class_for(kind.target)
        if type(value) is not cls:
            return f"expected a {cls.__name__}, got {type(value).__name__}"
        problem = find_problem(value)
        return None if problem is None else f"{cls.__name__}.{problem}"
    return f"no encoding for {kind}"


def _length_problem(length: int) -> str | None:
    if length > MAX_BYTES_LENGTH:
        return f"{length} bytes is longer than TL allows ({MAX_BYTES_LENGTH})"
    return None


def _object_problem(kind: Kind, value: object) -> str | None:
    from .objects import TLObject

    if kind.tag == "boxed":
        if not isinstance(value, TLObject):
            return f"expected a {kind.type_name} (a TL object), got {type(value).__name__}"
        if kind.type_name != value.TL_TYPE:
            return f"expected a {kind.type_name}, got {type(value).__name__} ({value.TL_TYPE})"
        return None
    if isinstance(value, TLObject):
        return None
    if kind.tag in ("object", "query", "result"):
        if isinstance(value, bool):
            return None
        if isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                problem = _object_problem(kind, item)
                if problem is not None:
                    return f"item {index}: {problem}"
            return None
    if not callable(getattr(type(value), "__bytes__", None)):
        return f"expected a TL object (anything with __bytes__), got {type(value).__name__}"
    return None
