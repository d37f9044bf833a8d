"""The types of what the crypto functions take from their callers."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["BytesLike", "RandomSource"]

#: A byte buffer: what the byte-oriented functions of this package accept.
BytesLike = bytes | bytearray | memoryview

#: ``random(n)`` returns ``n`` random bytes: the only source of randomness, always passed in.
RandomSource = Callable[[int], bytes]
