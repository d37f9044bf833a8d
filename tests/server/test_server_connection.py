"""ServerConnection through the real stack: every transport, the handshake, routing, bad bytes."""

from __future__ import annotations

import hashlib
import struct

import pytest

from sansio_mtdc.crypto.mtproto2 import AuthKey
from sansio_mtdc.errors import RPCError
from sansio_mtdc.handshake import bind_temp_auth_key_message
from sansio_mtdc.server import ClusterConfig
from sansio_mtdc.tl import api, mtproto

from .wiring import NOW, TRANSPORTS, Client, cluster, installed_key, seeded, sign_in

F = api.functions
T = api.types


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_transport_handshake_then_api(transport: str) -> None:
    c = cluster()
    client = Client(c, 2, transport=transport)
    client.login_key()
    assert c.counters.handshakes[2] == 1
    config = client.invoke(F.help.GetConfig())
    assert isinstance(config, T.Config) and config.this_dc == 2
    assert client.invoke(F.users.GetUsers(id=[T.InputUserSelf()])) == RPCError(
        401, "AUTH_KEY_UNREGISTERED")
    authorization = sign_in(client, "9996621234")
    assert authorization.user.id == 9996621234
    assert client.invoke(F.users.GetUsers(id=[T.InputUserSelf()]))[0].self
    assert not client.conn.closed
    assert client.conn.transport == ("Obfuscated" if transport.startswith("obfuscated")
                                     else type(client.codec).__name__)


def test_proxy_secrets() -> None:
    secret = bytes(range(16))
    c = cluster(proxy_secrets=(secret,), accept_no_secret=False)
    good = Client(c, 1, transport="obfuscated-intermediate", secret=secret)
    key, salt = installed_key(c, 1)
    good.use_key(key, salt)
    assert good.invoke(F.help.GetConfig()).this_dc == 1
    dd = Client(c, 1, transport="obfuscated-abridged", secret=b"\xdd" + secret, seed=2)
    dd.use_key(key, salt)
    assert dd.invoke(F.help.GetNearestDc()).this_dc == 1
    assert dd.conn.transport == "Obfuscated"
    bad = Client(c, 1, transport="obfuscated-intermediate", seed=3)
    bad.use_key(key, salt)
    bad.pump()
    bad.invoke(F.help.GetConfig())
    assert bad.conn.close_reason is not None
    assert (bad.conn.close_reason.kind, bad.conn.close_reason.reason) == (
        "framing", "bad_obfuscation")


def test_unknown_key_gets_404_and_the_connection_stays_usable() -> None:
    c = cluster()
    client = Client(c, 3)
    stranger, salt = installed_key(cluster(seed=9), 3)  # a key another cluster made
    client.use_key(stranger, salt)
    client.invoke(F.help.GetConfig())
    assert client.transport_errors == [-404]
    assert not client.conn.closed
    client.session = None
    client.login_key()
    assert client.invoke(F.help.GetConfig()).this_dc == 3


def test_second_handshake_on_the_same_connection() -> None:
    c = cluster()
    client = Client(c, 1)
    first = client.make_key()
    second = client.make_key()
    assert first.auth_key != second.auth_key
    assert c.counters.handshakes[1] == 2
    assert {r.id for r in c.auth_keys(1)} == {first.auth_key.id, second.auth_key.id}


def test_handshake_for_another_kind_of_dc_gets_444() -> None:
    c = cluster(test_mode=True)
    client = Client(c, 2)
    with pytest.raises(AssertionError):
        client.make_key()  # a production DC id (2) on a test cluster (10002)
    assert client.transport_errors == [-444]
    assert client.conn.close_reason is not None
    assert (client.conn.close_reason.kind, client.conn.close_reason.reason) == (
        "handshake", "wrong_dc")
    ok = Client(c, 2, seed=2)
    ok.make_key(dc_id=-10002)  # the media variant of the test DC
    assert c.counters.handshakes[2] == 1


