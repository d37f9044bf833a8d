"""The generated classes: names, namespaces, constructors, equality, repr, to_dict, pickling,
results of functions, foreign objects, Object fields."""

from __future__ import annotations

import copy
import linecache
import pickle
import struct
import traceback

import pytest

from sansio_mtdc.errors import TLDecodeError, UsageError
from sansio_mtdc.tl import TLFunction, TLObject, api, decode, mtproto, registry
from sansio_mtdc.tl.codec import GZIP_PACKED_ID, pack_gzip, read_bytes

t = api.types
fn = api.functions
m = mtproto.types
U32 = struct.Struct("<I").pack


def _init_connection(query: object) -> object:
    return fn.InitConnection(api_id=12345, device_model="PC", system_version="Linux",
                             app_version="1.0", system_lang_code="en", lang_pack="",
                             lang_code="en", query=query)


def test_the_names_of_the_contract_exist() -> None:
    names = {
        t.DcOption: "dcOption", t.auth.Authorization: "auth.authorization",
        t.help.ConfigSimple: "help.configSimple", fn.help.GetConfig: "help.getConfig",
        fn.InvokeWithLayer: "invokeWithLayer", fn.InitConnection: "initConnection",
        fn.InvokeAfterMsg: "invokeAfterMsg", fn.InvokeWithoutUpdates: "invokeWithoutUpdates",
        m.ResPQ: "resPQ", m.PQInnerDataDc: "p_q_inner_data_dc",
        mtproto.functions.ReqPqMulti: "req_pq_multi", mtproto.functions.ReqDHParams:
        "req_DH_params", m.MsgContainer: "msg_container", m.RpcResult: "rpc_result",
        t.True_: "true", m.Message: "message",
    }
    for cls, tl_name in names.items():
        assert tl_name == cls.TL_NAME
        assert issubclass(cls, TLObject)
        assert issubclass(cls, TLFunction) == (cls.__qualname__.startswith("functions."))


def test_class_attributes() -> None:
    assert t.DcOption.CONSTRUCTOR_ID == 0x18B7A10D
    assert t.DcOption.TL_TYPE == "DcOption"
    assert t.auth.Authorization.TL_TYPE == "auth.Authorization"
    assert fn.help.GetConfig.TL_TYPE == "Config"
    assert fn.users.GetUsers.TL_TYPE == "Vector<User>"
    assert fn.InvokeWithLayer.TL_TYPE == "X"
    assert m.GzipPacked.TL_TYPE == "Object"
    obj = t.DcOption(id=1, ip_address="", port=1)
    assert not hasattr(obj, "__dict__")
    with pytest.raises(AttributeError):
        obj.unknown = 1  # type: ignore[attr-defined]
    assert t.DcOption.__slots__ == ("ipv6", "media_only", "tcpo_only", "cdn", "static",
                                    "this_port_only", "id", "ip_address", "port", "secret")


def test_namespaces_are_lazy_and_listable() -> None:
    assert "DcOption" in dir(t) and "auth" in dir(t) and "help" in dir(fn)
    assert "Authorization" in dir(t.auth)
    with pytest.raises(AttributeError):
        t.NoSuchThing  # noqa: B018
    with pytest.raises(AttributeError):
        t.auth.GetConfig  # noqa: B018  # a function, not a type
    from sansio_mtdc.tl.api import functions, types

    assert types is t and functions is fn
    assert registry.namespace("api", "types", "auth") is t.auth
    assert repr(t.auth) == "<TL namespace api.types.auth>"


def test_keyword_construction_defaults_and_flags() -> None:
    dc = t.DcOption(id=2, ip_address="149.154.167.50", port=443)
    assert (dc.ipv6, dc.media_only, dc.secret) == (False, False, None)
    assert not hasattr(dc, "flags")
    assert bytes(dc)[4:8] == b"\0\0\0\0"
    dc.ipv6 = True
    dc.secret = b"s"
    assert struct.unpack_from("<I", bytes(dc), 4)[0] == 1 | 1 << 10
    fwd = t.StoryFwdHeader(from_=t.PeerUser(user_id=5), story_id=1)
    assert decode(bytes(fwd)).from_ == t.PeerUser(user_id=5)
    with pytest.raises(TypeError):
        t.DcOption(2, "x", 443)  # type: ignore[misc]  # keywords only


