"""Bad bytes give TLDecodeError and nothing else; bad values give UsageError naming the field."""

from __future__ import annotations

import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sansio_mtdc.errors import TLDecodeError, UsageError
from sansio_mtdc.tl import api, decode, mtproto, read_object
from sansio_mtdc.tl.codec import (
    GZIP_MAX_SIZE,
    GZIP_PACKED_ID,
    VECTOR_ID,
    pack_bytes,
    pack_gzip,
    pack_string,
)

t = api.types
m = mtproto.types
U32 = struct.Struct("<I").pack


def _config() -> object:
    options = [t.DcOption(id=i, ip_address=f"10.0.0.{i}", port=443, ipv6=i % 2 == 0,
                          secret=bytes(16) if i == 3 else None) for i in range(5)]
    return t.Config(
        date=1, expires=2, test_mode=True, this_dc=2, dc_options=options,
        dc_txt_domain_name="x", chat_size_max=1, megagroup_size_max=2, forwarded_count_max=3,
        online_update_period_ms=4, offline_blur_timeout_ms=5, offline_idle_timeout_ms=6,
        online_cloud_timeout_ms=7, notify_cloud_delay_ms=8, notify_default_delay_ms=9,
        push_chat_period_ms=10, push_chat_limit=11, edit_time_limit=12, revoke_time_limit=13,
        revoke_pm_time_limit=14, rating_e_decay=15, stickers_recent_limit=16,
        channels_read_media_period=17, call_receive_timeout_ms=18, call_ring_timeout_ms=19,
        call_connect_timeout_ms=20, call_packet_timeout_ms=21, me_url_prefix="https://t.me/",
        caption_length_max=22, message_length_max=23, webfile_dc_id=4,
        suggested_lang_code="en", lang_pack_version=1, base_lang_pack_version=2,
        reactions_default=t.ReactionEmoji(emoticon="\U0001f44d"))


def _real_objects() -> list[object]:
    user = t.User(id=1 << 40, self=True, contact=True, access_hash=-5, first_name="Ann",
                  username="ann", photo=t.UserProfilePhoto(photo_id=7, dc_id=2,
                                                           stripped_thumb=b"\x01\x02"),
                  status=t.UserStatusRecently(), usernames=[t.Username(username="a",
                                                                       active=True)])
    return [
        _config(),
        t.upload.File(type=t.storage.FilePartial(), mtime=5, bytes=bytes(range(256)) * 2),
        user,
        m.MsgContainer(messages=[
            m.Message(msg_id=10, seqno=1, body=m.RpcResult(req_msg_id=9, result=user)),
            m.Message(msg_id=14, seqno=3, body=m.MsgsAck(msg_ids=[1, 2, 3])),
            m.Message(msg_id=18, seqno=5, body=m.RpcError(error_code=303,
                                                          error_message="FILE_MIGRATE_4")),
        ]),
        m.FutureSalts(req_msg_id=1, now=2, salts=[m.FutureSalt(valid_since=1, valid_until=2,
                                                               salt=3)] * 3),
        api.functions.InvokeWithLayer(layer=228, query=api.functions.InitConnection(
            api_id=1, device_model="d", system_version="s", app_version="a",
            system_lang_code="en", lang_pack="", lang_code="en",
            query=api.functions.help.GetConfig())),
        m.ResPQ(nonce=bytes(16), server_nonce=bytes(range(16)), pq=b"\x17\xed\x48\x94\x1a\x08"
                b"\xf9\x81", server_public_key_fingerprints=[-3414540481677951611]),
    ]


@pytest.mark.parametrize("obj", _real_objects(), ids=lambda o: type(o).__name__)
def test_every_truncation_is_a_decode_error(obj: object) -> None:
    data = bytes(obj)
    for cut in range(len(data)):
        with pytest.raises(TLDecodeError):
            decode(data[:cut])
        try:
            value, end = read_object(data[:cut])
        except TLDecodeError:
            continue
        assert end <= cut and bytes(value) == data[:end]  # type: ignore[call-overload]


def test_trailing_bytes() -> None:
    data = bytes(_config())
    with pytest.raises(TLDecodeError) as exc:
        decode(data + b"\0\0\0\0")
    assert exc.value.reason == "trailing_bytes"
    value, end = read_object(data + b"\0\0\0\0")
    assert end == len(data) and value == _config()


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([0x73F1F8DC, 0xF35C6D01, VECTOR_ID, GZIP_PACKED_ID, 0xCC1A241E,
                        0x18B7A10D, 0x096A18D5, 0x05162463, 0xDA9B0D0D, 0x2144CA19,
                        0x3FEDD339, 0x20212CA8, None]),
       st.binary(max_size=200))