def test_broken_handshake_gets_404_and_close() -> None:
    from sansio_mtdc.handshake import pack_plain

    c = cluster()
    client = Client(c, 2)
    request = mtproto.functions.ReqDHParams(nonce=bytes(16), server_nonce=bytes(16), p=b"\1",
                                            q=b"\1", public_key_fingerprint=1,
                                            encrypted_data=b"")
    client.send_payload(pack_plain(int(NOW * 2**32) & ~3, bytes(request)))
    assert client.transport_errors == [-404]
    assert client.conn.close_reason is not None and client.conn.close_reason.kind == "handshake"


@pytest.mark.parametrize("garbage", [
    b"GET / HTTP/1.1\r\n\r\n", b"\x16\x03\x01\x02\x00", b"\xef\x7f" + bytes(600),
    b"\xee\xee\xee\xee" + b"\xff\xff\xff\x7f", bytes(range(64)) * 2,
])
def test_garbage_closes_only_that_connection(garbage: bytes) -> None:
    c = cluster()
    honest = Client(c, 2)
    key, salt = installed_key(c, 2)
    honest.use_key(key, salt)
    assert honest.invoke(F.help.GetConfig()).this_dc == 2
    bad = c.connect(2, now=NOW)
    bad.receive_data(garbage, now=NOW)
    bad.receive_data(b"more", now=NOW)
    assert bad.closed and bad.close_reason is not None
    assert bad.close_reason.kind in ("framing", "handshake")
    assert honest.invoke(F.help.GetNearestDc()).this_dc == 2
    assert not honest.conn.closed
    assert bad not in c.connections() and honest.conn in c.connections()


def test_tampered_packet_closes_with_security_reason() -> None:
    c = cluster()
    client = Client(c, 2)
    key, salt = installed_key(c, 2)
    session = client.use_key(key, salt)
    session.invoke(F.help.GetConfig(), token="t", now=NOW)
    payload = bytearray(session.data_to_send(now=NOW)[0])
    payload[-1] ^= 1
    client.send_payload(bytes(payload))
    assert client.transport_errors == [-404]
    reason = client.conn.close_reason
    assert reason is not None and (reason.kind, reason.reason) == ("security", "msg_key")


def test_quick_ack_token_matches_the_clients() -> None:
    c = cluster()
    client = Client(c, 2, transport="abridged")
    key, salt = installed_key(c, 2)
    session = client.use_key(key, salt)
    session.invoke(F.help.GetConfig(), token="t", now=NOW)
    payload = session.data_to_send(now=NOW)[0]
    client.send_payload(payload, quick_ack=True)
    plaintext = key.decrypt(payload, 0)
    expected = int.from_bytes(hashlib.sha256(key.key[88:120] + plaintext).digest()[:4],
                              "little") & 0x7FFFFFFF
    assert client.quick_acks == [expected]
    assert isinstance(client.outcome("t"), T.Config)


def test_replayed_packet_is_not_executed_twice() -> None:
    c = cluster()
    client = Client(c, 2)
    key, salt = installed_key(c, 2)
    session = client.use_key(key, salt)
    session.invoke(F.help.GetConfig(), token="t", now=NOW)
    payload = session.data_to_send(now=NOW)[0]
    client.send_payload(payload)
    client.send_payload(payload)
    client.send_payload(payload)
    assert c.counters.executions("help.getConfig", 2) == 1
    assert isinstance(client.outcome("t"), T.Config)


def encrypted(key: AuthKey, salt: int, session_id: int, msg_id: int, seqno: int,
              body: bytes) -> bytes:
    """A client packet made by hand (for messages whose msg_id must be known in advance)."""
    plaintext = struct.pack("<qqqii", salt, session_id, msg_id, seqno, len(body)) + body
    return key.encrypt(plaintext, bytes(12 + (-(len(plaintext) + 12) & 15)), 0)


