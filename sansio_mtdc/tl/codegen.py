"""Python source for one TL class: ``__init__``, ``__bytes__`` and the reader.

Specialised code is what makes the codec fast: runs of fixed-size fields become one
``struct.pack``/``unpack_from`` call, flags are one expression, strings are inlined, and every
value lives in a local variable. The source is kept on the class (``_TL_SOURCE``) and registered
with :mod:`linecache`, so tracebacks show the generated lines.

The encoder checks only what would otherwise slip through silently (the TL type of nested
objects, the size of int128/int256, fields that share a set flag bit); everything else is left
to ``struct`` and the bytes operations, and any failure is handed to
:func:`.validation.explain_encode_error`, which names the field.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Protocol

from ..errors import TLDecodeError, UsageError
from . import decoding, encoding, validation
from .codec import BOOL_FALSE_ID, BOOL_TRUE_ID, VECTOR_ID
from .kinds import FIXED_FORMATS, Field, Kind
from .objects import TLObject
from .schema import Combinator

__all__ = ["Binder", "ClassCode", "generate"]

_ENCODE_ERRORS = (TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError,
                  struct.error)
#: fields of one boxed type: a TL object of ours of that type (as decoding gives), checked by
#: its TL_TYPE and encoded with its own __bytes__
_OBJECT_TAGS = ("boxed",)
#: fields that take any boxed value (a bool or a list too): encoded with object_bytes()
_LOOSE_OBJECT_TAGS = ("object", "query", "result")
_NUMBER_TAGS = ("int", "long", "double", "nat")
#: a bytes field at least this long makes ``_tl_pieces`` return pieces rather than bytes
PIECES_MIN = 16 << 10
_RPC_RESULT_ID = 0xF35C6D01


class Binder(Protocol):
    """What the generator needs from the registry: other classes and readers."""

    def class_for(self, combinator: Combinator) -> type: ...

    def fields_for(self, combinator: Combinator) -> tuple[Field, ...]: ...

    def bare_reader(self, combinator: Combinator) -> decoding.Reader: ...

    def vector_reader(self, kind: Kind) -> decoding.Reader: ...

    def typed_table(self, type_name: str) -> dict[int, decoding.Reader]: ...


@dataclass
class ClassCode:
    """Generated source defining ``__init__``, ``__bytes__`` and ``_read``; ``namespace`` holds
    the globals it needs (``_C``, the class itself, is added once the class exists)."""

    source: str
    namespace: dict[str, object] = field(default_factory=dict)


def _wrong(value: object) -> bytes:
    raise TypeError(f"wrong TL type: {type(value).__name__}")


def _truncated() -> TLDecodeError:
    return TLDecodeError("truncated TL data", reason="truncated")


def _bad_length() -> TLDecodeError:
    return TLDecodeError("bytes length prefix 0xff is not valid TL", reason="bad_length")


_BASE_NAMESPACE: dict[str, object] = {
    "_pack": struct.pack,
    "_PI": struct.Struct("<I").pack,
    "_U1": struct.Struct("<I").unpack_from,
    "_SP": encoding.SHORT_PREFIX,
    "_Z": encoding.ZEROS,
    "_BOOLS": encoding.BOOL_NUMBERS,
    "_OB": encoding.object_bytes,
    "_TLO": TLObject,
    "_R": decoding.READERS,
    "_RESULT": decoding.read_result_payload,
    "_bad_body": decoding.bad_body_length,
    "_bad_bool": decoding.bad_bool,
    "_truncated": _truncated,
    "_bad_length": _bad_length,
    "_new": object.__new__,
    "_wrong": _wrong,
    "_explain": validation.explain_encode_error,
    "_UsageError": UsageError,
    "_ENCODE_ERRORS": _ENCODE_ERRORS,
}


class _Names:
    """Fresh local names and the constants the source refers to."""

    def __init__(self, binder: Binder) -> None:
        self.binder = binder
        self.namespace: dict[str, object] = dict(_BASE_NAMESPACE)
        self._count = 0
        self._structs: dict[tuple[str, str], str] = {}
        self._consts: dict[int, str] = {}

    def fresh(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def const(self, prefix: str, value: object) -> str:
        known = self._consts.get(id(value))
        if known is not None:
            return known
        name = self.fresh(prefix)
        self.namespace[name] = value
        self._consts[id(value)] = name
        return name

    def struct(self, fmt: str, method: str) -> str:
        key = (fmt, method)
        name = self._structs.get(key)
        if name is None:
            name = self.fresh("_P" if method == "pack" else "_U")
            self.namespace[name] = getattr(struct.Struct(fmt), method)
            self._structs[key] = name
        return name


class _Block:
    """Lines of one function, with a pending run of fixed-size values that is written as one
    struct call when something else comes (or a block opens or closes)."""

    def __init__(self, names: _Names, depth: int) -> None:
        self.names = names
        self.lines: list[str] = []
        self.depth = depth
        self.run: list[tuple[str, str]] = []
        self.after_run: list[str] = []

    def line(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)

    def flush(self) -> None:
        raise NotImplementedError

    def open(self, header: str) -> None:
        self.flush()
        self.line(header)
        self.depth += 1

    def close(self) -> None:
        self.flush()
        self.depth -= 1


class _EncodeBlock(_Block):
    pieces = False  # making _tl_pieces, which notes a large bytes field in ``big``

    def fixed(self, code: str, expr: str) -> None:
        self.run.append((code, expr))

    def flush(self) -> None:
        if self.run:
            fmt = "<" + "".join(code for code, _ in self.run)
            args = ", ".join(expr for _, expr in self.run)
            self.run = []
            self.line(f"out.append({self.names.struct(fmt, 'pack')}({args}))")

    def emit(self, expr: str) -> None:
        self.flush()
        self.line(f"out.append({expr})")


class _ReadBlock(_Block):
    uses_length = False

    def fixed(self, code: str, var: str, *after: str) -> None:
        self.run.append((code, var))
        self.after_run.extend(after)

    def flush(self) -> None:
        if self.run:
            fmt = "<" + "".join(code for code, _ in self.run)
            names = ", ".join(var for _, var in self.run)
            self.run = []
            self.line(f"{names}, = {self.names.struct(fmt, 'unpack_from')}(data, pos)")
            self.line(f"pos += {struct.calcsize(fmt)}")
            after, self.after_run = self.after_run, []
            for text in after:
                self.line(text)


def generate(combinator: Combinator, fields: tuple[Field, ...], binder: Binder) -> ClassCode:
    names = _Names(binder)
    attrs = [f for f in fields if f.attr is not None]
    source: list[str] = []
    source += _init_source(attrs)
    source += _encoder_source(_encoder_body(combinator, fields, names))
    if combinator.is_function and any(f.kind.tag == "bytes" for f in attrs):
        source += _pieces_source(_encoder_body(combinator, fields, names, pieces=True))
    source += _reader_source(fields, names)
    return ClassCode("\n".join(source) + "\n", names.namespace)


# --- __init__ ----------------------------------------------------------------------------------

def _init_source(attrs: list[Field]) -> list[str]:
    if not attrs:
        return ["def __init__(_o):", "    pass", ""]
    params = []
    for f in attrs:
        if f.optional:
            params.append(f"{f.attr}={'False' if f.kind.tag == 'true' else 'None'}")
        else:
            params.append(f"{f.attr}")
    lines = [f"def __init__(_o, *, {', '.join(params)}):"]
    lines += [f"    _o.{f.attr} = {f.attr}" for f in attrs]
    return [*lines, ""]


# --- __bytes__ ---------------------------------------------------------------------------------

def _encoder_body(combinator: Combinator, fields: tuple[Field, ...], names: _Names, *,
                  pieces: bool = False) -> list[str]:
    """The lines that fill ``out`` with the pieces of the serialization (``pieces``: and set
    ``big`` when a bytes field is at least :data:`PIECES_MIN` long)."""
    block = _EncodeBlock(names, 2)
    block.pieces = pieces
    if pieces:
        block.line("big = False")
    block.line("out = []")
    _encode_object(fields, "_o", block, combinator.id)
    block.flush()
    body = block.lines
    first = 2 if pieces else 1
    if len(body) > first and body[first].startswith("        out.append("):
        body = [*body[:first - 1],
                "        out = [" + body[first].strip()[len("out.append("):-1] + "]",
                *body[first + 1:]]
    return body


def _wrapped(name: str, body: list[str]) -> list[str]:
    return [
        f"def {name}(_o):",
        "    try:",
        *body,
        "    except _UsageError:",
        "        raise",
        "    except _ENCODE_ERRORS as exc:",
        "        _explain(_o, exc)",
        "",
    ]


def _encoder_source(body: list[str]) -> list[str]:
    if len(body) == 1 and body[0].startswith("        out = ["):
        # `out = [x]` and nothing else: return x itself
        return _wrapped("__bytes__", ["        return (" + body[0].strip()[len("out = ["):-1]
                                      + ")"])
    return _wrapped("__bytes__", [*body, "        return b''.join(out)"])


def _pieces_source(body: list[str]) -> list[str]:
    """``_tl_pieces``: the same pieces, not joined when a ``bytes`` field is large (it stays
    one piece, uncopied), else joined as ``__bytes__`` does; made for functions with a ``bytes``
    field, the requests that carry data."""
    return _wrapped("_tl_pieces", [*body, "        return out if big else b''.join(out)"])


def _encode_object(fields: tuple[Field, ...], obj: str, block: _EncodeBlock,
                   number: int | None) -> None:
    names = block.names
    if number is not None:
        block.fixed("I", f"{number:#010x}")
    values: dict[str, str] = {}
    for f in fields:
        if f.optional and f.kind.tag != "true":
            var = names.fresh("v")
            block.line(f"{var} = {obj}.{f.attr}")
            values[f.param.name] = var
    flag_vars = _encode_flags(fields, obj, values, block)
    length_var: str | None = None
    for index, f in enumerate(fields):
        tag = f.kind.tag
        if f.param.name in flag_vars:
            block.fixed("I", flag_vars[f.param.name])
        elif f.length_of_next:
            length_var = names.fresh("b")
            body = fields[index + 1]
            block.line(f"{length_var} = {obj}.{body.attr}")
            block.line(f"{length_var} = ({length_var}.__bytes__() if isinstance({length_var}, _TLO)"
                       f" else _OB({length_var}))")
            block.fixed("i", f"len({length_var})")
        elif length_var is not None:
            block.emit(length_var)
            length_var = None
        elif tag == "true":
            continue
        elif f.optional:
            var = values[f.param.name]
            block.open(f"if {var} is not None:")
            _encode_value(f.kind, var, block)
            block.close()
        else:
            _encode_value(f.kind, f"{obj}.{f.attr}", block)


def _encode_flags(fields: tuple[Field, ...], obj: str, values: dict[str, str],
                  block: _EncodeBlock) -> dict[str, str]:
    flag_vars: dict[str, str] = {}
    for f in fields:
        if f.attr is not None or f.kind.tag != "nat":
            continue
        terms: list[str] = []
        by_bit: dict[int, list[Field]] = {}
        for g in fields:
            if g.param.flag_field != f.param.name or g.param.flag_bit is None:
                continue
            bit = 1 << g.param.flag_bit
            by_bit.setdefault(bit, []).append(g)
            if g.kind.tag == "true":
                terms.append(f"({bit} if {obj}.{g.attr} else 0)")
            else:
                terms.append(f"({bit} if {values[g.param.name]} is not None else 0)")
        var = block.names.fresh("f")
        block.line(f"{var} = {' | '.join(terms) or '0'}")
        for bit, members in by_bit.items():
            carried = [values[g.param.name] for g in members if g.kind.tag != "true"]
            if carried and len(members) > 1:
                missing = " or ".join(f"{v} is None" for v in carried)
                block.line(f"if {var} & {bit} and ({missing}):")
                block.line("    raise ValueError('a set flag bit needs all its fields')")
        flag_vars[f.param.name] = var
    return flag_vars


def _local(expr: str, block: _Block, prefix: str = "t") -> str:
    if expr.isidentifier():
        return expr
    var = block.names.fresh(prefix)
    block.line(f"{var} = {expr}")
    return var


def _encode_value(kind: Kind, expr: str, block: _EncodeBlock) -> None:
    tag = kind.tag
    names = block.names
    if tag in _NUMBER_TAGS:
        block.fixed(FIXED_FORMATS[tag][0], expr)
    elif tag == "bool":
        block.fixed("I", f"_BOOLS[{expr}]")
    elif tag in ("int128", "int256"):
        code, size = FIXED_FORMATS[tag]
        var = _local(expr, block)
        block.line(f"if len({var}) != {size}:")
        block.line(f"    raise ValueError('{tag} needs {size} bytes')")
        block.fixed(code, var)
    elif tag == "string":
        var = names.fresh("s")
        block.line(f"{var} = {expr}.encode('utf-8', 'surrogateescape')")
        _encode_bytes(var, block)
    elif tag == "bytes":
        _encode_bytes(_local(expr, block), block)
    elif tag in _OBJECT_TAGS:
        var = _local(expr, block)
        block.line(f"if {var}.TL_TYPE != {kind.type_name!r}:")
        block.line("    raise TypeError('wrong TL type')")
        block.emit(f"{var}.__bytes__()")
    elif tag in _LOOSE_OBJECT_TAGS:
        var = _local(expr, block)
        block.emit(f"{var}.__bytes__() if isinstance({var}, _TLO) else _OB({var})")
    elif tag in ("vector", "bare_vector"):
        _encode_vector(kind, expr, block)
    elif tag == "bare":
        assert kind.target is not None
        var = _local(expr, block)
        cls = names.const("_K", names.binder.class_for(kind.target))
        block.line(f"if {var}.__class__ is not {cls}:")
        block.line(f"    raise TypeError('expected a {kind.target.name}')")
        _encode_object(names.binder.fields_for(kind.target), var, block, None)
    elif tag != "true":
        raise ValueError(f"no encoder for {kind}")


def _encode_bytes(var: str, block: _EncodeBlock) -> None:
    n = block.names.fresh("n")
    block.line(f"{n} = len({var})")
    block.open(f"if {n} < 254:")
    block.emit(f"_SP[{n}] + {var} + _Z[~{n} & 3]")
    block.close()
    block.open("else:")
    block.emit(f"_PI(254 | {n} << 8)")
    block.emit(var)
    block.emit(f"_Z[-{n} & 3]")
    if block.pieces:
        block.line(f"if {n} >= {PIECES_MIN}:")
        block.line("    big = True")
    block.close()


def _encode_vector(kind: Kind, expr: str, block: _EncodeBlock) -> None:
    item = kind.item
    assert item is not None
    names = block.names
    boxed = kind.tag == "vector"
    var = _local(expr, block)
    n = names.fresh("n")
    block.line(f"{n} = len({var})")
    header, header_args = ("II", f"{VECTOR_ID:#010x}, {n}") if boxed else ("I", n)
    if item.tag in _NUMBER_TAGS or item.tag == "bool":
        code = FIXED_FORMATS[item.tag][0]
        items = f"*{var}" if item.tag != "bool" else f"*[_BOOLS[x] for x in {var}]"
        block.emit(f'_pack(f"<{header}{{{n}}}{code}", {header_args}, {items})')
        return
    if boxed:
        block.fixed("I", f"{VECTOR_ID:#010x}")
    block.fixed("I", n)
    if item.tag in _OBJECT_TAGS:
        block.flush()
        block.line(f"out += [x.__bytes__() if x.TL_TYPE == {item.type_name!r} else _wrong(x) "
                   f"for x in {var}]")
    elif item.tag in _LOOSE_OBJECT_TAGS:
        block.flush()
        block.line(f"out += [_OB(x) for x in {var}]")
    else:
        x = names.fresh("x")
        block.open(f"for {x} in {var}:")
        _encode_value(item, x, block)
        block.close()


# --- reader ------------------------------------------------------------------------------------

def _reader_source(fields: tuple[Field, ...], names: _Names) -> list[str]:
    block = _ReadBlock(names, 1)
    assignments = _read_object(fields, block)
    block.flush()
    lines = ["def _read(data, pos):"]
    if block.uses_length:
        lines.append("    dlen = len(data)")
    lines += block.lines
    lines.append("    o = _new(_C)")
    lines += [f"    o.{attr} = {value}" for attr, value in assignments]
    lines += ["    return o, pos", ""]
    return lines


def _read_object(fields: tuple[Field, ...], block: _ReadBlock) -> list[tuple[str, str]]:
    names = block.names
    flag_vars: dict[str, str] = {}
    assignments: list[tuple[str, str]] = []
    length_var: str | None = None
    for f in fields:
        tag = f.kind.tag
        if f.attr is None and tag == "nat":
            var = names.fresh("f")
            block.fixed("I", var)
            flag_vars[f.param.name] = var
            continue
        if f.length_of_next:
            length_var = names.fresh("n")
            block.fixed("i", length_var)
            continue
        assert f.attr is not None
        if length_var is not None:
            var = names.fresh("r")
            end = names.fresh("e")
            block.flush()
            block.uses_length = True
            block.line(f"{end} = pos + {length_var}")
            block.line(f"if {length_var} < 0 or {end} > dlen:")
            block.line("    raise _truncated()")
            number = names.fresh("c")
            stop = names.fresh("p")
            # an rpc_result's result runs to the end of what it is read from: cut a copy
            block.line(f"{number} = _U1(data, pos)[0]")
            block.line(f"if {number} == {_RPC_RESULT_ID:#010x}:")
            block.line(f"    {var}, {stop} = _R[{number}](data[pos:{end}], 4)")
            block.line(f"    {stop} += pos")
            block.line("else:")
            block.line(f"    {var}, {stop} = _R[{number}](data, pos + 4)")
            block.line(f"if {stop} != {end}:")
            block.line(f"    raise _bad_body({end} - pos, {stop} - pos)")
            block.line(f"pos = {end}")
            assignments.append((f.attr, var))
            length_var = None
            continue
        flag = f.param.flag_field
        if tag == "true":
            assert flag is not None and f.param.flag_bit is not None
            assignments.append((f.attr, f"({flag_vars[flag]} & {1 << f.param.flag_bit}) != 0"))
            continue
        var = names.fresh("r")
        if flag is not None:
            assert f.param.flag_bit is not None
            block.open(f"if {flag_vars[flag]} & {1 << f.param.flag_bit}:")
            _read_value(f.kind, var, block)
            block.close()
            block.open("else:")
            block.line(f"{var} = None")
            block.close()
        else:
            _read_value(f.kind, var, block)
        assignments.append((f.attr, var))
    return assignments


def _read_value(kind: Kind, var: str, block: _ReadBlock) -> None:
    tag = kind.tag
    names = block.names
    if tag == "bool":
        block.fixed("I", var,
                    f"if {var} == {BOOL_TRUE_ID:#010x}:", f"    {var} = True",
                    f"elif {var} == {BOOL_FALSE_ID:#010x}:", f"    {var} = False",
                    "else:", f"    raise _bad_bool({var})")
    elif tag in FIXED_FORMATS:
        block.fixed(FIXED_FORMATS[tag][0], var)
    elif tag in ("string", "bytes"):
        block.flush()
        block.uses_length = True
        n = names.fresh("n")
        start = names.fresh("s")
        block.line(f"{n} = data[pos]")
        block.open(f"if {n} < 254:")
        block.line(f"{start} = pos + 1")
        block.line(f"pos += ({n} + 4) & -4")
        block.close()
        block.open(f"elif {n} == 254:")
        block.line(f"{n} = data[pos + 1] | data[pos + 2] << 8 | data[pos + 3] << 16")
        block.line(f"{start} = pos + 4")
        block.line(f"pos += ({n} + 7) & -4")
        block.close()
        block.open("else:")
        block.line("raise _bad_length()")
        block.close()
        block.line("if pos > dlen:")
        block.line("    raise _truncated()")
        if tag == "string":
            block.line(f"{var} = str(data[{start}:{start} + {n}], 'utf-8', 'surrogateescape')")
        else:
            block.line(f"{var} = data[{start}:{start} + {n}]")
    elif tag == "boxed":
        assert kind.type_name is not None
        block.flush()
        table = names.const("_T", names.binder.typed_table(kind.type_name))
        block.line(f"{var}, pos = {table}[_U1(data, pos)[0]](data, pos + 4)")
    elif tag in ("object", "query"):
        block.flush()
        block.line(f"{var}, pos = _R[_U1(data, pos)[0]](data, pos + 4)")
    elif tag == "result":
        block.flush()
        block.line(f"{var}, pos = _RESULT(data, pos)")
    elif tag in ("vector", "bare_vector"):
        block.flush()
        reader = names.const("_V", names.binder.vector_reader(kind))
        block.line(f"{var}, pos = {reader}(data, pos)")
    elif tag == "bare":
        assert kind.target is not None
        block.flush()
        reader = names.const("_B", names.binder.bare_reader(kind.target))
        block.line(f"{var}, pos = {reader}(data, pos)")
    else:
        raise ValueError(f"no reader for {kind}")

