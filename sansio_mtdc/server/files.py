"""Files on one DC: parts being uploaded, and the documents made from them.

A file lives on the DC that took it (``api_datacenter.txt``, "File Access"): parts sent with
``upload.saveFilePart`` / ``upload.saveBigFilePart`` stay on the DC that received them, and the
document that ``messages.uploadMedia`` (or :meth:`FileStore.put`) makes of them carries that DC's
id.  Every rule of ``api_files.txt`` for parts and for ``upload.getFile`` ranges is here, with
the error names Telegram uses, so that the API handlers only say which rule applies.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from ..errors import RPCError, UsageError
from ..tl import api

__all__ = [
    "MAX_PART_SIZE",
    "MAX_UPLOADS_PER_OWNER",
    "ONE_MIB",
    "FileStore",
    "StoredFile",
    "Upload",
    "check_download_range",
    "sample_data",
    "storage_type",
]

#: the largest part (512 KiB), and what every part size must divide
MAX_PART_SIZE = 512 * 1024
ONE_MIB = 1024 * 1024
#: uploads in progress kept per owner; the oldest is dropped beyond this (Telegram keeps parts
#: "between several minutes and several hours": a client cannot rely on more)
MAX_UPLOADS_PER_OWNER = 64

_STORAGE_TYPES = {
    "image/jpeg": "FileJpeg",
    "image/png": "FilePng",
    "image/gif": "FileGif",
    "image/webp": "FileWebp",
    "audio/mpeg": "FileMp3",
    "video/quicktime": "FileMov",
    "video/mp4": "FileMp4",
}


def storage_type(mime_type: str) -> Any:
    """The ``storage.FileType`` of a whole file of this MIME type."""
    name = _STORAGE_TYPES.get(mime_type.lower(), "FileUnknown")
    return getattr(api.types.storage, name)()


def sample_data(dc_id: int, size: int) -> bytes:
    """``size`` bytes that depend only on ``dc_id`` and ``size``: SHA-256 in counter mode.

    What ``serve`` puts on each DC, so that any client can check what it downloaded."""
    if size < 0:
        raise UsageError("size is not negative")
    seed = b"sansio_mtdc sample file for DC %d" % dc_id
    blocks = (size + 31) // 32
    return b"".join(hashlib.sha256(seed + n.to_bytes(8, "little")).digest()
                    for n in range(blocks))[:size]


def check_download_range(offset: int, limit: int, *, precise: bool) -> None:
    """The ``upload.getFile`` offset and limit rules of ``api_files.txt``.

    Without ``precise``: offset and limit are multiples of 4 KiB and ``limit`` divides 1 MiB;
    with it: multiples of 1 KiB and ``limit <= 1 MiB``.  Either way the range stays inside one
    1 MiB chunk.  ``400 OFFSET_INVALID`` / ``400 LIMIT_INVALID`` otherwise.
    """
    unit = 1024 if precise else 4096
    if offset < 0 or offset % unit:
        raise RPCError(400, "OFFSET_INVALID")
    if limit <= 0 or limit % unit or limit > ONE_MIB:
        raise RPCError(400, "LIMIT_INVALID")
    if not precise and ONE_MIB % limit:
        raise RPCError(400, "LIMIT_INVALID")
    if offset // ONE_MIB != (offset + limit - 1) // ONE_MIB:
        raise RPCError(400, "LIMIT_INVALID")


@dataclass(slots=True)
class Upload:
    """The parts of one file being uploaded: ``total_parts`` is known for big files only."""

    big: bool
    total_parts: int | None
    parts: dict[int, bytes] = field(default_factory=dict)

    def assemble(self, parts: int, *, md5_checksum: str = "") -> bytes:
        """The file of ``parts`` parts, after the checks ``messages.uploadMedia`` makes."""
        if self.big and self.total_parts is not None and parts != self.total_parts:
            raise RPCError(400, "FILE_PARTS_INVALID")
        for index in range(parts):
            if index not in self.parts:
                raise RPCError(400, f"FILE_PART_{index}_MISSING")
        chunks = [self.parts[index] for index in range(parts)]
        if parts > 1:
            part_size = len(chunks[0])
            if part_size % 1024 or MAX_PART_SIZE % part_size:
                raise RPCError(400, "FILE_PART_SIZE_INVALID")
            if any(len(c) != part_size for c in chunks[:-1]) or len(chunks[-1]) > part_size:
                raise RPCError(400, "FILE_PART_SIZE_CHANGED")
        data = b"".join(chunks)
        if md5_checksum and md5_checksum.lower() != hashlib.md5(data).hexdigest():
            raise RPCError(400, "MD5_CHECKSUM_INVALID")
        return data


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A document stored on DC ``dc_id``: its TL ``document``, its bytes and their SHA-256."""

    dc_id: int
    document: Any
    data: bytes = field(repr=False)
    sha256: str

    @property
    def id(self) -> int:
        return int(self.document.id)

    @property
    def access_hash(self) -> int:
        return int(self.document.access_hash)

    @property
    def file_reference(self) -> bytes:
        return bytes(self.document.file_reference)

    @property
    def size(self) -> int:
        return len(self.data)

    def read(self, offset: int, limit: int) -> Any:
        """The ``upload.file`` answering a (checked) range: the file's own storage type when
        the answer is the whole file, ``storage.filePartial`` otherwise."""
        chunk = self.data[offset:offset + limit]
        whole = offset == 0 and len(chunk) == len(self.data)
        kind = (storage_type(self.document.mime_type) if whole
                else api.types.storage.FilePartial())
        return api.types.upload.File(type=kind, mtime=int(self.document.date), bytes=chunk)


