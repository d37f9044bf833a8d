"""Every transport, both directions: whatever we encode, the other side decodes, however the byte
stream is cut into chunks (1 byte, half a header, several packets at once)."""

from __future__ import annotations

import random as stdlib_random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sansio_mtdc.transport import QuickAck, QuickAckRequest, TransportErrorCode

from .streams import ALL_KINDS, connect, split

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# (words, seed, quick_ack): payload sizes around abridged's 127-word boundary and beyond
message = st.tuples(
    st.one_of(st.integers(6, 140), st.integers(120, 135), st.integers(140, 1200)),
    st.integers(0, 2**32),
    st.booleans(),
)
server_item = st.one_of(
    st.tuples(st.just("payload"), message),
    st.tuples(st.just("error"), st.sampled_from([-404, -429, -444, -2, -0x80000000])),
    st.tuples(st.just("ack"), st.integers(0, 2**32 - 1)),
)
cuts = st.lists(st.integers(0, 40_000), max_size=40)
buffer_kind = st.sampled_from([bytes, bytearray, memoryview])


def payload_of(words: int, seed: int) -> bytes:
    return stdlib_random.Random(seed).randbytes(4 * words)


def same_payload(kind: str, got: bytes, sent: bytes) -> bool:
    """Padded intermediate hands back the payload followed by its 0..15 padding bytes."""
    if kind.endswith("padded"):
        return got[: len(sent)] == sent and len(got) - len(sent) <= 15
    return got == sent


def chunked(stream: bytes, positions: list[int], as_type: type) -> list[object]:
    return [as_type(c) for c in split(stream, positions)]


@pytest.mark.parametrize("kind", ALL_KINDS)
@SETTINGS
@given(messages=st.lists(message, min_size=1, max_size=12), positions=cuts, as_type=buffer_kind)
def test_client_to_server(kind: str, messages: list[tuple[int, int, bool]],
                          positions: list[int], as_type: type) -> None:
    client, server, rest = connect(kind)
    quick = kind != "full"
    sent = [(payload_of(w, s), ack and quick) for w, s, ack in messages]
    stream = rest + b"".join(client.encode(p, quick_ack=a) for p, a in sent)
    got = []
    for chunk in chunked(stream, positions, as_type):
        got += server.feed(chunk)  # type: ignore[arg-type]
    assert len(got) == len(sent)
    for packet, (payload, ack) in zip(got, sent):
        if ack:
            assert type(packet) is QuickAckRequest
            assert same_payload(kind, packet.payload, payload)
        else:
            assert type(packet) is bytes
            assert same_payload(kind, packet, payload)
    assert server.buffered == 0


@pytest.mark.parametrize("kind", ALL_KINDS)
@SETTINGS
@given(items=st.lists(server_item, min_size=1, max_size=12), positions=cuts, as_type=buffer_kind)
def test_server_to_client(kind: str, items: list[tuple[str, object]], positions: list[int],
                          as_type: type) -> None:
    client, server, _ = connect(kind)
    stream = b""
    expected: list[object] = []
    for what, value in items:
        if what == "payload":
            words, seed, _ack = value  # type: ignore[misc]
            payload = payload_of(words, seed)
            stream += server.encode(payload)
            expected.append(payload)
        elif what == "error":
            stream += server.encode_error(value)  # type: ignore[arg-type]
            expected.append(TransportErrorCode(value))  # type: ignore[arg-type]
        elif kind != "full":
            stream += server.encode_quick_ack(value)  # type: ignore[arg-type]
            expected.append(QuickAck(value & 0x7FFFFFFF))  # type: ignore[operator]
    got = []
    for chunk in chunked(stream, positions, as_type):
        got += client.feed(chunk)  # type: ignore[arg-type]
    assert len(got) == len(expected)
    for packet, want in zip(got, expected):
        if type(want) is bytes:
            assert type(packet) is bytes
            assert same_payload(kind, packet, want)
        else:
            assert packet == want
    assert client.buffered == 0


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_one_byte_chunks_both_ways(kind: str) -> None:
    client, server, rest = connect(kind)
    payloads = [payload_of(w, w) for w in (6, 126, 127, 128, 300)]
    up = rest + b"".join(client.encode(p) for p in payloads)
    got = [p for i in range(len(up)) for p in server.feed(up[i : i + 1])]
    assert [same_payload(kind, g, p) for g, p in zip(got, payloads)] == [True] * len(payloads)
    assert len(got) == len(payloads)
    down = b"".join(server.encode(p) for p in payloads) + server.encode_error(-404)
    got = [p for i in range(len(down)) for p in client.feed(down[i : i + 1])]
    assert len(got) == len(payloads) + 1
    assert all(same_payload(kind, g, p) for g, p in zip(got, payloads))  # type: ignore[arg-type]
    assert got[-1] == TransportErrorCode(-404)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_whole_stream_in_one_chunk(kind: str) -> None:
    client, server, rest = connect(kind)
    payloads = [payload_of(w, w) for w in range(6, 200, 7)]
    got = server.feed(rest + b"".join(client.encode(p) for p in payloads))
    assert len(got) == len(payloads)
    assert all(same_payload(kind, g, p) for g, p in zip(got, payloads))  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_big_packet_in_small_chunks_keeps_the_buffer_bounded(kind: str) -> None:
    client, server, rest = connect(kind)
    payload = payload_of(256 * 1024 // 4, 7)
    stream = rest + client.encode(payload) + client.encode(payload[:64])
    most = 0
    got = []
    for i in range(0, len(stream), 1000):
        got += server.feed(stream[i : i + 1000])
        most = max(most, server.buffered)
    assert len(got) == 2
    assert same_payload(kind, got[0], payload)  # type: ignore[arg-type]
    assert most <= len(payload) + 12 + 15 + 1000