def test_equality_and_hash() -> None:
    a = t.PeerUser(user_id=1)
    assert a == t.PeerUser(user_id=1)
    assert a != t.PeerUser(user_id=2)
    assert a != t.PeerChat(chat_id=1)
    assert a != 1
    with pytest.raises(TypeError):
        hash(a)


def test_repr() -> None:
    dc = t.DcOption(id=2, ip_address="149.154.167.50", port=443, ipv6=True)
    assert repr(dc) == "DcOption(ipv6=True, id=2, ip_address='149.154.167.50', port=443)"
    assert repr(t.auth.Authorization(user=t.UserEmpty(id=5))) == (
        "Authorization(user=UserEmpty(id=5))")
    big = t.upload.File(type=t.storage.FilePartial(), mtime=1, bytes=bytes(range(200)))
    assert "<200 bytes 000102030405060708090a0b0c0d0e0f...>" in repr(big)
    assert repr(fn.help.GetConfig()) == "GetConfig()"


def test_to_dict() -> None:
    auth = t.auth.Authorization(user=t.UserEmpty(id=5), tmp_sessions=2)
    assert auth.to_dict() == {
        "_": "auth.authorization", "setup_password_required": False,
        "otherwise_relogin_days": None, "tmp_sessions": 2, "future_auth_token": None,
        "user": {"_": "userEmpty", "id": 5}}
    assert m.MsgsAck(msg_ids=[1, 2]).to_dict() == {"_": "msgs_ack", "msg_ids": [1, 2]}


def test_pickle_and_copy() -> None:
    obj = t.auth.Authorization(user=t.UserEmpty(id=5))
    assert pickle.loads(pickle.dumps(obj)) == obj
    assert copy.deepcopy(obj) == obj and copy.copy(obj) == obj
    assert pickle.loads(pickle.dumps(m.ResPQ)) is m.ResPQ


def test_a_class_is_built_once() -> None:
    schema = registry.schema("api")
    combinator = schema.by_name("dcOption")
    assert combinator is not None
    assert registry.class_for(combinator) is registry.class_for(combinator) is t.DcOption


def test_generated_source_is_inspectable_and_in_tracebacks() -> None:
    source = t.DcOption._TL_SOURCE
    assert "def __bytes__(_o):" in source and "def _read(data, pos):" in source
    filename = t.DcOption.__bytes__.__code__.co_filename
    assert filename == "<tl api.types.DcOption>"
    assert linecache.getlines(filename) == source.splitlines(keepends=True)
    try:
        bytes(t.DcOption(id="x", ip_address="", port=1))
    except UsageError as exc:
        text = "".join(traceback.format_exception(exc))
        assert "_explain(_o, exc)" in text


def test_same_bytes_as_telethon() -> None:
    from telethon.extensions import BinaryReader

    objects = [
        t.DcOption(id=2, ip_address="2001:67c:4e8:f002::a", port=443, ipv6=True, static=True,
                   secret=bytes(range(16))),
        t.User(id=1 << 40, self=True, bot=True, bot_info_version=3, access_hash=-1,
               first_name="\u00e9t\u00e9",
               username="x" * 300, status=t.UserStatusOnline(expires=5)),
        t.upload.File(type=t.storage.FileJpeg(), mtime=1, bytes=bytes(1000)),
        fn.messages.SendMessage(peer=t.InputPeerSelf(), message="hi", random_id=-7,
                                no_webpage=True),
    ]
    for obj in objects:
        data = bytes(obj)
        theirs = BinaryReader(data).tgread_object()
        assert bytes(theirs) == data, type(obj).__name__


