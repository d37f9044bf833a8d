"""Fuzz the server side of obfuscated2: detection of a new connection's first bytes, and the
decoding of what follows.  Half the inputs open with a preamble made by our client, so that the
bytes after it reach the inner framing's decoder through the cipher."""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from sansio_mtdc.errors import FramingError
    from sansio_mtdc.transport import (
        Abridged,
        Intermediate,
        Obfuscated,
        PaddedIntermediate,
        detect_codec,
    )

SECRET = b"\x5a" * 16
SECRETS = [(), (b"",), (SECRET,), (b"\xdd" + SECRET, b"")]


def _zeros(n: int) -> bytes:
    return bytes(n)


def _preamble_source(seed: bytes):  # type: ignore[no-untyped-def]
    """random(n) returning an allowed 64-byte preamble built from the fuzzer's bytes."""
    preamble = b"\x01\x02\x03\x04\x05\x06\x07\x08" + seed.ljust(56, b"\x00")

    def random(n: int) -> bytes:
        return preamble[:n] if n == 64 else bytes(n)

    return random


def TestOneInput(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    secrets = SECRETS[fdp.ConsumeIntInRange(0, len(SECRETS) - 1)]
    chunk = fdp.ConsumeIntInRange(1, 64)
    if fdp.ConsumeBool():
        inner = [Abridged, Intermediate, PaddedIntermediate][fdp.ConsumeIntInRange(0, 2)]
        codec = inner("client") if inner is not PaddedIntermediate else inner("client", _zeros)
        secret = secrets[-1] if secrets else None
        client = Obfuscated(codec, random=_preamble_source(fdp.ConsumeBytes(56)),
                            dc_id=fdp.ConsumeIntInRange(-32768, 32767), secret=secret or None)
        # what the client's cipher makes of arbitrary plaintext: the server decrypts it back
        stream = client.header() + client._encrypt(fdp.ConsumeBytes(fdp.remaining_bytes()))
    else:
        stream = fdp.ConsumeBytes(fdp.remaining_bytes())
    try:
        found = detect_codec(stream, secrets=secrets, random=_zeros, max_packet=4096)
        if found is None:
            return
        server, used = found
        for start in range(used, len(stream), chunk):
            server.feed(stream[start : start + chunk])
    except FramingError:
        return


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
