"""What every framing target does: one side, one chunk size and a byte stream from the input,
the stream fed in chunks.  The decoder may only return packets or raise FramingError."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import atheris

from sansio_mtdc.errors import FramingError


def fuzz_framing(data: bytes, make_codec: Callable[[str], Any]) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    side = "client" if fdp.ConsumeBool() else "server"
    chunk = fdp.ConsumeIntInRange(1, 64)
    stream = fdp.ConsumeBytes(fdp.remaining_bytes())
    codec = make_codec(side)
    try:
        for start in range(0, len(stream), chunk):
            codec.feed(stream[start : start + chunk])
    except FramingError:
        return
    assert codec.buffered <= len(stream)