# --- foreign objects and wrappers --------------------------------------------------------------

def test_foreign_query_inside_invoke_with_layer_and_init_connection() -> None:
    from telethon.tl.functions import InitConnectionRequest, InvokeWithLayerRequest
    from telethon.tl.functions.help import GetConfigRequest

    ours = fn.InvokeWithLayer(layer=228, query=_init_connection(GetConfigRequest()))
    theirs = InvokeWithLayerRequest(layer=228, query=InitConnectionRequest(
        api_id=12345, device_model="PC", system_version="Linux", app_version="1.0",
        system_lang_code="en", lang_pack="", lang_code="en", query=GetConfigRequest()))
    assert bytes(ours) == bytes(theirs)
    decoded = decode(bytes(ours))
    assert decoded.query.query == fn.help.GetConfig()
    # our own query gives the same bytes
    assert bytes(fn.InvokeWithLayer(layer=228, query=_init_connection(fn.help.GetConfig()))) \
        == bytes(ours)
    # raw, already serialized bytes are taken as they are
    raw = bytes(fn.help.GetConfig())
    assert bytes(fn.InvokeWithoutUpdates(query=raw)) == bytes(
        fn.InvokeWithoutUpdates(query=fn.help.GetConfig()))


def test_read_result_of_bare_and_boxed_results() -> None:
    ints = U32(0x1CB5C415) + U32(3) + struct.pack("<3i", 1, -2, 3)
    longs = U32(0x1CB5C415) + U32(2) + struct.pack("<2q", 1 << 40, -1)
    get_ids = fn.contacts.GetContactIDs(hash=0)
    assert get_ids.read_result(ints) == [1, -2, 3]
    assert get_ids.read_result(pack_gzip(ints)) == [1, -2, 3]
    assert fn.messages.ReceivedQueue(max_qts=1).read_result(longs) == [1 << 40, -1]
    assert fn.auth.LogOut().read_result(bytes(t.auth.LoggedOut())) == t.auth.LoggedOut()
    assert fn.account.UpdateStatus(offline=True).read_result(U32(0x997275B5)) is True
    users = [t.UserEmpty(id=1), t.UserEmpty(id=2)]
    data = U32(0x1CB5C415) + U32(2) + b"".join(bytes(u) for u in users)
    assert fn.users.GetUsers(id=[t.InputUserSelf()]).read_result(data) == users
    with pytest.raises(TLDecodeError) as trailing:
        get_ids.read_result(ints + b"\0\0\0\0")
    assert trailing.value.reason == "trailing_bytes"
    with pytest.raises(TLDecodeError) as wrong:
        fn.help.GetConfig().read_result(bytes(t.UserEmpty(id=1)))
    assert wrong.value.reason == "wrong_type"


def test_wrapped_walks_down_the_wrappers() -> None:
    inner = fn.contacts.GetContactIDs(hash=0)
    request = fn.InvokeWithLayer(layer=228, query=_init_connection(fn.InvokeWithoutUpdates(
        query=inner)))
    chain = []
    current: object = request
    while isinstance(current, TLFunction) and current.wrapped() is not None:
        chain.append(current.TL_NAME)
        current = current.wrapped()
    assert chain == ["invokeWithLayer", "initConnection", "invokeWithoutUpdates"]
    assert current is inner and inner.wrapped() is None


def test_wrappers_delegate_read_result_to_the_wrapped_query() -> None:
    ints = U32(0x1CB5C415) + U32(1) + struct.pack("<i", 42)
    wrapped = fn.InvokeWithLayer(layer=228, query=_init_connection(
        fn.InvokeAfterMsg(msg_id=5, query=fn.InvokeWithoutUpdates(
            query=fn.contacts.GetContactIDs(hash=0)))))
    assert wrapped.read_result(ints) == [42]
    from telethon.tl.functions.help import GetConfigRequest

    foreign = fn.InvokeWithLayer(layer=228, query=_init_connection(GetConfigRequest()))
    config = t.help.ConfigSimple(date=1, expires=2, rules=[])
    assert foreign.read_result(bytes(config)) == config  # generic decode


