"""Session cost per message on the client side, at 64 B, 1 KiB and 128 KiB payloads.

* send: a request object to an encrypted payload (``invoke`` + ``data_to_send``), the request
  being ``upload.saveFilePart`` with ``bytes`` of the size;
* receive: an encrypted payload to the result object (``receive`` + ``next_event``), the answer
  being ``rpc_result`` with an ``upload.file`` of the size, for ``upload.getFile``.

Beside them: the crypto floor (random padding, msg_key, KDF and one IGE call, through
``AuthKey.encrypt`` / ``AuthKey.decrypt``; the padding drawn with ``os.urandom`` per message, as
Telethon and Pyrogram draw theirs), the same floor with the padding cut from a pool drawn 4 KiB
at a time (as the session does: the least any sender must pay), Telethon's ``MTProtoState``
(``bytes(request)`` +
``write_data_as_message`` + ``encrypt_message_data``, and ``decrypt_message_data``, which also
decodes the object) and Pyrogram's ``pack`` / ``unpack`` (which serialize and decode the body),
all on the same AES backend (Pyrogram's is switched to ours for the run).

Each figure is the median over several batches of the time per message inside a batch; what a
batch needs (pending requests, server packets with fresh msg_ids) is made before its clock
starts.
"""

from __future__ import annotations

import gc
import importlib.util
import logging
import os
import statistics
import struct
import time
from collections.abc import Callable
from io import BytesIO
from typing import Any

from sansio_mtdc.crypto import AuthKey, padding_length
from sansio_mtdc.crypto import aes as _aes
from sansio_mtdc.session import ClientSession, SessionLimits, wire
from sansio_mtdc.session.msgid import MsgIdClock
from sansio_mtdc.tl import api

from .harness import fmt_time

SIZES = [("64 B", 64), ("1 KiB", 1024), ("128 KiB", 128 * 1024)]
KEY = AuthKey(bytes((i * 7 + 3) % 256 for i in range(256)))
SESSION_ID = 0x1234
SALT = 0x5678
LIMITS = SessionLimits(ping_interval=None, max_pending=1 << 20, ack_batch=8192,
                       max_pending_acks=1 << 20)

Prepared = Callable[[], Callable[[], None]]


def _median_per_message(prepare: Callable[[], Callable[[], None]], count: int, *, batches: int
                        ) -> float:
    """``prepare()`` builds a batch and returns the function that handles it (``count``
    messages); the median of the per-message times over ``batches`` batches."""
    runs = []
    for _ in range(batches):
        handle = prepare()
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            start = time.perf_counter()
            handle()
            runs.append((time.perf_counter() - start) / count)
        finally:
            if gc_was_enabled:
                gc.enable()
    return statistics.median(runs)


def _upload(payload: bytes) -> Any:
    return api.functions.upload.SaveFilePart(file_id=1, file_part=0, bytes=payload)


def _get_file(size: int) -> Any:
    location = api.types.InputPeerPhotoFileLocation(peer=api.types.InputPeerSelf(), photo_id=1)
    return api.functions.upload.GetFile(location=location, offset=0, limit=size)


def _file(payload: bytes) -> bytes:
    return bytes(api.types.upload.File(type=api.types.storage.FileUnknown(), mtime=0,
                                       bytes=payload))


# --- ours ----------------------------------------------------------------------------------------

def _our_send(payload: bytes, count: int) -> Prepared:
    request = _upload(payload)
    now = time.time()

    def prepare() -> Callable[[], None]:
        client = ClientSession(KEY, salt=SALT, session_id=SESSION_ID, random=os.urandom,
                               limits=LIMITS)
        client.connection_made(now=now)
        invoke, data_to_send = client.invoke, client.data_to_send

        def handle() -> None:
            for token in range(count):
                invoke(request, token=token, now=now)
                data_to_send(now=now)

        return handle

    return prepare


def _server_packets(client: ClientSession, answer: bytes, now: float) -> list[bytes]:
    clock = MsgIdClock(server=True)
    packets = []
    for req_msg_id in sorted(client._by_msg_id):
        body = wire.pack_rpc_result(req_msg_id, answer)
        plain = wire.pack_envelope(SALT, SESSION_ID, clock.next(now), 1, body)
        packets.append(KEY.encrypt(plain, os.urandom(padding_length(len(plain))), 8))
    return packets


