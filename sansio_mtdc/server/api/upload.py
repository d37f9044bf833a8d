"""``upload.*``: file parts in, file ranges out, each on the DC that holds the file.

Uploads and downloads need an authorized key on the DC that serves them (a key made there and
authorized by ``auth.importAuthorization``, typically), not the user's home DC.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ...errors import RPCError
from ...tl import api
from ..files import StoredFile, check_download_range
from .context import RequestContext
from .registry import handles

#: ``upload.getFileHashes`` hashes parts of this size, up to 1 MiB of them per call
_HASHED_PART = 128 * 1024
_HASHES_PER_CALL = 8


@handles("upload.saveFilePart", needs_auth=True)
def save_file_part(request: Any, ctx: RequestContext) -> Any:
    user = ctx.require_user()
    ctx.dc.files.save_part(user.id, request.file_id, request.file_part, request.bytes)
    return True


@handles("upload.saveBigFilePart", needs_auth=True)
def save_big_file_part(request: Any, ctx: RequestContext) -> Any:
    user = ctx.require_user()
    ctx.dc.files.save_part(user.id, request.file_id, request.file_part, request.bytes,
                           total_parts=request.file_total_parts)
    return True


def _located_here(location: Any, ctx: RequestContext) -> StoredFile:
    """The document a location names, if it lives on this DC (``303 FILE_MIGRATE_X`` when it
    lives on another) and the location's access hash and file reference are right."""
    if not isinstance(location, api.types.InputDocumentFileLocation) or location.thumb_size:
        raise RPCError(400, "LOCATION_INVALID")
    stored = ctx.state.find_file(location.id)
    if stored is None:
        raise RPCError(400, "FILE_ID_INVALID")
    if stored.dc_id != ctx.dc.id:
        raise RPCError(303, f"FILE_MIGRATE_{stored.dc_id}")
    if stored.access_hash != location.access_hash:
        raise RPCError(400, "FILE_ID_INVALID")
    if not location.file_reference:
        raise RPCError(400, "FILE_REFERENCE_EMPTY")
    if stored.file_reference != location.file_reference:
        raise RPCError(400, "FILE_REFERENCE_INVALID")
    return stored


@handles("upload.getFile", needs_auth=True)
def get_file(request: Any, ctx: RequestContext) -> Any:
    check_download_range(request.offset, request.limit, precise=bool(request.precise))
    stored = _located_here(request.location, ctx)
    return stored.read(request.offset, request.limit)


@handles("upload.getFileHashes", needs_auth=True)
def get_file_hashes(request: Any, ctx: RequestContext) -> Any:
    if request.offset < 0:
        raise RPCError(400, "OFFSET_INVALID")
    stored = _located_here(request.location, ctx)
    start = request.offset - request.offset % _HASHED_PART
    hashes = []
    for offset in range(start, min(stored.size, start + _HASHED_PART * _HASHES_PER_CALL),
                        _HASHED_PART):
        part = stored.data[offset:offset + _HASHED_PART]
        hashes.append(api.types.FileHash(offset=offset, limit=len(part),
                                         hash=hashlib.sha256(part).digest()))
    return hashes