# --- Object fields, containers, rpc_result, gzip -----------------------------------------------

def test_rpc_result_results() -> None:
    user = t.UserEmpty(id=7)
    assert decode(bytes(m.RpcResult(req_msg_id=1, result=user))).result == user
    assert decode(bytes(m.RpcResult(req_msg_id=1, result=True))).result is True
    assert decode(bytes(m.RpcResult(req_msg_id=1, result=[user]))).result == [user]
    error = m.RpcError(error_code=420, error_message="FLOOD_WAIT_3")
    assert decode(bytes(m.RpcResult(req_msg_id=1, result=error))).result == error
    # a bare vector cannot be decoded without the request: the raw bytes come back
    longs = U32(0x1CB5C415) + U32(2) + struct.pack("<2q", 5, 6)
    result = decode(bytes(m.RpcResult(req_msg_id=9, result=longs))).result
    assert result == longs
    assert fn.messages.ReceivedQueue(max_qts=1).read_result(result) == [5, 6]
    # gzip_packed results are inflated
    packed = m.RpcResult(req_msg_id=3, result=pack_gzip(bytes(user)))
    assert decode(bytes(packed)).result == user


def test_container_messages_carry_their_body_length() -> None:
    bodies = [fn.help.GetConfig(), m.MsgsAck(msg_ids=[1, 2]), m.RpcResult(
        req_msg_id=4, result=U32(0x1CB5C415) + U32(1) + struct.pack("<q", 1))]
    container = m.MsgContainer(messages=[m.Message(msg_id=8 + 4 * i, seqno=i, body=b)
                                         for i, b in enumerate(bodies)])
    data = bytes(container)
    pos = 8
    for i, body in enumerate(bodies):
        msg_id, seqno, length = struct.unpack_from("<qii", data, pos)
        assert (msg_id, seqno, length) == (8 + 4 * i, i, len(bytes(body)))
        pos += 16 + length
    assert pos == len(data)
    assert decode(data) == container
    assert m.Message(msg_id=1, seqno=2, body=b"").__slots__ == ("msg_id", "seqno", "body")


def test_gzip_is_transparent_in_fields_and_encodable_as_a_class() -> None:
    user = t.UserEmpty(id=9)
    auth = bytes(t.auth.Authorization(user=user))
    gz_field = auth[:8] + pack_gzip(bytes(user))
    assert decode(gz_field) == t.auth.Authorization(user=user)
    packed = m.GzipPacked(packed_data=read_bytes(pack_gzip(bytes(user)), 4)[0])
    assert bytes(packed)[:4] == U32(GZIP_PACKED_ID)
    assert decode(bytes(packed)) == user
    vec = t.JsonArray(value=[t.JsonNull()])
    gz_vector = bytes(vec)[:4] + pack_gzip(bytes(vec)[4:])
    assert decode(gz_vector) == vec


def test_top_level_vectors_and_bools() -> None:
    data = U32(0x1CB5C415) + U32(3) + U32(0x997275B5) + U32(0xBC799737) + bytes(
        t.PeerUser(user_id=3))
    assert decode(data) == [True, False, t.PeerUser(user_id=3)]
    assert bytes(t.BoolTrue()) == U32(0x997275B5) and decode(bytes(t.BoolFalse())) is False


def test_tdlib_prefix_helpers_encode_the_wrapper_prefix() -> None:
    prefix = fn.InvokeWithBusinessConnectionPrefix(connection_id="abc")
    full = fn.InvokeWithBusinessConnection(connection_id="abc", query=fn.help.GetConfig())
    assert bytes(full).startswith(bytes(prefix))
    assert decode(bytes(full)) == full


def test_bundled_schema_errors() -> None:
    with pytest.raises(UsageError):
        registry.schema("nope")
