"""Files across DCs through the real stack: upload on one DC, FILE_MIGRATE, authorization
transfer, and importAuthorization + getFile chained with invokeAfterMsg in one container."""

from __future__ import annotations

import hashlib

from sansio_mtdc.errors import RPCError
from sansio_mtdc.server import sample_data
from sansio_mtdc.tl import api

from .test_server_knobs import client_on
from .wiring import NOW, cluster, sign_in

F = api.functions
T = api.types
ONE_MIB = 1 << 20


def location(document: object) -> object:
    return T.InputDocumentFileLocation(
        id=document.id, access_hash=document.access_hash,  # type: ignore[attr-defined]
        file_reference=document.file_reference, thumb_size="")  # type: ignore[attr-defined]


def test_put_file_and_list() -> None:
    c = cluster()
    data = sample_data(3, 1_500_000)
    document = c.put_file(3, data, name="dc3.bin", mime="application/octet-stream")
    assert isinstance(document, T.Document)
    assert (document.dc_id, document.size, document.mime_type) == (
        3, len(data), "application/octet-stream")
    (stored,) = c.files(3)
    assert stored.document is document and stored.sha256 == hashlib.sha256(data).hexdigest()
    assert c.files(2) == [] and c.files() == [stored]
    assert sample_data(3, 1_500_000) == data and sample_data(4, 100) != data[:100]


def test_download_from_another_dc_with_export_and_import() -> None:
    c = cluster()
    data = sample_data(4, 1_200_000)
    document = c.put_file(4, data, name="dc4.bin", mime="application/octet-stream", now=NOW)
    home = client_on(c, 2)
    sign_in(home, "9996621234")
    first = F.upload.GetFile(location=location(document), offset=0, limit=ONE_MIB)
    assert home.invoke(first) == RPCError(303, "FILE_MIGRATE_4")
    media = client_on(c, 4, seed=2, media=True)
    assert media.invoke(first) == RPCError(401, "AUTH_KEY_UNREGISTERED")
    exported = home.invoke(F.auth.ExportAuthorization(dc_id=4))
    media.invoke(F.auth.ImportAuthorization(id=exported.id, bytes=exported.bytes))
    got = b""
    offset = 0
    while True:
        part = media.invoke(F.upload.GetFile(location=location(document), offset=offset,
                                             limit=512 * 1024))
        got += part.bytes
        if len(part.bytes) < 512 * 1024:
            break
        offset += 512 * 1024
    assert got == data
    assert c.counters.executions("upload.getFile", 4) == 3  # the 401 did not run


def test_import_and_get_file_chained_in_one_container() -> None:
    c = cluster()
    data = sample_data(3, 300_000)
    document = c.put_file(3, data, name="f", mime="application/octet-stream")
    home = client_on(c, 2)
    sign_in(home, "9996621234")
    exported = home.invoke(F.auth.ExportAuthorization(dc_id=3))
    there = client_on(c, 3, seed=2)
    session = there.session
    assert session is not None
    packets_before = there.conn.received_packets
    session.invoke(F.auth.ImportAuthorization(id=exported.id, bytes=exported.bytes),
                   token="import", now=there.now)
    session.invoke(F.upload.GetFile(location=location(document), offset=0, limit=ONE_MIB),
                   token="file", now=there.now, after="import")
    there.pump()
    assert there.conn.received_packets == packets_before + 1  # one packet, one container
    assert there.outcome("import").user.id == 9996621234
    assert there.outcome("file").bytes == data
    assert c.counters.executions("auth.importAuthorization", 3) == 1
    assert c.counters.executions("upload.getFile", 3) == 1
    # bytes used once: the same chain again fails at the import, and the read waits on it
    session.invoke(F.auth.ImportAuthorization(id=exported.id, bytes=exported.bytes),
                   token="again", now=there.now)
    session.invoke(F.upload.GetFile(location=location(document), offset=0, limit=ONE_MIB),
                   token="file2", now=there.now, after="again")
    there.pump()
    assert there.outcome("again") == RPCError(400, "AUTH_BYTES_INVALID")
    assert there.outcome("file2") == RPCError(400, "MSG_WAIT_FAILED")
    assert c.counters.executions("upload.getFile", 3) == 1


def test_upload_through_the_stack_then_another_user_downloads() -> None:
    c = cluster()
    uploader = client_on(c, 2)
    sign_in(uploader, "9996621234")
    data = sample_data(99, 700_000)
    part = 512 * 1024
    chunks = [data[i:i + part] for i in range(0, len(data), part)]
    for index, chunk in enumerate(chunks):
        assert uploader.invoke(F.upload.SaveFilePart(file_id=7, file_part=index,
                                                     bytes=chunk)) is True
    media = uploader.invoke(F.messages.UploadMedia(
        peer=T.InputPeerSelf(), media=T.InputMediaUploadedDocument(
            file=T.InputFile(id=7, parts=len(chunks), name="x.bin",
                             md5_checksum=hashlib.md5(data).hexdigest()),
            mime_type="application/octet-stream", attributes=[])))
    document = media.document
    assert document.dc_id == 2 and c.files(2)[0].sha256 == hashlib.sha256(data).hexdigest()
    reader = client_on(c, 3, seed=2)
    sign_in(reader, "9996635555")
    get = F.upload.GetFile(location=location(document), offset=0, limit=ONE_MIB)
    assert reader.invoke(get) == RPCError(303, "FILE_MIGRATE_2")
    exported = reader.invoke(F.auth.ExportAuthorization(dc_id=2))
    on_two = client_on(c, 2, seed=3)
    on_two.invoke(F.auth.ImportAuthorization(id=exported.id, bytes=exported.bytes))
    assert on_two.invoke(get).bytes == data