def test_temporary_key_binding_and_expiry() -> None:
    c = cluster()
    perm = Client(c, 2, seed=1)
    perm_result = perm.make_key()
    perm.use_key(perm_result.auth_key, perm_result.server_salt)
    user = sign_in(perm, "9996621234").user
    temp = Client(c, 2, seed=2)
    temp_result = temp.make_key(temp_expires_in=100)
    assert temp_result.expires_at == int(NOW) + 100
    temp.use_key(temp_result.auth_key, temp_result.server_salt)
    assert temp.invoke(F.updates.GetState()) == RPCError(401, "AUTH_KEY_PERM_EMPTY")
    session_id, msg_id = 1234, int(NOW * 2**32) & ~3
    binding = bind_temp_auth_key_message(
        perm_key=perm_result.auth_key, temp_key=temp_result.auth_key,
        temp_session_id=session_id, expires_at=int(NOW) + 100, msg_id=msg_id,
        random=seeded(1))
    temp.send_payload(encrypted(temp_result.auth_key, temp_result.server_salt, session_id,
                                msg_id, 1, bytes(binding.request())))
    records = {r.id: r for r in c.auth_keys(2)}
    assert records[temp_result.auth_key.id].perm is records[perm_result.auth_key.id]
    assert c.counters.executions("auth.bindTempAuthKey") == 1
    temp.use_key(temp_result.auth_key, temp_result.server_salt)  # initConnection again
    assert temp.invoke(F.users.GetUsers(id=[T.InputUserSelf()]))[0].id == user.id
    temp.advance(101)
    temp.invoke(F.help.GetConfig())
    assert set(temp.transport_errors) == {-404}
    assert temp_result.auth_key.id not in {r.id for r in c.auth_keys(2)}


def test_connection_lost_and_closed_connections_ignore_input() -> None:
    c = cluster()
    conn = c.connect(1, now=NOW)
    conn.connection_lost(now=NOW)
    assert conn.close_reason is not None and conn.close_reason.kind == "lost"
    conn.receive_data(b"\xef" + bytes(8), now=NOW)
    assert conn.data_to_send() == b""
    conn2 = c.connect(1, now=NOW)
    conn2.close()
    assert conn2.close_reason is not None and conn2.close_reason.kind == "local"
    assert c.counters.closes == {"lost": 1, "local": 1}


def test_usage_errors() -> None:
    from sansio_mtdc.errors import UsageError

    c = cluster()
    with pytest.raises(UsageError):
        c.connect(6, now=NOW)
    conn = c.connect(1, now=NOW)
    with pytest.raises(UsageError):
        conn.receive_data("text", now=NOW)  # type: ignore[arg-type]
    for bad_now in (float("nan"), -1.0, 2.0**31, True):
        with pytest.raises(UsageError):
            conn.receive_data(b"\xef", now=bad_now)
    assert not conn.closed and conn.transport is None


def test_same_inputs_same_bytes() -> None:
    def run() -> list[bytes]:
        c = cluster(seed=5)
        client = Client(c, 2, seed=5)
        seen: list[bytes] = []
        original = client.conn.data_to_send

        def recording() -> bytes:
            data = original()
            seen.append(data)
            return data

        client.conn.data_to_send = recording  # type: ignore[method-assign]
        client.login_key()
        sign_in(client, "9996621234")
        return seen

    assert run() == run()


