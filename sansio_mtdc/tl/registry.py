"""The bundled schemas and the classes made from them, on first use.

Nothing here runs at import: a schema is parsed the first time a class of it or a constructor
number it owns is needed, and a class is generated (:mod:`.codegen`) the first time it is
named or met in data. Building is publish-once (``dict.setdefault``), so two threads racing to
build the same class end up sharing one.
"""

from __future__ import annotations

import linecache
import os
from typing import Any

from ..errors import TLDecodeError, UsageError
from . import codegen, decoding, schemas
from .kinds import Field, Kind, fields_of, resolve
from .objects import TLFunction, TLObject
from .schema import Combinator, Schema, parse_schema

__all__ = [
    "SCHEMA_NAMES",
    "Namespace",
    "bare_reader",
    "class_for",
    "find_combinator",
    "namespace",
    "reader_for_id",
    "schema",
    "typed_reader_for_id",
]

#: bundled schemas, in the order constructor numbers are looked up
SCHEMA_NAMES = ("mtproto", "api")
_SCHEMA_FILES = {"mtproto": "mtproto.tl", "api": "api.tl"}
_MODULES = {"mtproto": "sansio_mtdc.tl.mtproto", "api": "sansio_mtdc.tl.api"}


_parsed: dict[str, Schema] = {}