class FileStore:
    """The uploads in progress and the documents of one DC."""

    def __init__(self, dc_id: int, *, max_parts: int) -> None:
        self.dc_id = dc_id
        self.max_parts = max_parts
        self._uploads: dict[int, OrderedDict[int, Upload]] = {}
        self._documents: dict[int, StoredFile] = {}

    # -- uploads ---------------------------------------------------------------------------

    def save_part(self, owner: int, file_id: int, part: int, data: bytes, *,
                  total_parts: int | None = None) -> None:
        """Keep one part; ``total_parts`` is given by ``upload.saveBigFilePart``."""
        big = total_parts is not None
        limit = self.max_parts if total_parts is None else total_parts
        if big and not 0 < limit <= self.max_parts:
            raise RPCError(400, "FILE_PARTS_INVALID")
        if not 0 <= part < limit:
            raise RPCError(400, "FILE_PART_INVALID")
        if len(data) > MAX_PART_SIZE:
            raise RPCError(400, "FILE_PART_TOO_BIG")
        # a stream of unknown length may end with one empty part (api_files.txt, streaming)
        if not data and not (big and part == limit - 1):
            raise RPCError(400, "FILE_PART_EMPTY")
        uploads = self._uploads.setdefault(owner, OrderedDict())
        upload = uploads.get(file_id)
        if upload is None or upload.big != big:
            upload = Upload(big=big, total_parts=total_parts)
            uploads[file_id] = upload
            while len(uploads) > MAX_UPLOADS_PER_OWNER:
                uploads.popitem(last=False)
        else:
            uploads.move_to_end(file_id)
        if big:
            upload.total_parts = total_parts
        upload.parts[part] = bytes(data)

    def take_upload(self, owner: int, file_id: int) -> Upload:
        """The upload ``file_id`` of ``owner`` (``FILE_PART_0_MISSING`` when there is none);
        it stays until made into a document."""
        uploads = self._uploads.get(owner)
        upload = None if uploads is None else uploads.get(file_id)
        if upload is None:
            raise RPCError(400, "FILE_PART_0_MISSING")
        return upload

    def forget_upload(self, owner: int, file_id: int) -> None:
        uploads = self._uploads.get(owner)
        if uploads is not None:
            uploads.pop(file_id, None)

    # -- documents --------------------------------------------------------------------------

    def put(self, data: bytes, *, name: str, mime_type: str, now: float, document_id: int,
            access_hash: int, file_reference: bytes,
            attributes: list[Any] | None = None) -> StoredFile:
        """Store ``data`` as a document of this DC."""
        attributes = list(attributes or ())
        if not any(isinstance(a, api.types.DocumentAttributeFilename) for a in attributes):
            attributes.append(api.types.DocumentAttributeFilename(file_name=name))
        document = api.types.Document(
            id=document_id, access_hash=access_hash, file_reference=file_reference,
            date=int(now), mime_type=mime_type, size=len(data), dc_id=self.dc_id,
            attributes=attributes)
        stored = StoredFile(self.dc_id, document, bytes(data), hashlib.sha256(data).hexdigest())
        self._documents[document_id] = stored
        return stored

    def document(self, document_id: int) -> StoredFile | None:
        return self._documents.get(document_id)

    def documents(self) -> list[StoredFile]:
        return list(self._documents.values())

    def forget_document(self, document_id: int) -> None:
        self._documents.pop(document_id, None)