def test_config_default_key_is_the_reference_key() -> None:
    from sansio_mtdc.crypto import reference_cluster_key

    assert ClusterConfig().private_key == reference_cluster_key()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_served_method_through_the_stack(transport: str) -> None:
    """Each served method once, on each transport, with the answers a client expects."""
    c = cluster()
    wrong = Client(c, 1, transport=transport, seed=1)
    key1, salt1 = installed_key(c, 1, seed=1)
    wrong.use_key(key1, salt1)
    client = Client(c, 2, transport=transport, seed=2)
    client.login_key()
    phone = "9996627777"
    settings = T.CodeSettings()
    assert wrong.invoke(F.auth.SendCode(phone_number=phone, api_id=1, api_hash="h",
                                        settings=settings)) == RPCError(303, "PHONE_MIGRATE_2")
    assert isinstance(client.invoke(F.help.GetConfig()), T.Config)
    assert client.invoke(F.help.GetNearestDc()).nearest_dc == 1
    assert client.invoke(F.help.GetCdnConfig()).public_keys == []
    sent = client.invoke(F.auth.SendCode(phone_number=phone, api_id=1, api_hash="h",
                                         settings=settings))
    code_hash = sent.phone_code_hash
    assert client.invoke(F.auth.ResendCode(phone_number=phone,
                                           phone_code_hash=code_hash)).phone_code_hash == code_hash
    assert client.invoke(F.auth.SignIn(phone_number=phone, phone_code_hash=code_hash,
                                       phone_code="11111")) == RPCError(400, "PHONE_CODE_INVALID")
    assert client.invoke(F.auth.SignUp(phone_number=phone, phone_code_hash=code_hash,
                                       first_name="a", last_name="b")) == RPCError(
        400, "PHONE_NUMBER_OCCUPIED")
    me = client.invoke(F.auth.SignIn(phone_number=phone, phone_code_hash=code_hash,
                                     phone_code="22222")).user
    assert client.invoke(F.users.GetUsers(id=[T.InputUserSelf()]))[0].id == me.id
    assert client.invoke(F.users.GetFullUser(id=T.InputUserSelf())).full_user.id == me.id
    state = client.invoke(F.updates.GetState())
    assert isinstance(client.invoke(F.updates.GetDifference(pts=state.pts, date=state.date,
                                                            qts=state.qts)),
                      T.updates.DifferenceEmpty)
    assert client.invoke(F.upload.SaveFilePart(file_id=1, file_part=0, bytes=b"a" * 4096))
    assert client.invoke(F.upload.SaveBigFilePart(file_id=2, file_part=0, file_total_parts=1,
                                                  bytes=b"b" * 4096))
    documents = []
    for file in (T.InputFile(id=1, parts=1, name="a", md5_checksum=""),
                 T.InputFileBig(id=2, parts=1, name="b")):
        documents.append(client.invoke(F.messages.UploadMedia(
            peer=T.InputPeerSelf(), media=T.InputMediaUploadedDocument(
                file=file, mime_type="text/plain", attributes=[]))).document)
    doc_location = T.InputDocumentFileLocation(
        id=documents[1].id, access_hash=documents[1].access_hash,
        file_reference=documents[1].file_reference, thumb_size="")
    assert client.invoke(F.upload.GetFile(location=doc_location, offset=0,
                                          limit=4096)).bytes == b"b" * 4096
    assert len(client.invoke(F.upload.GetFileHashes(location=doc_location, offset=0))) == 1
    exported = client.invoke(F.auth.ExportAuthorization(dc_id=1))
    assert wrong.invoke(F.auth.ImportAuthorization(id=exported.id,
                                                   bytes=exported.bytes)).user.id == me.id
    assert isinstance(client.invoke(F.auth.LogOut()), T.auth.LoggedOut)
    assert client.invoke(F.updates.GetState()) == RPCError(401, "AUTH_KEY_UNREGISTERED")
    from sansio_mtdc.server.api import METHODS

    ran = {name for (_, name) in c.counters.executed}
    assert ran >= set(METHODS) - {"auth.bindTempAuthKey"}
    assert not client.conn.closed and not wrong.conn.closed


