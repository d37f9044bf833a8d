"""Hypothesis strategies for TL values, derived from the bundled schemas.

``object_of(schema_name, combinator, depth)`` draws an instance of the combinator's class with
every field filled according to its kind; nested boxed values pick any constructor of their type
that can be finished within the remaining ``depth``.
"""

from __future__ import annotations

from functools import cache

from hypothesis import strategies as st

from sansio_mtdc.tl import registry
from sansio_mtdc.tl.kinds import Kind
from sansio_mtdc.tl.schema import Combinator

INT32 = st.integers(-(1 << 31), (1 << 31) - 1)
INT64 = st.integers(-(1 << 63), (1 << 63) - 1)
NAT = st.integers(0, (1 << 32) - 1)
DOUBLE = st.floats(allow_nan=False)
# text, and raw bytes that are not UTF-8 (they come back as surrogateescape'd str)
STRING = st.one_of(
    st.text(max_size=12),
    st.binary(max_size=12).map(lambda b: b.decode("utf-8", "surrogateescape")),
    st.just("x" * 300),
)
BYTES = st.one_of(st.binary(max_size=12), st.binary(min_size=254, max_size=260))
MAX_ITEMS = 2

#: combinators whose decode does not give back an equal object, by design
SPECIAL = {"boolTrue", "boolFalse", "gzip_packed"}


def round_trippable(schema_name: str) -> list[Combinator]:
    """Every combinator of the schema but the special ones and those whose number another
    combinator owns on the wire (tdlib's invokeWith...Prefix helpers)."""
    schema = registry.schema(schema_name)
    return [c for c in schema if c.name not in SPECIAL and schema.by_id(c.id) is c]


@cache
def _min_depth(schema_name: str, name: str, is_function: bool) -> int:
    """The least nesting depth an instance of this combinator needs (0: no boxed field)."""
    return _min_depth_table(schema_name)[(name, is_function)]


@cache
def _min_depth_table(schema_name: str) -> dict[tuple[str, bool], int]:
    schema = registry.schema(schema_name)
    classes = registry._SCHEMAS[schema_name]
    inf = 1 << 30
    depth = {(c.name, c.is_function): inf for c in schema}
    type_depth: dict[str, int] = {}

    def kind_depth(kind: Kind) -> int:
        if kind.tag == "boxed":
            assert kind.type_name is not None
            return type_depth.get(kind.type_name, inf)
        if kind.tag == "bare":
            assert kind.target is not None
            return depth[(kind.target.name, False)]
        if kind.tag in ("object", "query", "result"):
            return 1
        return 0  # values, and vectors (which may be empty)

    changed = True
    while changed:
        changed = False
        for c in schema:
            need = 0
            for field in classes.fields_for(c):
                if field.attr is None or field.optional:
                    continue
                need = max(need, kind_depth(field.kind))
            need = need + 1 if need < inf else inf
            key = (c.name, c.is_function)
            if need < depth[key]:
                depth[key] = need
                changed = True
                if not c.is_function:
                    type_name = c.result.name
                    type_depth[type_name] = min(type_depth.get(type_name, inf), need)
    return depth


def min_depth(schema_name: str, combinator: Combinator) -> int:
    return _min_depth(schema_name, combinator.name, combinator.is_function)


def object_of(schema_name: str, combinator: Combinator, depth: int) -> st.SearchStrategy[object]:
    return _object_of(schema_name, combinator.name, combinator.is_function, depth)


@cache
def _object_of(schema_name: str, name: str, is_function: bool,
               depth: int) -> st.SearchStrategy[object]:
    classes = registry._SCHEMAS[schema_name]
    combinator = classes.schema.function(name) if is_function else classes.schema.by_name(name)
    assert combinator is not None
    cls = classes.class_for(combinator)
    fields = classes.fields_for(combinator)

    @st.composite
    def build(draw: st.DrawFn) -> object:
        kwargs: dict[str, object] = {}
        present_bits: dict[tuple[str, int], bool] = {}
        for field in fields:
            if field.attr is None:
                continue
            param = field.param
            if field.optional:
                assert param.flag_field is not None and param.flag_bit is not None
                bit = (param.flag_field, param.flag_bit)
                if bit not in present_bits:
                    # a bit that carries a value needs depth for it
                    present_bits[bit] = draw(st.booleans()) and _fits(schema_name, fields, bit,
                                                                      depth)
                if field.kind.tag == "true":
                    kwargs[field.attr] = present_bits[bit]
                    continue
                if not present_bits[bit]:
                    kwargs[field.attr] = None
                    continue
            kwargs[field.attr] = draw(value_of(schema_name, field.kind, depth - 1))
        return cls(**kwargs)

    return build()


