"""The TL schema language: parse ``.tl`` text into combinators.

This module knows the text format only (``name#id {X:Type} field:flags.N?Type ... = Result;``),
not how values are encoded, so that tests and tools can inspect a schema on their own.

Constructor numbers that a line does not spell out are computed with the CRC32 rule of
``core.telegram.org/mtproto/serialize``: the CRC32 of the declaration with one space between
lexemes, and, as Telegram's own generator does it, without the ``flags.N?true`` fields, with
``bytes`` written as ``string``, without braces, and with ``Vector<T>`` written ``Vector T``.
"""

from __future__ import annotations

import keyword
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BUILTIN_TYPE_NAMES",
    "Combinator",
    "Param",
    "Primitive",
    "Schema",
    "SchemaError",
    "TypeRef",
    "class_name",
    "crc32_id",
    "parse_schema",
]

#: Names whose declaration lines (``int ? = Int;``, ``bytes = Bytes;``, ``vector {t:Type} # [ t ]
#: = Vector t;``, ``int128 4*[ int ] = Int128;``...) describe built-in types, not constructors.
BUILTIN_TYPE_NAMES = frozenset(
    {"int", "long", "double", "string", "bytes", "int128", "int256", "vector"}
)


class SchemaError(ValueError):
    """A line of a ``.tl`` file that this parser cannot understand."""


@dataclass(frozen=True, slots=True)
class TypeRef:
    """A type as written in a field or result: ``int``, ``Vector<long>``, ``%Message``, ``!X``.

    ``bare`` is true for ``%T`` and for a lower-case constructor name used as a type
    (``future_salt``); ``bang`` is true for ``!X`` (a query of any result type ``X``).
    """

    name: str
    args: tuple[TypeRef, ...] = ()
    bare: bool = False
    bang: bool = False
    percent: bool = False

    def __str__(self) -> str:
        text = self.name
        if self.args:
            text += "<" + ",".join(str(a) for a in self.args) + ">"
        if self.percent:
            text = "%" + text
        if self.bang:
            text = "!" + text
        return text


@dataclass(frozen=True, slots=True)
class Param:
    """One field of a combinator.

    ``flag_field``/``flag_bit`` are set for a conditional field ``name:flags.N?Type``; a field of
    type ``#`` (``flags:#``) holds such bits and is computed on encode, never stored.
    """

    name: str
    type: TypeRef
    flag_field: str | None = None
    flag_bit: int | None = None

    @property
    def is_flags(self) -> bool:
        """A ``#`` field: the bit set that conditional fields refer to."""
        return self.type.name == "#"

    @property
    def is_conditional(self) -> bool:
        return self.flag_field is not None

    @property
    def is_true_flag(self) -> bool:
        """``name:flags.N?true``: a bool carried only by the bit."""
        return self.flag_field is not None and self.type.name == "true"

    def __str__(self) -> str:
        cond = f"{self.flag_field}.{self.flag_bit}?" if self.flag_field is not None else ""
        return f"{self.name}:{cond}{self.type}"


@dataclass(frozen=True, slots=True)
class Combinator:
    """A constructor (``is_function`` false) or a function of the schema."""

    name: str
    id: int
    params: tuple[Param, ...]
    result: TypeRef
    is_function: bool
    generic_params: tuple[tuple[str, str], ...] = ()
    explicit_id: bool = True
    line: str = field(default="", compare=False)

    @property
    def namespace(self) -> str | None:
        """``"help"`` for ``help.getConfig``; ``None`` without a namespace."""
        ns, _, _ = self.name.rpartition(".")
        return ns or None

    @property
    def short_name(self) -> str:
        return self.name.rpartition(".")[2]

    @property
    def class_name(self) -> str:
        return class_name(self.name)

    @property
    def crc_id(self) -> int:
        """The number the CRC32 rule gives this declaration (whatever ``#id`` says)."""
        return crc32_id(self.line)

    def __str__(self) -> str:
        return self.line


@dataclass(frozen=True, slots=True)
class Primitive:
    """A built-in type declaration line such as ``int ? = Int;`` or ``vector {t:Type} # [ t ] =
    Vector t;``; ``id`` is the number the line gives or implies."""

    name: str
    id: int
    line: str


