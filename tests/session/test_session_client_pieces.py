"""Large requests kept as the caller's pieces (never a second copy of a file part), sent and
sent again byte for byte; answers decoded in place inside the decrypted message."""

from __future__ import annotations

import dataclasses
import struct

import pytest

from sansio_mtdc.session import Answer, ConnectionFailed, ResultUndecodable, wire
from sansio_mtdc.tl import api, decode
from sansio_mtdc.tl.codegen import PIECES_MIN

from .helpers import INIT, T0, Peer, events, make_client

fn = api.functions
t = api.types
PART = bytes(range(256)) * (PIECES_MIN // 256 * 2)  # 32 KiB


def upload(data: bytes | bytearray, part: int = 0) -> object:
    return fn.upload.SaveFilePart(file_id=7, file_part=part, bytes=data)


def padding(result: bytes, extra_blocks: int) -> int:
    """Padding for an rpc_result of ``result``, with ``extra_blocks`` more 16-byte blocks."""
    return 12 + (-(32 + 12 + len(result) + 12) & 15) + 16 * extra_blocks


def reconnect(client: object, now: float = T0) -> None:
    client.connection_lost(now=now)  # type: ignore[attr-defined]
    client.connection_made(now=now)  # type: ignore[attr-defined]


def test_a_large_request_is_kept_as_the_callers_pieces() -> None:
    client = make_client()
    client.invoke(upload(PART), token="u", now=T0)
    kept = client._by_token["u"].payload  # the session's own record of the request
    assert isinstance(kept, list) and any(piece is PART for piece in kept)
    assert sum(map(len, kept)) == len(bytes(upload(PART)))


def test_a_large_request_goes_out_and_again_byte_for_byte() -> None:
    client, peer = make_client(), Peer()
    data = bytearray(PART)
    client.invoke(upload(data), token="u", now=T0)
    [seen] = peer.messages(client)
    assert seen.body == bytes(upload(PART))
    data[:4] = b"XXXX"  # the caller's buffer changes: what was invoked does not
    reconnect(client, T0 + 1)
    [packet] = peer.take(client, now=T0 + 1)
    assert packet.is_container
    [again] = packet.messages
    assert (again.msg_id, again.body) == (seen.msg_id, seen.body)
    client.receive(peer.result(seen.msg_id, t.BoolTrue(), now=T0 + 1), now=T0 + 1)
    assert events(client) == [Answer("u", True)]


def test_large_requests_in_containers_after_chains_and_init_connection() -> None:
    client, peer = make_client(init=INIT), Peer()
    client.invoke(upload(PART, 0), token=0, now=T0)
    client.invoke(upload(PART, 1), token=1, now=T0, after=0)
    client.invoke(fn.help.GetConfig(), token=2, now=T0)
    [packet] = peer.take(client)
    assert packet.is_container
    first, second, third = packet.messages
    wrapped = decode(first.body)
    assert wrapped.query.query == upload(PART, 0)  # type: ignore[attr-defined]
    chained = decode(second.body)
    assert chained.msg_id == first.msg_id  # type: ignore[attr-defined]
    assert chained.query == upload(PART, 1)  # type: ignore[attr-defined]
    assert third.body == bytes(fn.help.GetConfig())


def test_a_large_request_alone_on_a_new_connection_carries_init_connection() -> None:
    client, peer = make_client(init=INIT), Peer()
    client.invoke(upload(PART), token=0, now=T0)
    [seen] = peer.messages(client)
    assert decode(seen.body).query.query == upload(PART)  # type: ignore[attr-defined]
    client.invoke(upload(PART, 1), token=1, now=T0)
    [plain] = peer.messages(client)
    assert plain.body == bytes(upload(PART, 1))


def test_a_large_request_that_compresses_is_sent_compressed() -> None:
    client, peer = make_client(), Peer()
    request = fn.phone.SendSignalingData(
        peer=t.InputPhoneCall(id=1, access_hash=2), data=bytes(PIECES_MIN * 2))
    client.invoke(request, token=0, now=T0)
    [seen] = peer.messages(client)
    assert struct.unpack_from("<I", seen.body)[0] == wire.GZIP_PACKED
    assert decode(seen.body) == request


def test_answers_decoded_in_place_are_ordinary_answers() -> None:
    client, peer = make_client(), Peer()
    request = fn.upload.GetFile(location=t.InputPeerPhotoFileLocation(
        peer=t.InputPeerSelf(), photo_id=1), offset=0, limit=1024)
    client.invoke(request, token="f", now=T0)
    [seen] = peer.messages(client)
    answer = t.upload.File(type=t.storage.FileUnknown(), mtime=3, bytes=PART[:1000])
    client.receive(peer.result(seen.msg_id, answer, padding=padding(bytes(answer), 40)),
                   now=T0)
    [event] = events(client)
    assert event == Answer("f", answer) and type(event) is Answer
    assert hash(event.token) == hash("f")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.value = None  # type: ignore[misc]


def test_a_result_that_runs_into_the_padding_fails_only_that_request() -> None:
    client, peer = make_client(), Peer()
    request = fn.upload.GetFile(location=t.InputPeerPhotoFileLocation(
        peer=t.InputPeerSelf(), photo_id=1), offset=0, limit=1024)
    client.invoke(request, token="f", now=T0)
    [seen] = peer.messages(client)
    full = bytes(t.upload.File(type=t.storage.FileUnknown(), mtime=3, bytes=PART[:1000]))
    cut = full[:-8]  # the bytes field claims more than the result holds: padding follows
    client.receive(peer.result(seen.msg_id, cut, padding=padding(cut, 4)), now=T0)
    [event] = events(client)
    assert isinstance(event.error, ResultUndecodable)
    assert event.error.reason == "truncated" and event.error.data == cut
    assert not any(isinstance(e, ConnectionFailed) for e in events(client))