def _our_receive(payload: bytes, count: int) -> Prepared:
    request = _get_file(len(payload))
    answer = _file(payload)
    now = time.time()

    def prepare() -> Callable[[], None]:
        client = ClientSession(KEY, salt=SALT, session_id=SESSION_ID, random=os.urandom,
                               limits=LIMITS)
        client.connection_made(now=now)
        for token in range(count):
            client.invoke(request, token=token, now=now)
        client.data_to_send(now=now)
        packets = _server_packets(client, answer, now)
        receive, next_event = client.receive, client.next_event

        def handle() -> None:
            for packet in packets:
                receive(packet, now=now)
                next_event()

        return handle

    return prepare


# --- the crypto floor ----------------------------------------------------------------------------

def _floor_send(payload: bytes, count: int) -> Prepared:
    plain = wire.pack_envelope(SALT, SESSION_ID, 4, 1, bytes(_upload(payload)))
    pad = padding_length(len(plain))

    def prepare() -> Callable[[], None]:
        encrypt, random = KEY.encrypt, os.urandom

        def handle() -> None:
            for _ in range(count):
                encrypt(plain, random(pad), 0)

        return handle

    return prepare


def _floor_send_pooled(payload: bytes, count: int) -> Prepared:
    plain = wire.pack_envelope(SALT, SESSION_ID, 4, 1, bytes(_upload(payload)))
    pad = padding_length(len(plain))

    def prepare() -> Callable[[], None]:
        encrypt, pool = KEY.encrypt, os.urandom(4096)

        def handle() -> None:
            used = len(pool)
            for _ in range(count):
                if used + pad > len(pool):
                    used = 0
                encrypt(plain, pool[used:used + pad], 0)
                used += pad

        return handle

    return prepare


def _floor_receive(payload: bytes, count: int) -> Prepared:
    body = wire.pack_rpc_result(4, _file(payload))
    plain = wire.pack_envelope(SALT, SESSION_ID, 5, 1, body)
    packet = KEY.encrypt(plain, os.urandom(padding_length(len(plain))), 8)

    def prepare() -> Callable[[], None]:
        decrypt = KEY.decrypt

        def handle() -> None:
            for _ in range(count):
                decrypt(packet, 8)

        return handle

    return prepare


# --- Telethon ------------------------------------------------------------------------------------

def _telethon_state() -> Any:
    from telethon.crypto import AuthKey as TelethonKey
    from telethon.network.mtprotostate import MTProtoState

    class Loggers(dict):  # type: ignore[type-arg]
        def __missing__(self, key: str) -> logging.Logger:
            return logging.getLogger(key)

    state = MTProtoState(TelethonKey(KEY.key), Loggers())
    state.id = SESSION_ID
    state.salt = SALT
    return state


def _telethon_send(payload: bytes, count: int) -> Prepared | None:
    if importlib.util.find_spec("telethon") is None:
        return None
    from telethon.tl.functions.upload import SaveFilePartRequest

    request = SaveFilePartRequest(file_id=1, file_part=0, bytes=payload)

    def prepare() -> Callable[[], None]:
        state = _telethon_state()
        write, encrypt = state.write_data_as_message, state.encrypt_message_data

        def handle() -> None:
            for _ in range(count):
                buffer = BytesIO()
                write(buffer, bytes(request), True)
                encrypt(buffer.getvalue())

        return handle

    return prepare


def _telethon_receive(payload: bytes, count: int) -> Prepared | None:
    if importlib.util.find_spec("telethon") is None:
        return None
    answer = _file(payload)

    def prepare() -> Callable[[], None]:
        state = _telethon_state()
        now = time.time()  # Telethon checks msg_ids against its own clock
        clock = MsgIdClock(server=True)
        packets = []
        for n in range(count):
            body = wire.pack_rpc_result(4 * n + 4, answer)
            plain = wire.pack_envelope(SALT, SESSION_ID, clock.next(now), 1, body)
            packets.append(KEY.encrypt(plain, os.urandom(padding_length(len(plain))), 8))
        decrypt = state.decrypt_message_data

        def handle() -> None:
            for packet in packets:
                decrypt(packet)

        return handle

    return prepare


# --- Pyrogram ------------------------------------------------------------------------------------

