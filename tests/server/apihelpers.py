"""Running API requests straight through the dispatcher, without sessions or transports."""

from __future__ import annotations

import random as stdlib_random
from collections.abc import Callable
from typing import Any

from sansio_mtdc.crypto.mtproto2 import AuthKey
from sansio_mtdc.errors import RPCError
from sansio_mtdc.server.api import RequestContext, execute, unwrap
from sansio_mtdc.server.config import ClusterConfig
from sansio_mtdc.server.keys import ClientInfo, KeyRecord
from sansio_mtdc.server.state import ClusterState
from sansio_mtdc.tl import api

NOW = 1_700_000_000.0
INIT = ClientInfo(api_id=1, device_model="test", system_version="1", app_version="1",
                  system_lang_code="en", lang_pack="", lang_code="en", layer=229)


def seeded(seed: int = 0) -> Callable[[int], bytes]:
    return stdlib_random.Random(seed).randbytes


def new_state(seed: int = 0, **config: Any) -> ClusterState:
    return ClusterState(ClusterConfig(**config), seeded(seed))


def new_key(state: ClusterState, dc_id: int, *, inited: bool = True,
            temporary: bool = False) -> KeyRecord:
    record = KeyRecord(AuthKey(state.draw(256)), created_at=NOW, salt=1, temporary=temporary,
                       expires_at=NOW + 3600 if temporary else None,
                       client=INIT if inited else None)
    state.dc(dc_id).add_key(record)
    return record


def call(state: ClusterState, dc_id: int, key: KeyRecord, request: Any, *,
         msg_id: int = 4, session_id: int = 77, now: float = NOW) -> Any:
    """The result of ``request``, or the RPCError it was answered with."""
    ctx = RequestContext(state, state.dc(dc_id), key, session_id, msg_id, now)
    try:
        return execute(unwrap(request), ctx)
    except RPCError as exc:
        return exc


def sign_in(state: ClusterState, dc_id: int, key: KeyRecord, phone: str) -> Any:
    sent = call(state, dc_id, key, api.functions.auth.SendCode(
        phone_number=phone, api_id=1, api_hash="x", settings=api.types.CodeSettings()))
    assert not isinstance(sent, RPCError), sent
    code = phone[5] * 5
    return call(state, dc_id, key, api.functions.auth.SignIn(
        phone_number=phone, phone_code_hash=sent.phone_code_hash, phone_code=code))


def upload_parts(state: ClusterState, dc_id: int, key: KeyRecord, file_id: int, data: bytes,
                 part_size: int = 512 * 1024, *, big: bool = False) -> int:
    parts = [data[i:i + part_size] for i in range(0, len(data), part_size)] or [b""]
    for index, chunk in enumerate(parts):
        if big:
            request: Any = api.functions.upload.SaveBigFilePart(
                file_id=file_id, file_part=index, file_total_parts=len(parts), bytes=chunk)
        else:
            request = api.functions.upload.SaveFilePart(file_id=file_id, file_part=index,
                                                        bytes=chunk)
        assert call(state, dc_id, key, request) is True
    return len(parts)


def error(code: int, message: str) -> RPCError:
    return RPCError(code, message)
