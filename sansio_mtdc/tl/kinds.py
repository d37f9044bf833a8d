"""What a field's TL type means for encoding: the value kinds the code generator, the value
checks and the test strategies share.

A :class:`Kind` is a :class:`~sansio_mtdc.tl.schema.TypeRef` resolved against its schema:
``%Message`` becomes "the bare constructor ``message``", ``Vector<long>`` "a boxed vector of
bare longs", ``!X`` "any query", and so on.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass

from .schema import Combinator, Param, Schema, SchemaError, TypeRef

__all__ = ["FIXED_FORMATS", "Field", "Kind", "fields_of", "resolve"]

#: struct format and size of the kinds with a fixed size
FIXED_FORMATS: dict[str, tuple[str, int]] = {
    "int": ("i", 4),
    "long": ("q", 8),
    "double": ("d", 8),
    "nat": ("I", 4),
    "bool": ("I", 4),
    "int128": ("16s", 16),
    "int256": ("32s", 32),
}

_BUILTIN = {"int", "long", "double", "int128", "int256", "string", "bytes", "true"}


@dataclass(frozen=True, slots=True)
class Kind:
    """``tag`` is one of: ``int long double nat int128 int256 string bytes true bool``
    (values), ``vector`` / ``bare_vector`` (with ``item``), ``boxed`` (any constructor of
    ``type_name``), ``bare`` (the constructor ``target`` without its number), ``object`` (any
    boxed value: ``Object`` or a type variable), ``query`` (``!X``: a function to run) and
    ``result`` (``rpc_result.result``: a boxed value, or raw bytes when it cannot be decoded
    without knowing the request)."""

    tag: str
    item: Kind | None = None
    type_name: str | None = None
    target: Combinator | None = None

    @property
    def is_fixed(self) -> bool:
        return self.tag in FIXED_FORMATS

    def __str__(self) -> str:
        if self.item is not None:
            return f"{self.tag}<{self.item}>"
        if self.target is not None:
            return f"%{self.target.name}"
        if self.type_name is not None:
            return self.type_name
        return self.tag


@dataclass(frozen=True, slots=True)
class Field:
    """A param of a combinator as the Python class sees it.

    ``attr`` is the attribute name (the TL name, plus ``_`` after a Python keyword), or ``None``
    for fields that are computed on encode: ``#`` bit sets and the ``bytes`` length in front of
    ``message``'s body.
    """

    param: Param
    kind: Kind
    attr: str | None
    length_of_next: bool = False

    @property
    def optional(self) -> bool:
        return self.param.flag_field is not None


def resolve(ref: TypeRef, schema: Schema, generics: frozenset[str] = frozenset()) -> Kind:
    """The kind of a type written in ``schema`` (``generics``: the combinator's ``{X:Type}``)."""
    name = ref.name
    if ref.bang:
        return Kind("query")
    if name in generics:
        return Kind("object")
    if name == "#":
        return Kind("nat")
    if name in _BUILTIN:
        return Kind(name)
    if name == "Bool":
        return Kind("bool")
    if name == "Object":
        return Kind("object")
    if name in ("Vector", "vector"):
        if len(ref.args) != 1:
            raise SchemaError(f"{name} needs one type argument: {ref}")
        item = resolve(ref.args[0], schema, generics)
        return Kind("vector" if name == "Vector" else "bare_vector", item=item)
    if ref.args:
        raise SchemaError(f"unsupported polymorphic type {ref}")
    if ref.bare:
        if ref.percent:
            constructors = schema.constructors_of(name)
            if len(constructors) != 1:
                raise SchemaError(f"%{name} needs exactly one constructor, {name} has "
                                  f"{len(constructors)}")
            return Kind("bare", target=constructors[0])
        target = schema.by_name(name)
        if target is None or target.is_function:
            raise SchemaError(f"bare type {name} names no constructor")
        return Kind("bare", target=target)
    if name in ("Int", "Long", "Double", "String"):
        raise SchemaError(f"boxed built-in type {name} is not supported")
    return Kind("boxed", type_name=name)


def attr_name(tl_name: str) -> str:
    """Python attribute for a TL field name: a keyword gets a trailing ``_``."""
    return tl_name + "_" if keyword.iskeyword(tl_name) else tl_name


def fields_of(combinator: Combinator, schema: Schema) -> tuple[Field, ...]:
    """The fields of ``combinator`` with their kinds, in wire order."""
    generics = frozenset(g for g, _ in combinator.generic_params)
    params = combinator.params
    out: list[Field] = []
    for index, param in enumerate(params):
        kind = resolve(param.type, schema, generics)
        if combinator.name == "rpc_result" and param.name == "result" and kind.tag == "object":
            kind = Kind("result")
        if kind.tag == "true" and param.flag_field is None:
            raise SchemaError(f"{combinator.name}.{param.name}: 'true' outside a flag")
        length_of_next = (
            param.name == "bytes" and kind.tag == "int" and param.flag_field is None
            and index + 1 < len(params) and params[index + 1].flag_field is None
            and resolve(params[index + 1].type, schema, generics).tag == "object"
        )
        computed = kind.tag == "nat" and any(p.flag_field == param.name for p in params)
        attr = None if computed or length_of_next else attr_name(param.name)
        out.append(Field(param, kind, attr, length_of_next))
    return tuple(out)