def test_invoke_after_msg_waits_for_later_messages_in_a_chain() -> None:
    """m1 waits for m3, m2 for m1; m3 comes last: all three run, in the order m3, m1, m2."""
    c = cluster()
    client = Client(c, 2)
    key, salt = installed_key(c, 2)
    client.use_key(key, salt, session_id=77)
    assert client.invoke(F.help.GetConfig()).this_dc == 2  # initConnection done by the session
    base = (int(NOW * 2**32) & ~3) + (1 << 20)
    m1, m2, m3 = base, base + 4, base + 8
    messages = [
        (m1, F.InvokeAfterMsg(msg_id=m3, query=F.help.GetNearestDc())),
        (m2, F.InvokeAfterMsg(msg_id=m1, query=F.help.GetCdnConfig())),
        (m3, F.help.GetConfig()),
    ]
    for seq, (msg_id, request) in enumerate(messages):
        client.send_payload(encrypted(key, salt, 77, msg_id, 2 * (seq + 10) + 1, bytes(request)))
    assert c.counters.executions("help.getNearestDc") == 1
    assert c.counters.executions("help.getCdnConfig") == 1
    assert c.counters.executions("help.getConfig") == 2
    assert not client.conn.closed and c.get_timer() is None


class RawRequest:
    """Any bytes as a request (what a client of another layer, or a broken one, may send)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __bytes__(self) -> bytes:
        return self.data


@pytest.mark.parametrize(("request_bytes", "expected"), [
    (struct.pack("<I", 0x12345678), RPCError(400, "INPUT_METHOD_INVALID")),
    (bytes(F.messages.GetDialogFilters()), RPCError(400, "METHOD_NOT_SUPPORTED")),
    (bytes(F.help.GetNearestDc())[:4] + b"\0" * 4, RPCError(400, "INPUT_FETCH_FAIL")),
    (bytes(F.users.GetUsers(id=[T.InputUserSelf()]))[:8], RPCError(400, "INPUT_FETCH_FAIL")),
    (bytes(T.InputUserSelf()), RPCError(400, "INPUT_METHOD_INVALID")),
])
def test_unknown_and_undecodable_requests_get_clean_errors(request_bytes: bytes,
                                                           expected: RPCError) -> None:
    c = cluster()
    client = Client(c, 2)
    key, salt = installed_key(c, 2)
    client.use_key(key, salt)
    assert client.invoke(F.help.GetConfig()).this_dc == 2
    assert client.invoke(RawRequest(request_bytes)) == expected
    assert client.invoke(F.help.GetNearestDc()).this_dc == 2
    assert not client.conn.closed


@pytest.mark.parametrize("gzip_min_size", [None, 256])
def test_answers_are_gzipped_only_when_asked(gzip_min_size: int | None) -> None:
    from sansio_mtdc.session import ServerLimits

    limits = {} if gzip_min_size is None else {
        "session_limits": ServerLimits(gzip_min_size=gzip_min_size)}
    c = cluster(**limits)
    client = Client(c, 2)
    key, salt = installed_key(c, 2)
    client.use_key(key, salt)
    assert client.invoke(F.help.GetConfig()).this_dc == 2
    gzip_packed = struct.pack("<I", 0x3072CFA1)
    gzipped = any(gzip_packed in key.decrypt(p, 8) for p in client.encrypted)
    assert gzipped == (gzip_min_size is not None)


def test_ping_delay_disconnect_closes_the_connection_when_it_runs_out() -> None:
    c = cluster()
    client = Client(c, 2)
    key, salt = installed_key(c, 2)
    ping = mtproto.functions.PingDelayDisconnect(ping_id=9, disconnect_delay=10)
    client.send_payload(encrypted(key, salt, 55, int(NOW * 2**32) & ~3, 1, bytes(ping)))
    assert c.get_timer() == NOW + 10 and client.conn.get_timer() == NOW + 10
    client.conn.handle_timer(NOW + 9)
    assert not client.conn.closed
    c.handle_timer(NOW + 10)
    reason = client.conn.close_reason
    assert reason is not None and (reason.kind, reason.reason) == ("protocol", "ping_timeout")
    assert c.get_timer() is None