class Schema:
    """The combinators of one ``.tl`` text, in file order, with lookups by name, id and type."""

    __slots__ = ("_by_id", "_by_name", "_by_type", "_functions", "combinators", "primitives")

    def __init__(self, combinators: tuple[Combinator, ...],
                 primitives: tuple[Primitive, ...]) -> None:
        self.combinators = combinators
        self.primitives = primitives
        self._functions = {c.name: c for c in combinators if c.is_function}
        self._by_name = dict(self._functions)
        self._by_name.update({c.name: c for c in combinators if not c.is_function})
        # When two lines share a number (tdlib's invokeWith...Prefix helpers reuse the number of
        # the real wrapper), the later line wins: that is the declaration the wire means.
        self._by_id = {c.id: c for c in combinators}
        by_type: dict[str, list[Combinator]] = {}
        for c in combinators:
            if not c.is_function:
                by_type.setdefault(c.result.name, []).append(c)
        self._by_type = {k: tuple(v) for k, v in by_type.items()}

    @property
    def constructors(self) -> tuple[Combinator, ...]:
        return tuple(c for c in self.combinators if not c.is_function)

    @property
    def functions(self) -> tuple[Combinator, ...]:
        return tuple(c for c in self.combinators if c.is_function)

    def __iter__(self) -> Iterator[Combinator]:
        return iter(self.combinators)

    def __len__(self) -> int:
        return len(self.combinators)

    def by_name(self, name: str) -> Combinator | None:
        """The combinator called ``name`` (a constructor if a function has the same name)."""
        return self._by_name.get(name)

    def function(self, name: str) -> Combinator | None:
        """The function called ``name``."""
        return self._functions.get(name)

    def by_id(self, number: int) -> Combinator | None:
        return self._by_id.get(number)

    def constructors_of(self, type_name: str) -> tuple[Combinator, ...]:
        """The constructors whose result type is ``type_name`` (``"DcOption"``,
        ``"auth.Authorization"``)."""
        return self._by_type.get(type_name, ())

    @property
    def type_names(self) -> tuple[str, ...]:
        return tuple(self._by_type)


# --- names -------------------------------------------------------------------------------------

def class_name(tl_name: str) -> str:
    """Python class name of a combinator: the part after the namespace, split on ``_``, each
    part's first letter upper-cased (``p_q_inner_data_dc`` -> ``PQInnerDataDc``); a Python
    keyword gets a trailing ``_`` (``true`` -> ``True_``)."""
    short = tl_name.rpartition(".")[2]
    name = "".join(part[:1].upper() + part[1:] for part in short.split("_"))
    return name + "_" if keyword.iskeyword(name) else name


# --- the CRC32 rule ----------------------------------------------------------------------------

_ID_SUFFIX = re.compile(r"^([\w.]+)#[0-9a-fA-F]+")
_TRUE_FLAG = re.compile(r" \w+:\w+\.\d+\?true(?= |$)")
_BYTES_TYPE = re.compile(r"(?<=[:?])bytes(?= |$)")


def crc32_id(declaration: str) -> int:
    """Constructor number of a declaration by the CRC32 rule (``#id`` and ``;`` are ignored)."""
    text = declaration.strip().rstrip(";").strip()
    text = _ID_SUFFIX.sub(r"\1", text)
    text = " ".join(text.split())
    text = _TRUE_FLAG.sub("", text)
    text = text.replace("<", " ").replace(">", "").replace("{", "").replace("}", "")
    text = _BYTES_TYPE.sub("string", text)
    text = " ".join(text.split())
    return zlib.crc32(text.encode()) & 0xFFFFFFFF


# --- parsing -----------------------------------------------------------------------------------

_DECLARATION = re.compile(
    r"^([A-Za-z_][\w.]*)(?:#([0-9a-fA-F]{1,8}))?((?:\s+[^=]*?)?)\s*=\s*([^;]+)$")
_GENERIC = re.compile(r"^\{(\w+):(\w+)\}$")
_CONDITION = re.compile(r"^(\w+)\.(\d+)\?(.+)$")


def parse_schema(text: str) -> Schema:
    """Parse ``.tl`` text. Comments (``//``) and section markers (``---functions---``,
    ``---types---``) are understood; a declaration may span several lines up to its ``;``."""
    combinators: list[Combinator] = []
    primitives: list[Primitive] = []
    is_function = False
    cache: dict[str, Any] = {}  # field tokens and type texts seen before
    pending = ""
    for raw in text.splitlines():
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        if line.startswith("---"):
            if pending:
                raise SchemaError(f"declaration without ';' before {line!r}: {pending!r}")
            section = line.strip("-").strip()
            if section == "functions":
                is_function = True
            elif section == "types":
                is_function = False
            else:
                raise SchemaError(f"unknown section {line!r}")
            continue
        pending = f"{pending} {line}" if pending else line
        while ";" in pending:
            decl, pending = pending.split(";", 1)
            pending = pending.strip()
            decl = " ".join(decl.split())
            if decl:
                _parse_declaration(decl, is_function, cache, combinators, primitives)
    if pending:
        raise SchemaError(f"declaration without ';' at the end: {pending!r}")
    return Schema(tuple(combinators), tuple(primitives))


