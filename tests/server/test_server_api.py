"""The API handlers through the dispatcher: every method, every error path, the wrappers."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sansio_mtdc.errors import RPCError
from sansio_mtdc.handshake import bind_temp_auth_key_message
from sansio_mtdc.server.config import ClusterConfig, DcAddress
from sansio_mtdc.server.files import ONE_MIB, check_download_range, sample_data
from sansio_mtdc.tl import api, decode

from .apihelpers import NOW, call, error, new_key, new_state, seeded, sign_in, upload_parts

F = api.functions
T = api.types
PHONE_2 = "9996621234"


def test_get_config_lists_every_dc_with_ordinary_addresses_first() -> None:
    addresses = (
        DcAddress(1, "10.0.0.1", 443, media_only=True),
        DcAddress(1, "10.0.0.1", 443),
        DcAddress(1, "fd00::1", 443),
        DcAddress(1, "10.0.0.1", 8443, tcpo_only=True, secret=bytes(16)),
        DcAddress(2, "10.0.0.2", 443),
    )
    state = new_state(dc_count=2, addresses=addresses, test_mode=True,
                      cdn_addresses=(DcAddress(203, "10.9.9.9", 443),))
    key = new_key(state, 2)
    config = call(state, 2, key, F.help.GetConfig(), now=NOW + 0.7)
    assert isinstance(config, T.Config)
    assert config.this_dc == 2 and config.test_mode is True
    assert config.date == int(NOW) and config.expires == int(NOW) + 3600
    flags = [(o.id, o.ip_address, o.port, o.ipv6, o.media_only, o.tcpo_only, o.cdn)
             for o in config.dc_options]
    assert flags == [
        (1, "10.0.0.1", 443, False, False, False, False),
        (1, "fd00::1", 443, True, False, False, False),
        (1, "10.0.0.1", 443, False, True, False, False),
        (1, "10.0.0.1", 8443, False, False, True, False),
        (2, "10.0.0.2", 443, False, False, False, False),
        (203, "10.9.9.9", 443, False, False, False, True),
    ]
    assert config.dc_options[3].secret == bytes(16)
    assert decode(bytes(config)) == config


def test_default_config_has_one_loopback_address_per_dc() -> None:
    state = new_state()
    config = call(state, 3, new_key(state, 3), F.help.GetConfig())
    assert [(o.id, o.ip_address) for o in config.dc_options] == [
        (n, "127.0.0.1") for n in range(1, 6)]
    assert len({o.port for o in config.dc_options}) == 5
    assert config.this_dc == 3


def test_nearest_dc() -> None:
    state = new_state(nearest_dc=4, country="DE")
    nearest = call(state, 2, new_key(state, 2), F.help.GetNearestDc())
    assert (nearest.country, nearest.this_dc, nearest.nearest_dc) == ("DE", 2, 4)


@pytest.mark.parametrize("kwargs", [
    {"dc_count": 0}, {"dc_count": 10}, {"nearest_dc": 6},
    {"addresses": (DcAddress(1, "fd00::1", 443),)},
    {"addresses": (DcAddress(7, "10.0.0.1", 443),)},
    {"cdn_addresses": (DcAddress(3, "10.0.0.1", 443),)},
    {"accept_no_secret": False}, {"proxy_secrets": (b"short",)},
    {"accepted_layers": range(5, 5)}, {"config_lifetime": 0},
])
def test_config_refuses_nonsense(kwargs: dict[str, Any]) -> None:
    from sansio_mtdc.errors import UsageError

    with pytest.raises(UsageError):
        ClusterConfig(**kwargs)


@pytest.mark.parametrize("bad", [
    {"ip_address": "localhost"}, {"port": 0}, {"secret": bytes(16)},
    {"secret": bytes(5), "tcpo_only": True},
])
def test_address_refuses_nonsense(bad: dict[str, Any]) -> None:
    from sansio_mtdc.errors import UsageError

    args: dict[str, Any] = {"dc_id": 1, "ip_address": "10.0.0.1", "port": 443, **bad}
    with pytest.raises(UsageError):
        DcAddress(**args)


# --- login -----------------------------------------------------------------------------------

def send_code(phone: str, **kw: Any) -> Any:
    args: dict[str, Any] = {"phone_number": phone, "api_id": 1, "api_hash": "h",
                            "settings": T.CodeSettings(), **kw}
    return F.auth.SendCode(**args)


def test_send_code_on_the_numbers_dc_and_migrate_elsewhere() -> None:
    state = new_state()
    key1, key2 = new_key(state, 1), new_key(state, 2)
    assert call(state, 1, key1, send_code(PHONE_2)) == error(303, "PHONE_MIGRATE_2")
    assert call(state, 1, key1, send_code("+999 66 2 1234")) == error(303, "PHONE_MIGRATE_2")
    sent = call(state, 2, key2, send_code(PHONE_2))
    assert isinstance(sent, T.auth.SentCode) and sent.phone_code_hash
    assert sent.type == T.auth.SentCodeTypeApp(length=5)


@pytest.mark.parametrize("phone", ["15551234567", "9996671234", "999662123", "99966212345"])
def test_send_code_refuses_other_numbers(phone: str) -> None:
    state = new_state()
    assert call(state, 2, new_key(state, 2), send_code(phone)) == error(
        400, "PHONE_NUMBER_INVALID")


def test_send_code_needs_an_api_id() -> None:
    state = new_state()
    assert call(state, 2, new_key(state, 2), send_code(PHONE_2, api_id=0)) == error(
        400, "API_ID_INVALID")


def test_sign_in_errors_and_success() -> None:
    state = new_state()
    key = new_key(state, 2)
    sent = call(state, 2, key, send_code(PHONE_2))
    h = sent.phone_code_hash

    def sign(**kw: Any) -> Any:
        args = {"phone_number": PHONE_2, "phone_code_hash": h, "phone_code": "22222", **kw}
        return call(state, 2, key, F.auth.SignIn(**args))

    assert sign(phone_code_hash="") == error(400, "PHONE_CODE_HASH_EMPTY")
    assert sign(phone_code_hash="beef") == error(400, "PHONE_CODE_HASH_INVALID")
    assert sign(phone_code="") == error(400, "PHONE_CODE_EMPTY")
    assert sign(phone_code="12345") == error(400, "PHONE_CODE_INVALID")
    assert call(state, 1, new_key(state, 1), F.auth.SignIn(
        phone_number=PHONE_2, phone_code_hash=h, phone_code="22222")) == error(
        303, "PHONE_MIGRATE_2")
    assert call(state, 2, key, F.users.GetUsers(id=[T.InputUserSelf()])) == error(
        401, "AUTH_KEY_UNREGISTERED")
    authorization = sign()
    assert isinstance(authorization, T.auth.Authorization)
    user = authorization.user
    assert user.self and user.id == int(PHONE_2) and user.phone == PHONE_2
    assert key.user_id == user.id
    assert sign() == error(400, "PHONE_CODE_HASH_INVALID")  # a code is good once


def test_resend_code_and_sign_up() -> None:
    state = new_state()
    key = new_key(state, 2)
    sent = call(state, 2, key, send_code(PHONE_2))
    again = call(state, 2, key, F.auth.ResendCode(phone_number=PHONE_2,
                                                  phone_code_hash=sent.phone_code_hash))
    assert again.phone_code_hash == sent.phone_code_hash
    assert call(state, 2, key, F.auth.ResendCode(phone_number=PHONE_2,
                                                 phone_code_hash="x")) == error(
        400, "PHONE_CODE_EXPIRED")
    assert call(state, 2, key, F.auth.SignUp(
        phone_number=PHONE_2, phone_code_hash=sent.phone_code_hash, first_name="a",
        last_name="b")) == error(400, "PHONE_NUMBER_OCCUPIED")


def test_users_updates_and_log_out() -> None:
    state = new_state()
    key = new_key(state, 2)
    me = sign_in(state, 2, key, PHONE_2).user
    other = sign_in(state, 3, new_key(state, 3), "9996631111").user
    users = call(state, 2, key, F.users.GetUsers(id=[
        T.InputUserSelf(), T.InputUser(user_id=other.id, access_hash=other.access_hash),
        T.InputUser(user_id=other.id, access_hash=other.access_hash + 1)]))
    assert users[0].id == me.id and users[0].self
    assert users[1].id == other.id and not users[1].self
    assert users[2] == T.UserEmpty(id=other.id)
    full = call(state, 2, key, F.users.GetFullUser(id=T.InputUserSelf()))
    assert full.full_user.id == me.id and full.users[0].id == me.id
    assert decode(bytes(full)) == full
    state_ = call(state, 2, key, F.updates.GetState())
    assert isinstance(state_, T.updates.State) and state_.date == int(NOW)
    diff = call(state, 2, key, F.updates.GetDifference(pts=state_.pts, date=state_.date,
                                                       qts=state_.qts))
    assert isinstance(diff, T.updates.DifferenceEmpty)
    assert isinstance(call(state, 2, key, F.auth.LogOut()), T.auth.LoggedOut)
    assert call(state, 2, key, F.updates.GetState()) == error(401, "AUTH_KEY_UNREGISTERED")
    assert call(state, 2, key, F.auth.LogOut()) == error(401, "AUTH_KEY_UNREGISTERED")


# --- authorization transfer and migration ---------------------------------------------------

def test_export_import_rules() -> None:
    state = new_state()
    home, file_dc = new_key(state, 2), new_key(state, 4)
    assert call(state, 2, home, F.auth.ExportAuthorization(dc_id=4)) == error(
        401, "AUTH_KEY_UNREGISTERED")
    user = sign_in(state, 2, home, PHONE_2).user
    for bad in (2, 0, 6, -4):
        assert call(state, 2, home, F.auth.ExportAuthorization(dc_id=bad)) == error(
            400, "DC_ID_INVALID")
    exported = call(state, 2, home, F.auth.ExportAuthorization(dc_id=4))
    assert exported.id == user.id and len(exported.bytes) >= 32
    assert state.counters.exports[2] == 1
    other_dc = new_key(state, 3)
    # wrong DC, wrong user, wrong bytes: refused, and the bytes stay good
    assert call(state, 3, other_dc, F.auth.ImportAuthorization(
        id=user.id, bytes=exported.bytes)) == error(400, "AUTH_BYTES_INVALID")
    assert call(state, 4, file_dc, F.auth.ImportAuthorization(
        id=user.id + 1, bytes=exported.bytes)) == error(400, "AUTH_BYTES_INVALID")
    assert call(state, 4, file_dc, F.auth.ImportAuthorization(
        id=user.id, bytes=exported.bytes[:-1] + b"?")) == error(400, "AUTH_BYTES_INVALID")
    imported = call(state, 4, file_dc, F.auth.ImportAuthorization(id=user.id,
                                                                  bytes=exported.bytes))
    assert imported.user.id == user.id and file_dc.user_id == user.id
    assert state.counters.imports[4] == 1
    again = new_key(state, 4)
    assert call(state, 4, again, F.auth.ImportAuthorization(
        id=user.id, bytes=exported.bytes)) == error(400, "AUTH_BYTES_INVALID")
    # an imported authorization is not a home: user data is asked for at home
    assert call(state, 4, file_dc, F.users.GetUsers(id=[T.InputUserSelf()])) == error(
        303, "USER_MIGRATE_2")
    assert call(state, 4, file_dc, F.auth.ExportAuthorization(dc_id=2)) == error(
        303, "USER_MIGRATE_2")


def test_migrated_user_gets_user_migrate_and_can_still_export() -> None:
    state = new_state()
    old = new_key(state, 2)
    user = sign_in(state, 2, old, PHONE_2).user
    state.users.migrate(user.id, 4)
    get_me = F.users.GetUsers(id=[T.InputUserSelf()])
    assert call(state, 2, old, get_me) == error(303, "USER_MIGRATE_4")
    assert call(state, 2, old, F.updates.GetState()) == error(303, "USER_MIGRATE_4")
    assert call(state, 2, old, send_code(PHONE_2)) == error(303, "PHONE_MIGRATE_4")
    exported = call(state, 2, old, F.auth.ExportAuthorization(dc_id=4))
    new = new_key(state, 4)
    assert call(state, 4, new, F.auth.ImportAuthorization(
        id=user.id, bytes=exported.bytes)).user.id == user.id
    assert call(state, 4, new, get_me)[0].id == user.id


# --- wrappers and checks --------------------------------------------------------------------

def init(query: Any, **kw: Any) -> Any:
    args: dict[str, Any] = {"api_id": 5, "device_model": "d", "system_version": "s",
                            "app_version": "a", "system_lang_code": "en", "lang_pack": "",
                            "lang_code": "en", "query": query, **kw}
    return F.InitConnection(**args)


def test_wrappers_are_unwrapped_and_checked() -> None:
    state = new_state()
    key = new_key(state, 2, inited=False)
    assert call(state, 2, key, F.help.GetConfig()) == error(400, "CONNECTION_NOT_INITED")
    assert call(state, 2, key, F.InvokeWithLayer(layer=100, query=init(
        F.help.GetConfig()))) == error(400, "CONNECTION_LAYER_INVALID")
    assert call(state, 2, key, F.InvokeWithLayer(layer=229, query=init(
        F.help.GetConfig(), api_id=0))) == error(400, "API_ID_INVALID")
    config = call(state, 2, key, F.InvokeWithoutUpdates(query=F.InvokeWithLayer(
        layer=229, query=init(F.help.GetConfig()))))
    assert isinstance(config, T.Config)
    assert key.client is not None and key.client.api_id == 5 and key.client.layer == 229
    assert isinstance(call(state, 2, key, F.help.GetNearestDc()), T.NearestDc)
    assert state.counters.executions("help.getConfig") == 1
    assert state.counters.executions("invokeWithLayer") == 0


def test_requests_that_are_no_served_method() -> None:
    state = new_state()
    key = new_key(state, 2)
    assert call(state, 2, key, T.Config) == error(400, "INPUT_METHOD_INVALID")
    assert call(state, 2, key, T.NearestDc(country="", this_dc=1, nearest_dc=1)) == error(
        400, "INPUT_METHOD_INVALID")
    assert call(state, 2, key, F.InvokeWithLayer(layer=229, query=T.UserEmpty(id=1))) == error(
        400, "INPUT_METHOD_INVALID")
    assert call(state, 2, key, F.messages.GetDialogFilters()) == error(
        400, "METHOD_NOT_SUPPORTED")
    assert call(state, 2, key, F.InvokeWithTakeout(
        takeout_id=1, query=F.help.GetConfig())) == error(400, "METHOD_NOT_SUPPORTED")
    assert sum(state.counters.executed.values()) == 0


def test_unbound_temporary_key_and_binding() -> None:
    state = new_state()
    perm = new_key(state, 2)
    user = sign_in(state, 2, perm, PHONE_2).user
    temp = new_key(state, 2, temporary=True, inited=False)
    assert isinstance(call(state, 2, temp, init(F.help.GetConfig())), T.Config)
    assert call(state, 2, temp, F.updates.GetState()) == error(401, "AUTH_KEY_PERM_EMPTY")
    binding = bind_temp_auth_key_message(
        perm_key=perm.auth_key, temp_key=temp.auth_key, temp_session_id=99,
        expires_at=int(NOW) + 600, msg_id=4000, random=seeded(3))
    request = binding.request()
    assert call(state, 2, temp, request, msg_id=4004, session_id=99) == error(
        400, "ENCRYPTED_MESSAGE_INVALID")
    assert call(state, 2, temp, request, msg_id=4000, session_id=98) == error(
        400, "ENCRYPTED_MESSAGE_INVALID")
    assert call(state, 2, perm, request, msg_id=4000, session_id=99) == error(
        400, "TEMP_AUTH_KEY_EMPTY")
    assert call(state, 2, temp, request, msg_id=4000, session_id=99) is True
    assert temp.perm is perm and temp.user == user.id and temp.expires_at == int(NOW) + 600
    # initConnection again after binding, then the permanent key's user is ours
    assert call(state, 2, temp, F.updates.GetState()) == error(400, "CONNECTION_NOT_INITED")
    assert isinstance(call(state, 2, temp, init(F.updates.GetState())), T.updates.State)
    other_perm = new_key(state, 2)
    rebind = bind_temp_auth_key_message(
        perm_key=other_perm.auth_key, temp_key=temp.auth_key, temp_session_id=99,
        expires_at=int(NOW) + 600, msg_id=4008, random=seeded(4))
    assert call(state, 2, temp, rebind.request(), msg_id=4008, session_id=99) == error(
        400, "TEMP_AUTH_KEY_ALREADY_BOUND")


def test_injected_errors_take_the_place_of_execution() -> None:
    state = new_state()
    key = new_key(state, 2)
    sign_in(state, 2, key, PHONE_2)
    from sansio_mtdc.server.faults import InjectedError

    state.faults.errors.append(InjectedError(RPCError(420, "FLOOD_WAIT_7"), "updates.getState",
                                             2, remaining=2, unauthorize=False))
    state.faults.errors.append(InjectedError(RPCError(401, "SESSION_REVOKED"), None, 3,
                                             remaining=1, unauthorize=True))
    get_state = F.updates.GetState()
    assert call(state, 2, key, get_state) == error(420, "FLOOD_WAIT_7")
    assert call(state, 2, key, F.help.GetConfig()).this_dc == 2
    assert call(state, 2, key, get_state) == error(420, "FLOOD_WAIT_7")
    assert isinstance(call(state, 2, key, get_state), T.updates.State)
    assert state.counters.executions("updates.getState") == 1
    assert state.counters.injected[(2, "updates.getState")] == 2
    key3 = new_key(state, 3)
    exported = call(state, 2, key, F.auth.ExportAuthorization(dc_id=3))
    assert call(state, 3, key3, F.auth.ImportAuthorization(
        id=exported.id, bytes=exported.bytes)) == error(401, "SESSION_REVOKED")
    assert key3.user_id is None


# --- files ----------------------------------------------------------------------------------

def uploaded_document(state: Any, dc_id: int, key: Any, data: bytes, *, big: bool = False,
                      part_size: int = 512 * 1024, mime: str = "application/zip") -> Any:
    parts = upload_parts(state, dc_id, key, 55, data, part_size, big=big)
    file = (T.InputFileBig(id=55, parts=parts, name="a.zip") if big else
            T.InputFile(id=55, parts=parts, name="a.zip",
                        md5_checksum=hashlib.md5(data).hexdigest()))
    media = call(state, dc_id, key, F.messages.UploadMedia(
        peer=T.InputPeerSelf(), media=T.InputMediaUploadedDocument(
            file=file, mime_type=mime, attributes=[])))
    assert isinstance(media, T.MessageMediaDocument), media
    return media.document


def location(document: Any, **kw: Any) -> Any:
    args = {"id": document.id, "access_hash": document.access_hash,
            "file_reference": document.file_reference, "thumb_size": "", **kw}
    return T.InputDocumentFileLocation(**args)


@pytest.mark.parametrize("big", [False, True])
def test_upload_then_download_from_another_dc(big: bool) -> None:
    state = new_state()
    uploader = new_key(state, 2)
    sign_in(state, 2, uploader, PHONE_2)
    data = sample_data(9, 1_300_000)
    document = uploaded_document(state, 2, uploader, data, big=big)
    assert document.dc_id == 2 and document.size == len(data)
    assert document.attributes == [T.DocumentAttributeFilename(file_name="a.zip")]
    reader_home = new_key(state, 3)
    sign_in(state, 3, reader_home, "9996630001")
    get = F.upload.GetFile(location=location(document), offset=0, limit=ONE_MIB)
    assert call(state, 3, reader_home, get) == error(303, "FILE_MIGRATE_2")
    reader_there = new_key(state, 2)
    assert call(state, 2, reader_there, get) == error(401, "AUTH_KEY_UNREGISTERED")
    exported = call(state, 3, reader_home, F.auth.ExportAuthorization(dc_id=2))
    call(state, 2, reader_there, F.auth.ImportAuthorization(id=exported.id,
                                                            bytes=exported.bytes))
    first = call(state, 2, reader_there, get)
    second = call(state, 2, reader_there, F.upload.GetFile(
        location=location(document), offset=ONE_MIB, limit=ONE_MIB))
    assert first.bytes + second.bytes == data
    assert isinstance(first.type, T.storage.FilePartial) and first.mtime == int(NOW)
    end = call(state, 2, reader_there, F.upload.GetFile(
        location=location(document), offset=2 * ONE_MIB, limit=ONE_MIB))
    assert end.bytes == b""


def test_whole_small_file_gets_its_storage_type() -> None:
    state = new_state()
    key = new_key(state, 2)
    sign_in(state, 2, key, PHONE_2)
    document = uploaded_document(state, 2, key, b"\xff\xd8" + bytes(5000), mime="image/jpeg")
    got = call(state, 2, key, F.upload.GetFile(location=location(document), offset=0,
                                               limit=8192))
    assert isinstance(got.type, T.storage.FileJpeg) and len(got.bytes) == 5002


def test_download_location_errors() -> None:
    state = new_state()
    key = new_key(state, 2)
    sign_in(state, 2, key, PHONE_2)
    document = uploaded_document(state, 2, key, bytes(10_000))

    def get(loc: Any) -> Any:
        return call(state, 2, key, F.upload.GetFile(location=loc, offset=0, limit=4096))

    assert get(location(document, access_hash=document.access_hash ^ 1)) == error(
        400, "FILE_ID_INVALID")
    assert get(location(document, id=document.id + 1)) == error(400, "FILE_ID_INVALID")
    assert get(location(document, file_reference=b"")) == error(400, "FILE_REFERENCE_EMPTY")
    assert get(location(document, file_reference=b"x" * 20)) == error(
        400, "FILE_REFERENCE_INVALID")
    assert get(location(document, thumb_size="m")) == error(400, "LOCATION_INVALID")
    assert get(T.InputPhotoFileLocation(id=document.id, access_hash=1, file_reference=b"",
                                        thumb_size="m")) == error(400, "LOCATION_INVALID")
    hashes = call(state, 2, key, F.upload.GetFileHashes(location=location(document), offset=0))
    assert hashes == [T.FileHash(offset=0, limit=10_000,
                                 hash=hashlib.sha256(bytes(10_000)).digest())]


@pytest.mark.parametrize(("offset", "limit", "precise", "expected"), [
    (0, 4096, False, None), (4096, 1 << 20, False, "LIMIT_INVALID"),
    (0, 1 << 20, False, None), (1 << 20, 512 * 1024, False, None),
    (1024, 4096, False, "OFFSET_INVALID"), (0, 12288, False, "LIMIT_INVALID"),
    (0, 0, False, "LIMIT_INVALID"), (-4096, 4096, False, "OFFSET_INVALID"),
    (0, 2 << 20, False, "LIMIT_INVALID"), (1024, 3072, True, None),
    (512, 1024, True, "OFFSET_INVALID"), (0, 1536, True, "LIMIT_INVALID"),
    ((1 << 20) - 1024, 2048, True, "LIMIT_INVALID"), (0, (1 << 20) + 1024, True,
                                                      "LIMIT_INVALID"),
])
def test_download_range_rules(offset: int, limit: int, precise: bool,
                              expected: str | None) -> None:
    if expected is None:
        check_download_range(offset, limit, precise=precise)
    else:
        with pytest.raises(RPCError) as caught:
            check_download_range(offset, limit, precise=precise)
        assert caught.value == error(400, expected)


@settings(max_examples=60, deadline=None)
@given(offset_kib=st.integers(0, 3000), limit_kib=st.integers(1, 1024), precise=st.booleans())
def test_any_accepted_range_reads_exactly_those_bytes(offset_kib: int, limit_kib: int,
                                                      precise: bool) -> None:
    offset, limit = offset_kib * 1024, limit_kib * 1024
    try:
        check_download_range(offset, limit, precise=precise)
    except RPCError:
        return
    stored = _STATE.find_file(_DOC.id)
    assert stored is not None
    got = stored.read(offset, limit)
    assert got.bytes == _DATA[offset:offset + limit]
    assert offset // ONE_MIB == (offset + limit - 1) // ONE_MIB


_STATE = new_state()
_DATA = sample_data(1, 2_500_000)
_DOC = _STATE.store_file(1, _DATA, name="x", mime_type="text/plain", now=NOW).document


@pytest.mark.parametrize(("parts", "expected"), [
    ([b"a" * 1024, b"b" * 1000], None),
    ([b"a" * 1024, b"b" * 2048], "FILE_PART_SIZE_CHANGED"),
    ([b"a" * 1000, b"b" * 10], "FILE_PART_SIZE_INVALID"),
    ([b"a" * 3072, b"b" * 10], "FILE_PART_SIZE_INVALID"),
    ([b"a" * 2048, b"b" * 2048, b"c"], None),
    ([b"a" * 2048, b"b" * 1024, b"c"], "FILE_PART_SIZE_CHANGED"),
])
def test_part_size_rules(parts: list[bytes], expected: str | None) -> None:
    state = new_state()
    key = new_key(state, 2)
    sign_in(state, 2, key, PHONE_2)
    for index, chunk in enumerate(parts):
        assert call(state, 2, key, F.upload.SaveFilePart(file_id=9, file_part=index,
                                                         bytes=chunk)) is True
    media = call(state, 2, key, F.messages.UploadMedia(peer=T.InputPeerSelf(),
                 media=T.InputMediaUploadedDocument(
                     file=T.InputFile(id=9, parts=len(parts), name="f", md5_checksum=""),
                     mime_type="", attributes=[])))
    if expected is None:
        assert media.document.size == sum(map(len, parts))
        assert media.document.mime_type == "application/octet-stream"
    else:
        assert media == error(400, expected)


def test_save_part_and_upload_media_errors() -> None:
    state = new_state(upload_max_parts=10)
    key = new_key(state, 2)

    def save(part: int, data: bytes, total: int | None = None) -> Any:
        if total is None:
            return call(state, 2, key, F.upload.SaveFilePart(file_id=1, file_part=part,
                                                             bytes=data))
        return call(state, 2, key, F.upload.SaveBigFilePart(
            file_id=2, file_part=part, file_total_parts=total, bytes=data))

    assert save(0, b"x") == error(401, "AUTH_KEY_UNREGISTERED")
    sign_in(state, 2, key, PHONE_2)
    assert save(-1, b"x") == error(400, "FILE_PART_INVALID")
    assert save(10, b"x") == error(400, "FILE_PART_INVALID")
    assert save(0, b"") == error(400, "FILE_PART_EMPTY")
    assert save(0, bytes(512 * 1024 + 1)) == error(400, "FILE_PART_TOO_BIG")
    assert save(0, b"x", total=11) == error(400, "FILE_PARTS_INVALID")
    assert save(3, b"x", total=3) == error(400, "FILE_PART_INVALID")
    assert save(2, b"", total=3) is True  # a stream may end with an empty part
    assert save(0, b"x" * 1024) is True

    def upload(file: Any, media: Any = None, peer: Any = None) -> Any:
        media = media or T.InputMediaUploadedDocument(file=file, mime_type="a/b",
                                                      attributes=[])
        return call(state, 2, key, F.messages.UploadMedia(peer=peer or T.InputPeerSelf(),
                                                          media=media))

    small = T.InputFile(id=1, parts=1, name="f", md5_checksum="")
    assert upload(small, peer=T.InputPeerEmpty()) == error(400, "PEER_ID_INVALID")
    assert upload(small, media=T.InputMediaEmpty()) == error(400, "MEDIA_INVALID")
    assert upload(T.InputFile(id=1, parts=11, name="f", md5_checksum="")) == error(
        400, "FILE_PARTS_INVALID")
    assert upload(T.InputFile(id=1, parts=2, name="f", md5_checksum="")) == error(
        400, "FILE_PART_1_MISSING")
    assert upload(T.InputFile(id=404, parts=1, name="f", md5_checksum="")) == error(
        400, "FILE_PART_0_MISSING")
    assert upload(T.InputFile(id=1, parts=1, name="f", md5_checksum="00")) == error(
        400, "MD5_CHECKSUM_INVALID")
    assert upload(T.InputFileBig(id=2, parts=2, name="f")) == error(400, "FILE_PARTS_INVALID")
    document = upload(small).document
    assert document.size == 1024 and document.dc_id == 2
    assert upload(small) == error(400, "FILE_PART_0_MISSING")  # parts are used up
    key3 = new_key(state, 3)
    exported = call(state, 2, key, F.auth.ExportAuthorization(dc_id=3))
    call(state, 3, key3, F.auth.ImportAuthorization(id=exported.id, bytes=exported.bytes))
    assert call(state, 3, key3, F.upload.SaveFilePart(file_id=1, file_part=0,
                                                      bytes=b"y")) is True
    assert call(state, 3, key3, F.messages.UploadMedia(peer=T.InputPeerSelf(), media=(
        T.InputMediaUploadedDocument(file=small, mime_type="", attributes=[])))) == error(
        303, "USER_MIGRATE_2")


def test_results_encode() -> None:
    state = new_state()
    key = new_key(state, 2)
    results = [call(state, 2, key, F.help.GetConfig()), sign_in(state, 2, key, PHONE_2)]
    results.append(call(state, 2, key, F.auth.ExportAuthorization(dc_id=1)))
    for result in results:
        assert decode(bytes(result)) == result


def test_same_seed_same_cluster() -> None:
    def run(seed: int) -> tuple[Any, ...]:
        state = new_state(seed)
        key = new_key(state, 2)
        user = sign_in(state, 2, key, PHONE_2).user
        stored = state.store_file(2, b"abc", name="n", mime_type="m", now=NOW)
        return user.access_hash, stored.id, stored.access_hash, stored.file_reference

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_config_endpoints_make_a_client_dc_table() -> None:
    from sansio_mtdc.dc import DcTable

    config = ClusterConfig(dc_count=2, addresses=(
        DcAddress(1, "127.0.0.1", 1001), DcAddress(1, "::1", 1001),
        DcAddress(1, "127.0.0.1", 2001, media_only=True), DcAddress(2, "127.0.0.1", 1002)),
        cdn_addresses=(DcAddress(201, "127.0.0.2", 443),))
    table = DcTable(config.endpoints(), keys="reference")
    assert table.dc_ids() == [1, 2] and table.dc_ids(cdn=True) == [201]
    assert [(e.host, e.ipv6, e.media_only) for e in table.endpoints(1)] == [
        ("127.0.0.1", False, False), ("::1", True, False), ("127.0.0.1", False, True)]