def test_random_bytes_only_raise_decode_errors(number: int | None, tail: bytes) -> None:
    data = tail if number is None else U32(number) + tail
    try:
        decode(data)
    except TLDecodeError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_real_objects_only_raise_decode_errors(data: st.DataObject) -> None:
    obj = data.draw(st.sampled_from(_real_objects()))
    raw = bytearray(bytes(obj))
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    try:
        value = decode(bytes(raw))
    except TLDecodeError:
        return
    if hasattr(value, "TL_NAME"):
        assert decode(bytes(value)) == value


@pytest.mark.parametrize("data", [
    U32(VECTOR_ID) + U32(0xFFFFFFFF) + bytes(16),                       # boxed items
    U32(0x62D6B459) + U32(VECTOR_ID) + U32(0x7FFFFFFF) + bytes(16),      # msgs_ack longs
    U32(0x73F1F8DC) + U32(0xFFFFFFFF) + bytes(64),                       # bare messages
    U32(0xAE500895) + bytes(12) + U32(1 << 31) + bytes(16),              # future_salt items
    U32(0xCC1A241E) + bytes(12) + U32(0x997275B5) + bytes(4) + U32(VECTOR_ID) + U32(1 << 30),
], ids=["objects", "longs", "messages", "salts", "dc_options"])
def test_huge_vector_counts_fail_fast(data: bytes) -> None:
    with pytest.raises(TLDecodeError) as exc:
        decode(data)
    assert exc.value.reason in ("bad_vector", "truncated")


def test_huge_string_length() -> None:
    data = U32(0x2144CA19) + U32(400) + b"\xfe\xff\xff\xff" + b"abc"
    with pytest.raises(TLDecodeError) as exc:
        decode(data)
    assert exc.value.reason == "truncated"
    with pytest.raises(TLDecodeError) as bad:
        decode(U32(0x2144CA19) + U32(400) + b"\xff" + bytes(11))
    assert bad.value.reason == "bad_length"


@pytest.mark.parametrize("layers", [10_000, 200_000])
def test_deep_nesting(layers: int) -> None:
    bold = U32(t.TextBold.CONSTRUCTOR_ID)
    with pytest.raises(TLDecodeError) as exc:
        decode(bold * layers + U32(t.TextEmpty.CONSTRUCTOR_ID))
    assert exc.value.reason == "too_deep"
    nested_vectors = (U32(VECTOR_ID) + U32(1)) * layers + U32(VECTOR_ID) + U32(0)
    with pytest.raises(TLDecodeError) as vec:
        decode(nested_vectors)
    assert vec.value.reason == "too_deep"
    # and decoding still works afterwards
    assert decode(bold * 50 + U32(t.TextEmpty.CONSTRUCTOR_ID)) is not None


def test_moderate_nesting_is_fine() -> None:
    value = t.TextEmpty()
    for _ in range(100):
        value = t.TextBold(text=value)
    assert decode(bytes(value)) == value


