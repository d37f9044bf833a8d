"""Transport framing cost per packet: encode (client) and feed (server) for 1 KiB and 128 KiB
payloads, for each framing and for obfuscated2 over it.  Beside it, Telethon's packet codecs
doing the same encoding where Telethon is installed (its obfuscation runs on pure-Python AES,
timed at 1 KiB only)."""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable
from functools import partial

from sansio_mtdc.transport import (
    Abridged,
    Codec,
    Full,
    Intermediate,
    Obfuscated,
    PaddedIntermediate,
    detect_codec,
)

from .harness import fmt_rate, fmt_time, per_call

SIZES = [("1 KiB", 1024), ("128 KiB", 128 * 1024)]
CHUNK = 4096
KINDS = ["abridged", "intermediate", "padded intermediate", "full",
         "obfuscated abridged", "obfuscated intermediate", "obfuscated padded"]


def _client(kind: str) -> Codec:
    base = kind.removeprefix("obfuscated ")
    inner: Codec
    if base == "abridged":
        inner = Abridged("client")
    elif base == "intermediate":
        inner = Intermediate("client")
    elif base.startswith("padded"):
        inner = PaddedIntermediate("client", os.urandom)
    else:
        inner = Full("client")
    if kind.startswith("obfuscated"):
        assert not isinstance(inner, Obfuscated)
        return Obfuscated(inner, random=os.urandom, dc_id=2)
    return inner


def _server_for(client: Codec, kind: str) -> Callable[[], Codec]:
    header = client.header()

    def fresh() -> Codec:
        if kind == "full":
            return Full("server")
        found = detect_codec(header, random=os.urandom)
        assert found is not None
        return found[0]

    return fresh


class _Feeder:
    """Feeds the next of a cycle of pre-encoded packets (whole, or cut in chunks); the server
    codec is made afresh when the cycle restarts, since full's sequence numbers and the
    obfuscation cipher are stateful."""

    def __init__(self, kind: str, size: int, chunk: int | None) -> None:
        client = _client(kind)
        payload = os.urandom(size)
        count = 256 if size <= 4096 else 16
        packets = [client.encode(payload) for _ in range(count)]
        step = chunk or max(len(p) for p in packets)
        self._pieces = [[p[i : i + step] for i in range(0, len(p), step)] for p in packets]
        self._fresh = _server_for(client, kind)
        self._server = self._fresh()
        self._next = 0

    def __call__(self) -> None:
        i = self._next
        if i == len(self._pieces):
            self._server, i = self._fresh(), 0
        self._next = i + 1
        feed = self._server.feed
        for piece in self._pieces[i]:
            feed(piece)

    def idle(self) -> None:
        """The same walk through the packets with a no-op in place of ``feed``: the harness's
        own cost, subtracted from the figures."""
        i = self._next
        if i == len(self._pieces):
            i = 0
        self._next = i + 1
        feed = len
        for piece in self._pieces[i]:
            feed(piece)


def _feed_time(kind: str, size: int, chunk: int | None, quick: bool) -> float:
    feeder = _Feeder(kind, size, chunk)
    spent = per_call(feeder, quick=quick)
    idle = per_call(_Feeder(kind, size, chunk).idle, quick=quick)
    return max(spent - idle, 1e-9)


def _telethon_encoder(kind: str, size: int) -> Callable[[], object] | None:
    if importlib.util.find_spec("telethon") is None:
        return None
    from telethon.network.connection import tcpabridged, tcpfull, tcpintermediate, tcpobfuscated

    codec_types: dict[str, type] = {
        "abridged": tcpabridged.AbridgedPacketCodec,
        "intermediate": tcpintermediate.IntermediatePacketCodec,
        "padded intermediate": tcpintermediate.RandomizedIntermediatePacketCodec,
        "obfuscated abridged": tcpabridged.AbridgedPacketCodec,
        "obfuscated intermediate": tcpintermediate.IntermediatePacketCodec,
        "obfuscated padded": tcpintermediate.RandomizedIntermediatePacketCodec,
        "full": tcpfull.FullPacketCodec,
    }
    codec_type = codec_types[kind]
    codec = codec_type(None)
    payload = os.urandom(size)
    if not kind.startswith("obfuscated"):
        return lambda: codec.encode_packet(payload)
    if size > 4096:
        return None
    _, encryptor, _ = tcpobfuscated.ObfuscatedIO.init_header(codec_type)
    return lambda: encryptor.encrypt(codec.encode_packet(payload))


def run(table_factory, quick: bool) -> None:  # type: ignore[no-untyped-def]
    table = table_factory(
        "transport: cost per packet (encode on the client, feed on the server; the harness's "
        "own cost is subtracted from feed)",
        ["transport", "size", "encode", "feed", f"feed in {CHUNK // 1024} KiB chunks",
         "feed rate", "telethon encode"])
    try:
        importlib.import_module("sansio_mtdc.crypto.aes")
        kinds = KINDS
    except ImportError:
        kinds = [k for k in KINDS if not k.startswith("obfuscated")]
        print("(obfuscated2 skipped: sansio_mtdc.crypto.aes is not available)")
    for kind in kinds:
        for label, size in SIZES:
            client = _client(kind)
            payload = os.urandom(size)
            encode = per_call(partial(client.encode, payload), quick=quick)
            feed = _feed_time(kind, size, None, quick)
            chunked = fmt_time(_feed_time(kind, size, CHUNK, quick)) if size > CHUNK else ""
            theirs = _telethon_encoder(kind, size)
            their_time = fmt_time(per_call(theirs, quick=quick)) if theirs else "n/a"
            table.add(kind, label, fmt_time(encode), fmt_time(feed), chunked,
                      fmt_rate(size, feed), their_time)
    table.print()
