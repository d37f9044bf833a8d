"""The ``.tl`` parser and the bundled schemas."""

from __future__ import annotations

import hashlib
from importlib import resources

import pytest

from sansio_mtdc.tl import LAYER, registry
from sansio_mtdc.tl.schema import (
    SchemaError,
    TypeRef,
    class_name,
    crc32_id,
    parse_schema,
)

API_SHA256 = "921a58e71f2baebb840609366c506fb92ffac8db3c5bb832423aacd7cd6817cf"

#: lines whose explicit number is not what the CRC32 rule gives, and why
CRC_EXCEPTIONS = {
    "api": {
        # the simple config served by DNS/HTTPS: numbers fixed before the rule settled
        "ipPortSecret", "accessPointRule", "help.configSimple",
        # tdlib keeps the numbers of legacy constructors it still understands
        "inputPeerPhotoFileLocationLegacy", "inputStickerSetThumbLegacy",
        # tdlib helpers: the invokeWith... wrappers' numbers, for writing their prefix only
        "invokeWithBusinessConnectionPrefix", "invokeWithGooglePlayIntegrityPrefix",
        "invokeWithApnsSecretPrefix", "invokeWithReCaptchaPrefix",
    },
    # the official text says `vector message`; ours spells the bare type `vector<%Message>`
    "mtproto": {"msg_container"},
}


def _text(name: str) -> str:
    return resources.files("sansio_mtdc.tl.schemas").joinpath(f"{name}.tl").read_text()


def test_api_tl_is_the_verbatim_tdlib_file_of_layer_228() -> None:
    data = resources.files("sansio_mtdc.tl.schemas").joinpath("api.tl").read_bytes()
    assert hashlib.sha256(data).hexdigest() == API_SHA256
    assert LAYER == 228


@pytest.mark.parametrize(("name", "constructors", "functions"),
                         [("api", 1648, 813), ("mtproto", 42, 11)])
def test_counts(name: str, constructors: int, functions: int) -> None:
    schema = parse_schema(_text(name))
    assert (len(schema.constructors), len(schema.functions)) == (constructors, functions)
    assert len(schema) == constructors + functions


@pytest.mark.parametrize("name", ["api", "mtproto"])
def test_the_crc32_rule_gives_the_explicit_numbers(name: str) -> None:
    schema = parse_schema(_text(name))
    explicit = [c for c in schema if c.explicit_id]
    assert len(explicit) > 0.9 * len(schema)
    mismatched = {c.name for c in explicit if c.crc_id != c.id}
    assert mismatched == CRC_EXCEPTIONS[name]


def test_crc32_rule_on_known_declarations() -> None:
    assert crc32_id("vector {t:Type} # [ t ] = Vector t;") == 0x1CB5C415
    assert crc32_id("int ? = Int") == 0xA8509BDA
    assert crc32_id("message msg_id:long seqno:int bytes:int body:Object = Message") == 0x5BB8E511
    assert crc32_id("gzip_packed#3072cfa1 packed_data:bytes = Object;") == 0x3072CFA1
    # true flags are left out, bytes counts as string, Vector<T> is written Vector T
    assert crc32_id("dcOption flags:# ipv6:flags.0?true media_only:flags.1?true "
                    "tcpo_only:flags.2?true cdn:flags.3?true static:flags.4?true "
                    "this_port_only:flags.5?true id:int ip_address:string port:int "
                    "secret:flags.10?bytes = DcOption") == 0x18B7A10D
    assert crc32_id("msgs_ack msg_ids:Vector<long> = MsgsAck") == 0x62D6B459


def test_lines_without_a_number_get_the_crc32_one() -> None:
    api = registry.schema("api")
    mtproto = registry.schema("mtproto")
    computed = {c.name: c.id for s in (api, mtproto) for c in s if not c.explicit_id}
    assert computed == {
        "test.useConfigSimple": 0xF9B7B23D,
        "test.parseInputAppEvent": 0xBB0D87F1,
        "dummyHttpWait": 0xC937CA2E,
        "message": 0x5BB8E511,
        "rsa_public_key": 0x7A19CB76,
    }


def test_type_declarations_are_primitives_not_constructors() -> None:
    api = registry.schema("api")
    assert {p.name for p in api.primitives} == {
        "int", "long", "double", "string", "bytes", "int256", "vector"}
    assert {p.name: p.id for p in api.primitives}["vector"] == 0x1CB5C415
    mtproto = registry.schema("mtproto")
    assert {p.name for p in mtproto.primitives} == {
        "int", "long", "double", "string", "vector", "int128", "int256"}
    for schema in (api, mtproto):
        assert not {c.name for c in schema} & {"int", "vector", "int128", "bytes"}


def test_ids_and_names() -> None:
    api = registry.schema("api")
    get_config = api.function("help.getConfig")
    assert get_config is not None and get_config.id == 0xC4F9186B
    assert get_config.namespace == "help" and get_config.short_name == "getConfig"
    assert get_config.is_function and str(get_config.result) == "Config"
    assert api.by_id(0x18B7A10D) is api.by_name("dcOption")
    assert api.by_id(0xDEADBEEF) is None
    # tdlib's prefix helpers share their number with the real wrapper; the wrapper wins
    assert api.by_id(0xDD289F8E) is api.function("invokeWithBusinessConnection")
    assert {c.name for c in api.constructors_of("auth.Authorization")} == {
        "auth.authorization", "auth.authorizationSignUpRequired"}