class _SchemaClasses:
    """One bundled schema: its parse and the classes built from it so far."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._schema: Schema | None = None
        self._classes: dict[tuple[str, bool], type[TLObject]] = {}
        self._fields: dict[tuple[str, bool], tuple[Field, ...]] = {}
        #: (kind, namespace or "", class name) -> combinator
        self._index: dict[tuple[str, str, str], Combinator] | None = None
        self._namespaces: dict[str, frozenset[str]] = {}

    @property
    def schema(self) -> Schema:
        if self._schema is None:
            path = os.path.join(os.path.dirname(schemas.__file__), _SCHEMA_FILES[self.name])
            with open(path, encoding="utf-8") as file:
                parsed = parse_schema(file.read())
            # publish once: a racing parse is dropped, so every class sees one Schema
            self._schema = _parsed.setdefault(self.name, parsed)
        return self._schema

    def owns(self, combinator: Combinator) -> bool:
        if self._schema is None:
            return False
        found = (self._schema.function(combinator.name) if combinator.is_function
                 else self._schema.by_name(combinator.name))
        return found is combinator or found == combinator

    def index(self) -> dict[tuple[str, str, str], Combinator]:
        if self._index is None:
            index: dict[tuple[str, str, str], Combinator] = {}
            spaces: dict[str, set[str]] = {"types": set(), "functions": set()}
            for c in self.schema:
                kind = "functions" if c.is_function else "types"
                index[(kind, c.namespace or "", c.class_name)] = c
                if c.namespace:
                    spaces[kind].add(c.namespace)
            self._namespaces = {k: frozenset(v) for k, v in spaces.items()}
            self._index = index
        return self._index

    def namespaces(self, kind: str) -> frozenset[str]:
        self.index()
        return self._namespaces[kind]

    def fields_for(self, combinator: Combinator) -> tuple[Field, ...]:
        key = (combinator.name, combinator.is_function)
        found = self._fields.get(key)
        if found is None:
            found = self._fields.setdefault(key, fields_of(combinator, self.schema))
        return found

    def class_for(self, combinator: Combinator) -> type[TLObject]:
        key = (combinator.name, combinator.is_function)
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes.setdefault(key, self._build(combinator))
            if self.schema.by_id(combinator.id) is combinator:
                decoding.READERS.setdefault(combinator.id, cls._TL_READ)
        return cls

    def bare_reader(self, combinator: Combinator) -> decoding.Reader:
        return self.class_for(combinator)._TL_READ

    def vector_reader(self, kind: Kind) -> decoding.Reader:
        return decoding.vector_reader(kind, self.name)

    def typed_table(self, type_name: str) -> dict[int, decoding.Reader]:
        return decoding.typed_table(self.name, type_name)

    def _build(self, combinator: Combinator) -> type[TLObject]:
        fields = self.fields_for(combinator)
        code = codegen.generate(combinator, fields, self)
        kind = "functions" if combinator.is_function else "types"
        qualname = ".".join(p for p in (kind, combinator.namespace, combinator.class_name) if p)
        filename = f"<tl {self.name}.{qualname}>"
        namespace = code.namespace
        exec(compile(code.source, filename, "exec"), namespace)
        linecache.cache[filename] = (len(code.source), None,
                                     code.source.splitlines(keepends=True), filename)
        attrs = tuple(f.attr for f in fields if f.attr is not None)
        body: dict[str, Any] = {
            "__slots__": attrs,
            "__module__": _MODULES[self.name],
            "__qualname__": qualname,
            "__doc__": f"TL {'function' if combinator.is_function else 'constructor'}: "
                       f"{combinator.line}",
            "__init__": namespace["__init__"],
            "__bytes__": namespace["__bytes__"],
            "_TL_READ": staticmethod(namespace["_read"]),  # type: ignore[arg-type]
            "CONSTRUCTOR_ID": combinator.id,
            "TL_NAME": combinator.name,
            "TL_TYPE": str(combinator.result),
            "_TL_FIELDS": fields,
            "_TL_ATTRS": attrs,
            "_TL_OPTIONAL": frozenset(f.attr for f in fields if f.attr and f.optional),
            "_TL_COMBINATOR": combinator,
            "_TL_SOURCE": code.source,
        }
        if "_tl_pieces" in namespace:
            body["_TL_PIECES"] = namespace["_tl_pieces"]
        base: type[TLObject] = TLObject
        if combinator.is_function:
            base = TLFunction
            body.update(self._result_attrs(combinator, fields))
        cls = type(combinator.class_name, (base,), body)
        namespace["_C"] = cls
        for method in ("__init__", "__bytes__", "_read", "_tl_pieces"):
            if method not in namespace:
                continue
            function = namespace[method]
            function.__qualname__ = f"{qualname}.{method}"  # type: ignore[attr-defined]
        return cls

    def _result_attrs(self, combinator: Combinator, fields: tuple[Field, ...]) -> dict[str, Any]:
        generics = frozenset(g for g, _ in combinator.generic_params)
        if combinator.result.name in generics:
            query = next((f.attr for f in fields
                          if f.param.type.bang and f.param.type.name == combinator.result.name),
                         None)
            return {"_TL_QUERY_ATTR": query}
        kind = resolve(combinator.result, self.schema, generics)
        reader: decoding.Reader | None = None
        if kind.tag in ("vector", "bare_vector"):
            reader = decoding.vector_reader(kind, self.name)
        elif kind.tag == "bare" and kind.target is not None:
            reader = self.bare_reader(kind.target)
        elif kind.tag == "boxed" and kind.type_name is not None:
            reader = decoding.typed_reader(self.name, kind.type_name)
        elif kind.tag == "bool":
            reader, _ = decoding.item_reader(kind, self.name)
        return {} if reader is None else {"_TL_RESULT_READER": staticmethod(reader)}

    def lookup(self, kind: str, space: str, name: str) -> Combinator | None:
        return self.index().get((kind, space, name))


_SCHEMAS = {name: _SchemaClasses(name) for name in SCHEMA_NAMES}


def schema(name: str) -> Schema:
    """The parsed bundled schema ``"api"`` or ``"mtproto"``."""
    if name not in _SCHEMAS:
        raise UsageError(f"no bundled schema {name!r}; there are {', '.join(SCHEMA_NAMES)}")
    return _SCHEMAS[name].schema


def _owner(combinator: Combinator) -> _SchemaClasses:
    for classes in _SCHEMAS.values():
        if classes.owns(combinator):
            return classes
    raise UsageError(f"{combinator.name} is not from a bundled schema")


def class_for(combinator: Combinator) -> type[TLObject]:
    """The class of a combinator of a bundled schema."""
    return _owner(combinator).class_for(combinator)


def bare_reader(combinator: Combinator) -> decoding.Reader:
    return class_for(combinator)._TL_READ


def find_combinator(number: int) -> tuple[str, Combinator] | None:
    """``(schema name, combinator)`` that constructor number ``number`` means on the wire."""
    for name, classes in _SCHEMAS.items():
        found = classes.schema.by_id(number)
        if found is not None:
            return name, found
    return None


def reader_for_id(number: int) -> decoding.Reader:
    """Reader for the value after constructor number ``number``; builds its class if needed."""
    found = find_combinator(number)
    if found is None:
        raise TLDecodeError(f"unknown constructor {number:#010x}", reason="unknown_constructor")
    name, combinator = found
    reader = _SCHEMAS[name].class_for(combinator)._TL_READ
    return decoding.READERS.setdefault(number, reader)


def typed_reader_for_id(schema_name: str, type_name: str, number: int) -> decoding.Reader:
    """Reader for constructor ``number`` where schema ``schema_name`` expects ``type_name``."""
    classes = _SCHEMAS[schema_name]
    combinator = classes.schema.by_id(number)
    if combinator is None or combinator.is_function or combinator.result.name != type_name:
        if find_combinator(number) is None:
            raise TLDecodeError(f"unknown constructor {number:#010x}",
                                reason="unknown_constructor")
        raise TLDecodeError(f"constructor {number:#010x} is not a {type_name}",
                            reason="wrong_type")
    return classes.class_for(combinator)._TL_READ


class Namespace:
    """``api.types``, ``api.types.auth``, ``mtproto.functions``...: classes appear as
    attributes on first access."""

    def __init__(self, schema_name: str, kind: str, space: str = "") -> None:
        self._schema_name = schema_name
        self._kind = kind
        self._space = space

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        classes = _SCHEMAS[self._schema_name]
        value: Any
        if not self._space and name in classes.namespaces(self._kind):
            value = Namespace(self._schema_name, self._kind, name)
        else:
            combinator = classes.lookup(self._kind, self._space, name)
            if combinator is None:
                raise AttributeError(f"{self!r} has no {name!r}")
            value = classes.class_for(combinator)
        return self.__dict__.setdefault(name, value)

    def __dir__(self) -> list[str]:
        classes = _SCHEMAS[self._schema_name]
        names = {n for kind, space, n in classes.index() if kind == self._kind
                 and space == self._space}
        if not self._space:
            names |= classes.namespaces(self._kind)
        return sorted(names)

    def __repr__(self) -> str:
        path = ".".join(p for p in (self._schema_name, self._kind, self._space) if p)
        return f"<TL namespace {path}>"

    def __reduce__(self) -> tuple[Any, ...]:
        return (namespace, (self._schema_name, self._kind, self._space))


_namespaces: dict[tuple[str, str, str], Namespace] = {}


def namespace(schema_name: str, kind: str, space: str = "") -> Namespace:
    """The (shared) namespace object for ``schema_name`` ``kind`` (``"types"``/``"functions"``)."""
    key = (schema_name, kind, space)
    found = _namespaces.get(key)
    if found is None:
        if space:
            found = getattr(namespace(schema_name, kind), space)
            assert isinstance(found, Namespace)
        else:
            found = Namespace(schema_name, kind)
        found = _namespaces.setdefault(key, found)
    return found
