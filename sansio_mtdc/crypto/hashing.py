"""Hash helpers and a constant-time comparison.

Thin names over :mod:`hashlib` so that the protocol code reads like the spec (``sha1(x)[-8:]``)
and so that every comparison of a secret-derived value goes through :func:`ct_equal`.
"""

from __future__ import annotations

from hashlib import sha1 as _sha1
from hashlib import sha256 as _sha256
from hmac import compare_digest as _compare_digest

from .inputs import BytesLike

__all__ = ["ct_equal", "sha1", "sha256"]


def sha1(data: BytesLike) -> bytes:
    """The 20-byte SHA-1 digest of ``data``."""
    return _sha1(data).digest()


def sha256(data: BytesLike) -> bytes:
    """The 32-byte SHA-256 digest of ``data``."""
    return _sha256(data).digest()


def ct_equal(a: BytesLike, b: BytesLike) -> bool:
    """``a == b`` in time that depends only on the lengths, so that a peer probing msg_key or a
    hash cannot learn how many leading bytes it got right."""
    return _compare_digest(a, b)