def test_flags() -> None:
    api = registry.schema("api")
    dc_option = api.by_name("dcOption")
    assert dc_option is not None
    params = {p.name: p for p in dc_option.params}
    assert params["flags"].is_flags and not params["flags"].is_conditional
    assert params["ipv6"].is_true_flag and (params["ipv6"].flag_field,
                                            params["ipv6"].flag_bit) == ("flags", 0)
    assert (params["secret"].flag_field, params["secret"].flag_bit) == ("flags", 10)
    assert str(params["secret"].type) == "bytes" and not params["secret"].is_true_flag
    user_full = api.by_name("userFull")
    assert user_full is not None
    second = [p for p in user_full.params if p.flag_field == "flags2"]
    assert second and second[0].name == "sponsored_enabled" and second[0].flag_bit == 7


def test_generics() -> None:
    api = registry.schema("api")
    wrapper = api.function("invokeWithLayer")
    assert wrapper is not None
    assert wrapper.generic_params == (("X", "Type"),)
    query = wrapper.params[-1]
    assert query.name == "query" and query.type == TypeRef("X", bang=True)
    assert str(query.type) == "!X" and str(wrapper.result) == "X"
    init = api.function("initConnection")
    assert init is not None and init.generic_params == (("X", "Type"),)


def test_vector_and_bare_types() -> None:
    mtproto = registry.schema("mtproto")
    container = mtproto.by_name("msg_container")
    assert container is not None
    messages = container.params[0].type
    assert messages.name == "vector" and messages.bare
    assert messages.args == (TypeRef("Message", bare=True, percent=True),)
    salts = mtproto.by_name("future_salts")
    assert salts is not None
    assert salts.params[2].type.args == (TypeRef("future_salt", bare=True),)
    res_pq = mtproto.by_name("resPQ")
    assert res_pq is not None
    assert str(res_pq.params[3].type) == "Vector<long>" and not res_pq.params[3].type.bare


def test_restored_service_constructors() -> None:
    mtproto = registry.schema("mtproto")
    numbers = {c.name: c.id for c in mtproto}
    assert numbers["rpc_result"] == 0xF35C6D01
    assert numbers["msg_container"] == 0x73F1F8DC
    assert numbers["msg_copy"] == 0xE06046B2
    assert numbers["gzip_packed"] == 0x3072CFA1
    assert numbers["ping"] == 0x7ABE77EC
    assert numbers["destroy_session"] == 0xE7512126
    assert numbers["destroy_session_ok"] == 0xE22045FC
    assert numbers["destroy_session_none"] == 0x62D350C9
    assert numbers["req_pq"] == 0x60469778
    assert numbers["p_q_inner_data"] == 0x83C95AEC
    assert numbers["p_q_inner_data_temp"] == 0x3C6A84D4
    assert numbers["server_DH_params_fail"] == 0x79CB045D
    gzip = mtproto.by_name("gzip_packed")
    assert gzip is not None and str(gzip.result) == "Object"


def test_schemas_share_no_numbers() -> None:
    api = {c.id for c in registry.schema("api")}
    assert not api & {c.id for c in registry.schema("mtproto")}


def test_class_names() -> None:
    assert class_name("p_q_inner_data_dc") == "PQInnerDataDc"
    assert class_name("req_DH_params") == "ReqDHParams"
    assert class_name("resPQ") == "ResPQ"
    assert class_name("help.getConfig") == "GetConfig"
    for name in ("api", "mtproto"):
        schema = registry.schema(name)
        seen = {(c.is_function, c.namespace, c.class_name) for c in schema}
        assert len(seen) == len(schema), "two combinators share a class name"


def test_multi_line_declarations_comments_and_sections() -> None:
    schema = parse_schema(
        "// comment\nfoo#00000001 a:int\n  b:string = Foo; // trailing\n"
        "---functions---\nbar#00000002 flags:# x:flags.0?int = Foo;\n---types---\nbaz = Foo;\n")
    assert [(c.name, c.is_function) for c in schema] == [
        ("foo", False), ("bar", True), ("baz", False)]
    foo = schema.by_name("foo")
    assert foo is not None and [p.name for p in foo.params] == ["a", "b"]
    assert foo.id == 1


@pytest.mark.parametrize("text", [
    "foo#1 a:int",                       # no semicolon
    "foo#1 a = Foo;",                    # a field without a type
    "foo#1 x:flags.0?int = Foo;",        # a flag field that does not exist
    "foo#1 flags:# x:flags.40?int = Foo;",  # bit out of range
    "---nonsense---\n",
    "foo#1 a:Vector<int = Foo;",         # unclosed
    "= Foo;",
])
def test_bad_text_is_a_schema_error(text: str) -> None:
    with pytest.raises(SchemaError):
        parse_schema(text)