def _pyrogram_send(payload: bytes, count: int) -> Prepared | None:
    if importlib.util.find_spec("pyrogram") is None:
        return None
    from pyrogram.crypto import mtproto
    from pyrogram.raw.core import Message
    from pyrogram.raw.functions.upload import SaveFilePart  # type: ignore[attr-defined,unused-ignore]

    request = SaveFilePart(file_id=1, file_part=0, bytes=payload)
    session = struct.pack("<q", SESSION_ID)
    size = len(bytes(_upload(payload)))

    def prepare() -> Callable[[], None]:
        pack = mtproto.pack

        def handle() -> None:
            for n in range(count):
                pack(Message(request, 4 * n + 4, 1, size), SALT, session, KEY.key, KEY.key_id)

        return handle

    return prepare


def _pyrogram_receive(payload: bytes, count: int) -> Prepared | None:
    if importlib.util.find_spec("pyrogram") is None:
        return None
    from pyrogram.crypto import mtproto

    body = wire.pack_rpc_result(4, _file(payload))
    plain = wire.pack_envelope(SALT, SESSION_ID, 5, 1, body)
    packet = KEY.encrypt(plain, os.urandom(padding_length(len(plain))), 8)
    session = struct.pack("<q", SESSION_ID)

    def prepare() -> Callable[[], None]:
        unpack = mtproto.unpack

        def handle() -> None:
            for _ in range(count):
                unpack(BytesIO(packet), session, KEY.key, KEY.key_id)

        return handle

    return prepare


class _SameBackend:
    """Pyrogram calls tgcrypto by name; for the run it calls the backend ours uses."""

    def __enter__(self) -> None:
        self.saved: tuple[Any, Any] | None = None
        if importlib.util.find_spec("pyrogram") is None:
            return
        from pyrogram.crypto import aes as pyrogram_aes

        self.module = pyrogram_aes
        self.saved = (pyrogram_aes.ige256_encrypt, pyrogram_aes.ige256_decrypt)
        pyrogram_aes.ige256_encrypt = _aes.raw_ige256_encrypt  # type: ignore[assignment,unused-ignore]
        pyrogram_aes.ige256_decrypt = _aes.raw_ige256_decrypt  # type: ignore[assignment,unused-ignore]

    def __exit__(self, *exc: object) -> None:
        if self.saved is not None:
            self.module.ige256_encrypt, self.module.ige256_decrypt = self.saved


def _cell(prepared: Prepared | None, count: int, batches: int) -> float | None:
    if prepared is None:
        return None
    return _median_per_message(prepared, count, batches=batches)


def _ratio(value: float | None, base: float) -> str:
    return "n/a" if value is None else f"{fmt_time(value)} ({value / base:.2f}x)"


def run(table_factory, quick: bool) -> None:  # type: ignore[no-untyped-def]
    logging.getLogger("telethon").setLevel(logging.ERROR)
    table = table_factory(
        f"session: cost per message, client side (AES backend: {_aes.BACKEND}; "
        "ratios to the crypto floor)",
        ["direction", "size", "floor", "floor, pooled padding", "sansio_mtdc", "telethon",
         "pyrogram"])
    with _SameBackend():
        for direction, ours, floor, pooled, telethon, pyrogram in (
                ("send", _our_send, _floor_send, _floor_send_pooled, _telethon_send,
                 _pyrogram_send),
                ("receive", _our_receive, _floor_receive, None, _telethon_receive,
                 _pyrogram_receive)):
            for label, size in SIZES:
                payload = os.urandom(size)
                count = 20 if size > 4096 else 500
                batches = 5 if quick else 15
                base = _cell(floor(payload, count), count, batches)
                assert base is not None
                least = None if pooled is None else _cell(pooled(payload, count), count, batches)
                mine = _cell(ours(payload, count), count, batches)
                ours_cell = _ratio(mine, base)
                if least is not None and mine is not None:
                    ours_cell = ours_cell[:-1] + f"; {mine / least:.2f}x pooled)"
                table.add(direction, label, fmt_time(base),
                          "-" if least is None else fmt_time(least), ours_cell,
                          _ratio(_cell(telethon(payload, count), count, batches), base),
                          _ratio(_cell(pyrogram(payload, count), count, batches), base))
    table.print()
