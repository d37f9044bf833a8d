"""``messages.uploadMedia``: uploaded parts become a document that lives on the uploader's DC."""

from __future__ import annotations

from typing import Any

from ...errors import RPCError
from ...tl import api
from .context import RequestContext
from .registry import handles

_DEFAULT_MIME = "application/octet-stream"


@handles("messages.uploadMedia", home_only=True)
def upload_media(request: Any, ctx: RequestContext) -> Any:
    user = ctx.require_home()
    if isinstance(request.peer, api.types.InputPeerEmpty):
        raise RPCError(400, "PEER_ID_INVALID")
    media = request.media
    if not isinstance(media, api.types.InputMediaUploadedDocument):
        raise RPCError(400, "MEDIA_INVALID")
    file = media.file
    if not isinstance(file, (api.types.InputFile, api.types.InputFileBig)):
        raise RPCError(400, "MEDIA_INVALID")
    if not 0 < file.parts <= ctx.state.config.upload_max_parts:
        raise RPCError(400, "FILE_PARTS_INVALID")
    upload = ctx.dc.files.take_upload(user.id, file.id)
    md5 = file.md5_checksum if isinstance(file, api.types.InputFile) else ""
    data = upload.assemble(file.parts, md5_checksum=md5)
    stored = ctx.state.store_file(ctx.dc.id, data, name=file.name,
                                  mime_type=media.mime_type or _DEFAULT_MIME, now=ctx.now,
                                  attributes=list(media.attributes))
    ctx.dc.files.forget_upload(user.id, file.id)
    return api.types.MessageMediaDocument(document=stored.document)
