"""Primality tests: exact for 64-bit numbers (pq), and for the 2048-bit DH prime a test no known
composite passes, with no randomness drawn.

* :func:`is_prime_u64`: Miller-Rabin with the first twelve primes as bases, which is a proof for
  every n < 3.3 * 10^24 (Sorenson and Webster, 2015); below 4,759,123,141 the bases 2, 7 and 61
  are a proof already (Jaeschke, 1993).
* :func:`is_probable_prime`: Baillie-PSW (Miller-Rabin base 2 plus a strong Lucas test; no
  composite is known to pass it) and then extra Miller-Rabin rounds whose bases are SHA-256 of the
  number itself, so a server cannot pick a composite built to pass fixed bases.
* :func:`is_safe_prime`: p and (p-1)/2 both prime; once q = (p-1)/2 is known prime, Pocklington's
  theorem proves p prime with a single exponentiation (2^(p-1) = 1 mod p and 3 does not divide p).
"""

from __future__ import annotations

from hashlib import sha256 as _sha256
from math import isqrt

from ..errors import UsageError
from .arith import gmpy2_module

__all__ = ["SMALL_PRIMES", "is_prime_u64", "is_probable_prime", "is_safe_prime"]


def _sieve(limit: int) -> tuple[int, ...]:
    flags = bytearray([1]) * limit
    flags[:2] = b"\x00\x00"
    for i in range(2, isqrt(limit - 1) + 1):
        if flags[i]:
            flags[i * i::i] = bytes(len(range(i * i, limit, i)))
    return tuple(i for i, flag in enumerate(flags) if flag)


#: The primes below 2000, for trial division.
SMALL_PRIMES: tuple[int, ...] = _sieve(2000)
_U64_BASES = SMALL_PRIMES[:12]  # 2 .. 37
#: Miller-Rabin bases that decide every n < 4,759,123,141 (Jaeschke, 1993): p and q of a pq
_U32_BASES = (2, 7, 61)
_U32_LIMIT = 4_759_123_141
_HASHED_ROUNDS = 8


def _strong_probable_prime(n: int, base: int, d: int, s: int) -> bool:
    """One Miller-Rabin round: n - 1 = d * 2^s with d odd."""
    x = pow(base, d, n)
    if x == 1 or x == n - 1:
        return True
    for _ in range(s - 1):
        x = x * x % n
        if x == n - 1:
            return True
    return False


def _split_even(m: int) -> tuple[int, int]:
    s = (m & -m).bit_length() - 1
    return m >> s, s


def is_prime_u64(n: int) -> bool:
    """Exact primality for ``0 <= n < 2^64``."""
    if not 0 <= n < 1 << 64:
        raise UsageError(f"is_prime_u64 takes 0 <= n < 2^64, not {n}")
    if n < 2:
        return False
    for p in _U64_BASES:
        if n % p == 0:
            return n == p
    if n < 41 * 41:
        return True  # no prime factor up to 37, none above it either
    d, s = _split_even(n - 1)
    bases = _U32_BASES if n < _U32_LIMIT else _U64_BASES
    return all(_strong_probable_prime(n, base, d, s) for base in bases)


def _jacobi(a: int, n: int) -> int:
    """The Jacobi symbol (a/n) for odd n > 0."""
    a %= n
    result = 1
    while a:
        while not a & 1:
            a >>= 1
            if n & 7 in (3, 5):
                result = -result
        a, n = n, a
        if a & 3 == 3 and n & 3 == 3:
            result = -result
        a %= n
    return result if n == 1 else 0


def _strong_lucas_probable_prime(n: int) -> bool:
    """Strong Lucas test with Selfridge's parameters (P = 1, Q = (1 - D)/4, D the first of 5, -7,
    9, -11, ... with (D/n) = -1).  ``n`` is odd, > 2 and not a perfect square."""
    d_param = 5
    while True:
        symbol = _jacobi(d_param, n)
        if symbol == -1:
            break
        if symbol == 0 and abs(d_param) != n:
            return False  # D shares a factor with n
        d_param = -d_param - 2 if d_param > 0 else -d_param + 2
    q_param = (1 - d_param) // 4
    d, s = _split_even(n + 1)
    u, v, q_k = 1, 1, q_param % n  # U_1, V_1 (P = 1), Q^1
    for bit in bin(d)[3:]:
        u, v = u * v % n, (v * v - 2 * q_k) % n  # index k -> 2k
        q_k = q_k * q_k % n
        if bit == "1":  # index 2k -> 2k + 1
            u, v = u + v, d_param * u + v
            u = ((u + n if u & 1 else u) >> 1) % n
            v = ((v + n if v & 1 else v) >> 1) % n
            q_k = q_k * q_param % n
    if u == 0 or v == 0:
        return True
    for _ in range(s - 1):
        v = (v * v - 2 * q_k) % n
        if v == 0:
            return True
        q_k = q_k * q_k % n
    return False


def _hashed_bases(n: int, count: int) -> list[int]:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return [2 + int.from_bytes(_sha256(raw + bytes((i,))).digest(), "big") % (n - 3)
            for i in range(count)]


def _small_factor(n: int) -> bool:
    """Whether a prime below 2000 divides n (n itself excepted)."""
    return any(n % p == 0 and n != p for p in SMALL_PRIMES)


def is_probable_prime(n: int, *, use_gmpy2: bool | None = None) -> bool:
    """Baillie-PSW plus eight Miller-Rabin rounds with bases derived from ``n``.

    ``use_gmpy2``: ``None`` uses gmpy2 when installed; ``False`` forces pure Python (the
    benchmark compares them); ``True`` requires it.
    """
    if n < 2:
        return False
    if n < 1 << 64:
        return is_prime_u64(n)
    if not n & 1 or _small_factor(n):
        return False
    gmpy2 = gmpy2_module() if use_gmpy2 is not False else None
    if use_gmpy2 and gmpy2 is None:
        raise UsageError("gmpy2 is not installed")
    if gmpy2 is not None:
        return bool(gmpy2.is_bpsw_prp(n)) and all(
            gmpy2.is_strong_prp(n, base) for base in _hashed_bases(n, _HASHED_ROUNDS))
    d, s = _split_even(n - 1)
    if not _strong_probable_prime(n, 2, d, s):
        return False
    if isqrt(n) ** 2 == n or not _strong_lucas_probable_prime(n):
        return False
    return all(_strong_probable_prime(n, base, d, s) for base in _hashed_bases(n, _HASHED_ROUNDS))


def is_safe_prime(p: int, *, use_gmpy2: bool | None = None) -> bool:
    """Whether ``p`` and ``(p - 1) / 2`` are both prime (see the module notes for how)."""
    if p < 7 or p & 3 != 3:  # q = (p-1)/2 must be odd; 5 and 7 are the only small cases
        return p in (5, 7)
    q = p >> 1
    # A small prime r divides p or q exactly when p mod r is 0 or 1 (r odd).
    if any(p % r < 2 and r != q and r != p for r in SMALL_PRIMES[1:]):
        return False
    if not is_probable_prime(q, use_gmpy2=use_gmpy2):
        return False
    if p < 1 << 64:
        return is_prime_u64(p)
    gmpy2 = gmpy2_module() if use_gmpy2 is not False else None
    witness = int(gmpy2.powmod(2, p - 1, p)) if gmpy2 is not None else pow(2, p - 1, p)
    return witness == 1  # Pocklington: q prime, q > sqrt(p), 2^(p-1) = 1, gcd(2^2 - 1, p) = 1