def _parse_declaration(decl: str, is_function: bool, cache: dict[str, Any],
                       combinators: list[Combinator], primitives: list[Primitive]) -> None:
    match = _DECLARATION.match(decl)
    if match is None:
        raise SchemaError(f"cannot parse declaration {decl!r}")
    name, hex_id, params_text, result_text = match.groups()
    number = int(hex_id, 16) if hex_id else crc32_id(decl)
    if name in BUILTIN_TYPE_NAMES:
        primitives.append(Primitive(name, number, decl))
        return
    generics: list[tuple[str, str]] = []
    params: list[Param] = []
    flag_fields: set[str] = set()
    for token in params_text.split():
        if token[0] == "{":
            generic = _GENERIC.match(token)
            if generic is None:
                raise SchemaError(f"cannot parse {token!r} in {decl!r}")
            generics.append((generic.group(1), generic.group(2)))
            continue
        param = cache.get(token)
        if param is None:
            param = cache[token] = _parse_param(token, cache, decl)
        if param.flag_field is not None and param.flag_field not in flag_fields:
            raise SchemaError(
                f"{param.name} refers to unknown flags field {param.flag_field!r} in {decl!r}")
        if param.type.name == "#":
            flag_fields.add(param.name)
        params.append(param)
    result = _type_ref(result_text.strip(), cache, decl)
    combinators.append(Combinator(name, number, tuple(params), result, is_function,
                                  tuple(generics), hex_id is not None, decl))


def _parse_param(token: str, cache: dict[str, Any], decl: str) -> Param:
    pname, colon, ptype = token.partition(":")
    if not colon or not pname or not ptype:
        raise SchemaError(f"cannot parse field {token!r} in {decl!r}")
    if "?" not in ptype:
        return Param(pname, _type_ref(ptype, cache, decl))
    cond = _CONDITION.match(ptype)
    if cond is None:
        raise SchemaError(f"cannot parse field {token!r} in {decl!r}")
    bit = int(cond.group(2))
    if bit > 31:
        raise SchemaError(f"flag bit {bit} out of range in {decl!r}")
    return Param(pname, _type_ref(cond.group(3), cache, decl), cond.group(1), bit)


_TYPE_TOKEN = re.compile(r"[!%]|[\w.#]+|[<>,]")


def _type_ref(text: str, cache: dict[str, Any], decl: str) -> TypeRef:
    key = "\0" + text  # field tokens never start with NUL
    cached = cache.get(key)
    if cached is not None:
        assert isinstance(cached, TypeRef)
        return cached
    tokens = _TYPE_TOKEN.findall(text)
    if "".join(tokens) != text:
        raise SchemaError(f"cannot parse type {text!r} in {decl!r}")
    ref, rest = _parse_type(tokens, 0, decl)
    if rest != len(tokens):
        raise SchemaError(f"cannot parse type {text!r} in {decl!r}")
    cache[key] = ref
    return ref


def _parse_type(tokens: list[str], pos: int, decl: str) -> tuple[TypeRef, int]:
    bang = percent = False
    while pos < len(tokens) and tokens[pos] in "!%":
        if tokens[pos] == "!":
            bang = True
        else:
            percent = True
        pos += 1
    if pos >= len(tokens) or not re.fullmatch(r"[\w.#]+", tokens[pos]):
        raise SchemaError(f"type name expected in {decl!r}")
    name = tokens[pos]
    pos += 1
    args: list[TypeRef] = []
    if pos < len(tokens) and tokens[pos] == "<":
        pos += 1
        while True:
            arg, pos = _parse_type(tokens, pos, decl)
            args.append(arg)
            if pos < len(tokens) and tokens[pos] == ",":
                pos += 1
                continue
            if pos < len(tokens) and tokens[pos] == ">":
                pos += 1
                break
            raise SchemaError(f"unclosed '<' in {decl!r}")
    last = name.rpartition(".")[2]
    bare = percent or (last[:1].islower() and name not in _BOXED_LOWER)
    return TypeRef(name, tuple(args), bare, bang, percent), pos


#: lower-case names that are not bare constructor references
_BOXED_LOWER = frozenset({"#"})