def _fits(schema_name: str, fields: tuple, bit: tuple[str, int], depth: int) -> bool:
    for field in fields:
        param = field.param
        if ((param.flag_field, param.flag_bit) == bit and field.kind.tag != "true"
                and _kind_min_depth(schema_name, field.kind) > depth - 1):
            return False
    return True


def _kind_min_depth(schema_name: str, kind: Kind) -> int:
    schema = registry.schema(schema_name)
    if kind.tag == "boxed":
        assert kind.type_name is not None
        return min((_min_depth(schema_name, c.name, False)
                    for c in schema.constructors_of(kind.type_name)), default=1 << 30)
    if kind.tag == "bare":
        assert kind.target is not None
        return _min_depth(schema_name, kind.target.name, False)
    if kind.tag in ("object", "query", "result"):
        return 1
    return 0


@cache
def value_of(schema_name: str, kind: Kind, depth: int) -> st.SearchStrategy[object]:
    tag = kind.tag
    if tag == "int":
        return INT32
    if tag == "long":
        return INT64
    if tag == "nat":
        return NAT
    if tag == "double":
        return DOUBLE
    if tag == "int128":
        return st.binary(min_size=16, max_size=16)
    if tag == "int256":
        return st.binary(min_size=32, max_size=32)
    if tag == "string":
        return STRING
    if tag == "bytes":
        return BYTES
    if tag == "bool":
        return st.booleans()
    if tag in ("vector", "bare_vector"):
        assert kind.item is not None
        if _kind_min_depth(schema_name, kind.item) > depth:
            return st.just([])
        return st.lists(value_of(schema_name, kind.item, depth), max_size=MAX_ITEMS)
    if tag == "boxed":
        assert kind.type_name is not None
        return _any_of_type(schema_name, kind.type_name, depth)
    if tag == "bare":
        assert kind.target is not None
        return object_of(schema_name, kind.target, depth)
    if tag in ("object", "result"):
        return _any_object(depth)
    if tag == "query":
        return _any_query(depth)
    raise AssertionError(f"no strategy for {kind}")


@cache
def _any_of_type(schema_name: str, type_name: str, depth: int) -> st.SearchStrategy[object]:
    schema = registry.schema(schema_name)
    choices = [c for c in schema.constructors_of(type_name)
               if c.name not in SPECIAL and _min_depth(schema_name, c.name, False) <= depth]
    assert choices, f"no constructor of {type_name} fits in depth {depth}"
    return st.one_of([object_of(schema_name, c, depth) for c in choices])


def _leaf(schema_name: str, name: str, is_function: bool = False) -> object:
    classes = registry._SCHEMAS[schema_name]
    schema = classes.schema
    combinator = schema.function(name) if is_function else schema.by_name(name)
    assert combinator is not None
    return classes.class_for(combinator)


@cache
def _any_object(depth: int) -> st.SearchStrategy[object]:
    """A value for an ``Object`` field: a few kinds of boxed values."""
    dc_option = _leaf("api", "dcOption")
    pong = _leaf("mtproto", "pong")
    options = [
        st.booleans(),
        st.builds(pong, msg_id=INT64, ping_id=INT64),
        st.builds(dc_option, id=INT32, ip_address=STRING, port=INT32,
                  ipv6=st.booleans(), secret=st.none() | BYTES),
    ]
    if depth >= 1:
        options.append(st.lists(st.builds(pong, msg_id=INT64, ping_id=INT64), max_size=2))
    return st.one_of(options)


@cache
def _any_query(depth: int) -> st.SearchStrategy[object]:
    """A value for a ``!X`` field: a request."""
    get_config = _leaf("api", "help.getConfig", True)
    ping = _leaf("mtproto", "ping", True)
    get_users = _leaf("api", "users.getUsers", True)
    input_user_self = _leaf("api", "inputUserSelf")
    return st.one_of(
        st.builds(get_config),
        st.builds(ping, ping_id=INT64),
        st.builds(get_users, id=st.lists(st.builds(input_user_self), max_size=2)),
    )
