"""Shared helpers: codec pairs for every transport, deterministic randomness, chunking."""

from __future__ import annotations

import random as stdlib_random
from collections.abc import Callable, Iterator

from sansio_mtdc.transport import (
    Abridged,
    Codec,
    Full,
    Intermediate,
    Obfuscated,
    PaddedIntermediate,
    detect_codec,
)

FRAMINGS = ["abridged", "intermediate", "padded", "full"]
OBFUSCATED = ["obfuscated-abridged", "obfuscated-intermediate", "obfuscated-padded"]
ALL_KINDS = FRAMINGS + OBFUSCATED
QUICK_ACK_KINDS = [k for k in ALL_KINDS if k != "full"]


def seeded(seed: int = 0) -> Callable[[int], bytes]:
    """A deterministic ``random(n)``."""
    return stdlib_random.Random(seed).randbytes


def framing(name: str, side: str, random: Callable[[int], bytes], **kw: int) -> Codec:
    if name == "abridged":
        return Abridged(side, **kw)  # type: ignore[arg-type]
    if name == "intermediate":
        return Intermediate(side, **kw)  # type: ignore[arg-type]
    if name == "padded":
        return PaddedIntermediate(side, random, **kw)  # type: ignore[arg-type]
    if name == "full":
        return Full(side, **kw)  # type: ignore[arg-type]
    raise AssertionError(name)


def client_codec(kind: str, seed: int = 1, dc_id: int = 2, secret: bytes | None = None,
                 **kw: int) -> Codec:
    random = seeded(seed)
    if kind.startswith("obfuscated-"):
        inner = framing(kind.removeprefix("obfuscated-"), "client", random, **kw)
        return Obfuscated(inner, random=random, dc_id=dc_id, secret=secret)  # type: ignore[arg-type]
    return framing(kind, "client", random, **kw)


def connect(kind: str, seed: int = 1, **kw: int) -> tuple[Codec, Codec, bytes]:
    """A client codec, the server codec that detect_codec makes from the client's header, and
    the bytes after the header that the server must still be fed (empty unless full)."""
    client = client_codec(kind, seed, **kw)
    header = client.header()
    if kind == "full":
        return client, Full("server", **kw), b""
    found = detect_codec(header, random=seeded(seed + 1000), **kw)  # type: ignore[arg-type]
    assert found is not None
    server, used = found
    assert used == len(header)
    return client, server, header[used:]


def split(stream: bytes, cuts: list[int]) -> Iterator[bytes]:
    """``stream`` cut at the given positions (any order, duplicates and out-of-range ignored)."""
    last = 0
    for cut in sorted({c for c in cuts if 0 < c < len(stream)}):
        yield stream[last:cut]
        last = cut
    yield stream[last:]


def feed_all(codec: Codec, chunks: Iterator[bytes] | list[bytes]) -> list[object]:
    out: list[object] = []
    for chunk in chunks:
        out += codec.feed(chunk)
    return out