def _gzip_of(payload: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    return U32(GZIP_PACKED_ID) + pack_bytes(compressor.compress(payload) + compressor.flush())


def test_gzip_bomb() -> None:
    with pytest.raises(TLDecodeError) as exc:
        decode(_gzip_of(bytes(GZIP_MAX_SIZE + 4)))
    assert exc.value.reason == "gzip"


def test_gzip_budget_is_shared_by_one_decode() -> None:
    big = t.upload.File(type=t.storage.FileUnknown(), mtime=0, bytes=bytes(12 << 20))
    one = pack_gzip(bytes(big))
    assert len(one) < 100_000
    assert decode(U32(VECTOR_ID) + U32(2) + one + one) == [big, big]  # 24 MiB: within
    with pytest.raises(TLDecodeError) as exc:
        decode(U32(VECTOR_ID) + U32(3) + one + one + one)  # 36 MiB in one decode is not
    assert exc.value.reason == "gzip"
    assert decode(one) == big  # the next decode has its own budget


@pytest.mark.parametrize(("data", "reason"), [
    (_gzip_of(b"not a TL object"), "unknown_constructor"),
    (_gzip_of(bytes(t.TextEmpty()) + b"\0\0\0\0"), "trailing_bytes"),
    (U32(GZIP_PACKED_ID) + pack_bytes(b"\x1f\x8b garbage"), "gzip"),
    (U32(0xDEADBEEF), "unknown_constructor"),
    (U32(t.TextBold.CONSTRUCTOR_ID) + bytes(t.DcOption(id=1, ip_address="", port=1)),
     "wrong_type"),
    (U32(m.Pong.CONSTRUCTOR_ID) + bytes(16) + b"\0\0\0", "trailing_bytes"),
    (U32(0xCC1A241E) + bytes(12) + U32(0x12345678) + bytes(4), "bad_bool"),
    (U32(0x62D6B459) + U32(0x12345678) + bytes(4), "bad_vector"),
])
def test_reasons(data: bytes, reason: str) -> None:
    with pytest.raises(TLDecodeError) as exc:
        decode(data)
    assert exc.value.reason == reason


def test_message_body_length_must_match() -> None:
    good = bytes(m.MsgContainer(messages=[m.Message(msg_id=4, seqno=1, body=m.MsgsAck(
        msg_ids=[1]))]))
    body_len_at = 4 + 4 + 8 + 4
    for wrong in (0, 4, 16, 24, 0xFFFFFFFF, 0x7FFFFFFF):
        bad = good[:body_len_at] + U32(wrong) + good[body_len_at + 4:]
        with pytest.raises(TLDecodeError):
            decode(bad)


def test_decode_wants_bytes() -> None:
    assert decode(bytearray(bytes(t.TextEmpty()))) == t.TextEmpty()
    assert decode(memoryview(bytes(t.TextEmpty()))) == t.TextEmpty()
    with pytest.raises(UsageError):
        decode("text")  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        read_object(bytes(t.TextEmpty()), -1)


# --- encoding misuse ---------------------------------------------------------------------------

def _dc(**changes: object) -> object:
    fields: dict[str, object] = {"id": 2, "ip_address": "1.2.3.4", "port": 443}
    fields.update(changes)
    return t.DcOption(**fields)


@pytest.mark.parametrize(("obj", "where"), [
    (_dc(id=1 << 31), "DcOption.id"),
    (_dc(id="2"), "DcOption.id"),
    (_dc(id=None), "DcOption.id"),
    (_dc(port=2.0), "DcOption.port"),
    (_dc(ip_address=b"1.2.3.4"), "DcOption.ip_address"),
    (_dc(ip_address="\ud800"), "DcOption.ip_address"),
    (_dc(secret="text"), "DcOption.secret"),
    (mtproto.functions.ReqPqMulti(nonce=bytes(15)), "ReqPqMulti.nonce"),
    (mtproto.functions.ReqPqMulti(nonce=1234), "ReqPqMulti.nonce"),
    (m.PQInnerDataDc(pq=b"", p=b"", q=b"", nonce=bytes(16), server_nonce=bytes(16),
                     new_nonce=bytes(16), dc=2), "PQInnerDataDc.new_nonce"),
    (m.Pong(msg_id=1 << 63, ping_id=0), "Pong.msg_id"),
    (m.MsgsAck(msg_ids=[1, "2"]), "MsgsAck.msg_ids"),
    (m.MsgsAck(msg_ids=None), "MsgsAck.msg_ids"),
    (t.InputGeoPoint(lat="north", long=0.0), "InputGeoPoint.lat"),
    (t.auth.Authorization(user=5), "Authorization.user"),
    (t.auth.Authorization(user=t.DcOption(id=1, ip_address="", port=1)), "Authorization.user"),
    (t.UpdatesTooLong(), None),
    (m.MsgContainer(messages=[m.Pong(msg_id=1, ping_id=2)]), "MsgContainer.messages"),
    (m.MsgContainer(messages=[m.Message(msg_id=1, seqno=1, body=5)]), "MsgContainer.messages"),
    (m.RpcResult(req_msg_id=1, result=object()), "RpcResult.result"),
    (t.InputMediaPhoto(id=t.InputPhotoEmpty(), live_photo=True), "InputMediaPhoto.video"),
    (t.PeerSettings(business_bot_id=1), "PeerSettings.business_bot_manage_url"),
    (t.BoolTrue(), None),
    (t.JsonObject(value=[t.JsonObjectValue(key="k", value=t.JsonBool(value=1.5))]),
     "JsonBool.value"),
])
def test_wrong_values_are_usage_errors_naming_the_field(obj: object, where: str | None) -> None:
    if where is None:
        bytes(obj)  # type: ignore[call-overload]  # these are fine
        return
    before = repr(obj)
    with pytest.raises(UsageError) as exc:
        bytes(obj)  # type: ignore[call-overload]
    assert str(exc.value).startswith(where), str(exc.value)
    assert repr(obj) == before  # nothing about the object changed


def test_missing_arguments_are_type_errors_and_unknown_ones_too() -> None:
    with pytest.raises(TypeError):
        t.DcOption(id=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        t.DcOption(id=1, ip_address="", port=1, nope=2)  # type: ignore[call-arg]


def test_values_that_are_coerced_by_design() -> None:
    # an int is a fine double; bytearray is fine for bytes; any truthy value sets a true flag
    assert decode(bytes(t.InputGeoPoint(lat=1, long=2))) == t.InputGeoPoint(lat=1.0, long=2.0)
    assert bytes(_dc(secret=bytearray(b"ab"))) == bytes(_dc(secret=b"ab"))
    assert decode(bytes(_dc(ipv6=1))) == _dc(ipv6=True)
    assert pack_string("\udcff") == pack_bytes(b"\xff")  # surrogateescape'd bytes are bytes
