"""Fuzz the reference cluster's ServerConnection: whatever a peer sends, the connection only
ever closes with a typed reason; nothing raises out of it.

Four kinds of input, picked by the first byte:

0. raw bytes on a fresh connection (transport detection and everything after it);
1. an intermediate header and a valid req_pq_multi, then arbitrary framed payloads (the
   handshake's later steps);
2. a complete valid handshake (replayed against a cluster seeded as when it was recorded),
   then raw bytes;
3. message bodies (valid requests, damaged a little, or arbitrary bytes), each sent in a
   valid encrypted envelope with an installed auth key, so that they reach the MTProto
   session and the API.
"""

from __future__ import annotations

import hashlib
import random as stdlib_random
import struct
import sys

import atheris

with atheris.instrument_imports():
    from sansio_mtdc.crypto import REFERENCE_CLUSTER_KEYS
    from sansio_mtdc.crypto.mtproto2 import AuthKey
    from sansio_mtdc.handshake import ClientHandshake, pack_plain
    from sansio_mtdc.server import Cluster, ClusterConfig, KeyRecord
    from sansio_mtdc.tl import api, mtproto
    from sansio_mtdc.transport import Intermediate

NOW = 1_700_000_000.0
KINDS = ("framing", "handshake", "security", "protocol", "dropped", "refused", "local", "lost")
CONFIG = ClusterConfig(dc_count=3)
KEY = AuthKey(b"".join(hashlib.sha256(bytes([i])).digest() for i in range(8)))
SALT = 0x1234
SESSION_ID = 0x5555
MSG_ID = int(NOW * 2**32) & ~3


def new_cluster() -> Cluster:
    return Cluster(CONFIG, random=stdlib_random.Random(7).randbytes)


def record_handshake() -> bytes:
    """The bytes a client sends for a whole handshake with DC 2 of :func:`new_cluster`."""
    cluster = new_cluster()
    conn = cluster.connect(2, now=NOW)
    codec = Intermediate("client")
    client = ClientHandshake(dc_id=2, keys=REFERENCE_CLUSTER_KEYS,
                             random=stdlib_random.Random(8).randbytes, now=NOW)
    sent = bytearray()
    outgoing = client.data_to_send()
    while outgoing:
        chunk = (b"" if sent else codec.header()) + b"".join(codec.encode(p) for p in outgoing)
        sent += chunk
        conn.receive_data(chunk, now=NOW)
        for payload in codec.feed(conn.data_to_send()):
            assert type(payload) is bytes
            client.receive(payload, now=NOW)
        outgoing = client.data_to_send()
    assert client.done and cluster.counters.handshakes[2] == 1
    return bytes(sent)


HANDSHAKE = record_handshake()
REQ_PQ = (Intermediate.HEADER + Intermediate("client").encode(pack_plain(
    MSG_ID, bytes(mtproto.functions.ReqPqMulti(nonce=bytes(range(16)))))))


def _templates() -> list[bytes]:
    """Valid request bodies, which the fuzzer then damages: they reach the handlers."""
    f, t = api.functions, api.types
    location = t.InputDocumentFileLocation(id=1, access_hash=2, file_reference=b"r" * 20,
                                           thumb_size="")
    init = f.InitConnection(api_id=1, device_model="d", system_version="s", app_version="a",
                            system_lang_code="en", lang_pack="", lang_code="en",
                            query=f.help.GetConfig())
    requests = [
        f.InvokeWithLayer(layer=229, query=init), f.help.GetConfig(), f.help.GetNearestDc(),
        f.auth.SendCode(phone_number="9996621234", api_id=1, api_hash="h",
                        settings=t.CodeSettings()),
        f.auth.SignIn(phone_number="9996621234", phone_code_hash="00", phone_code="22222"),
        f.auth.ExportAuthorization(dc_id=3), f.auth.ImportAuthorization(id=1, bytes=b"b"),
        f.users.GetUsers(id=[t.InputUserSelf()]), f.updates.GetState(),
        f.upload.SaveFilePart(file_id=1, file_part=0, bytes=b"p" * 8),
        f.upload.GetFile(location=location, offset=0, limit=4096),
        f.messages.UploadMedia(peer=t.InputPeerSelf(), media=t.InputMediaUploadedDocument(
            file=t.InputFile(id=1, parts=1, name="n", md5_checksum=""), mime_type="m",
            attributes=[])),
        f.InvokeAfterMsg(msg_id=MSG_ID + 4, query=f.help.GetConfig()),
        f.InvokeAfterMsgs(msg_ids=[MSG_ID + 8, MSG_ID + 12], query=f.updates.GetState()),
        mtproto.functions.Ping(ping_id=5),
    ]
    return [bytes(r) for r in requests]


TEMPLATES = _templates()


def feed(conn: object, data: bytes, chunk: int) -> None:
    for start in range(0, len(data), chunk):
        conn.receive_data(data[start:start + chunk], now=NOW)  # type: ignore[attr-defined]
        conn.data_to_send()  # type: ignore[attr-defined]


def encrypted_messages(fdp: atheris.FuzzedDataProvider) -> bytes:
    codec = Intermediate("client")
    out = [codec.header()]
    msg_id = MSG_ID
    while fdp.remaining_bytes() > 0:
        seqno = fdp.ConsumeIntInRange(0, 7)
        pick = fdp.ConsumeIntInRange(0, len(TEMPLATES))
        if pick < len(TEMPLATES):
            damaged = bytearray(TEMPLATES[pick])
            for _ in range(fdp.ConsumeIntInRange(0, 3)):
                damaged[fdp.ConsumeIntInRange(0, len(damaged) - 1)] ^= fdp.ConsumeInt(1) & 0xFF
            body = bytes(damaged[:fdp.ConsumeIntInRange(4, len(damaged))])
        else:
            body = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 300))
        body += bytes(-len(body) & 3)
        msg_id += 4 * fdp.ConsumeIntInRange(1, 1 << 16)
        plaintext = struct.pack("<qqqii", SALT, SESSION_ID, msg_id, seqno, len(body)) + body
        padding = bytes(12 + (-(len(plaintext) + 12) & 15))
        out.append(codec.encode(KEY.encrypt(plaintext, padding, 0)))
    return b"".join(out)


def TestOneInput(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    mode = fdp.ConsumeIntInRange(0, 3)
    chunk = fdp.ConsumeIntInRange(1, 256)
    cluster = new_cluster()
    conn = cluster.connect(2, now=NOW)
    if mode == 0:
        stream = fdp.ConsumeBytes(fdp.remaining_bytes())
    elif mode == 1:
        feed(conn, REQ_PQ, len(REQ_PQ))
        codec = Intermediate("client")
        stream = b""
        while fdp.remaining_bytes() > 0:
            payload = fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 400)) or b"\0"
            payload += bytes(-len(payload) & 3)
            stream += codec.encode(payload)
    elif mode == 2:
        feed(conn, HANDSHAKE, len(HANDSHAKE))
        assert cluster.counters.handshakes[2] == 1, conn
        stream = fdp.ConsumeBytes(fdp.remaining_bytes())
    else:
        cluster.state.dc(2).add_key(KeyRecord(KEY, created_at=NOW, salt=SALT))
        stream = encrypted_messages(fdp)
    feed(conn, stream, chunk)
    cluster.handle_timer(NOW + 1)
    conn.data_to_send()
    if conn.closed:
        assert conn.close_reason is not None and conn.close_reason.kind in KINDS


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
