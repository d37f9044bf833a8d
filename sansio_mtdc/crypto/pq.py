"""The handshake's proof of work: splitting ``pq`` into its two prime factors (client), and
drawing such a ``pq`` (server).

:func:`factorize` first tries Pollard's p-1 method (bounds 2^12 and 2^17, base 2): it splits pq
whenever p-1 or q-1 is made of primes up to 2^12 and at most one more up to 2^17, which for
32-bit factors is about half of all pq, in a few milliseconds at most (most of the work is
``pow`` in C).  Otherwise Pollard's rho with Brent's cycle detection and batched gcds, from fixed
starting points, does it.  Both are deterministic: the same pq always takes the same path.  The
inner loops are unrolled and multiply four differences before each reduction, which is what pure
Python rewards; with gmpy2 installed the same loops run on its integers, about twice as fast.
"""

from __future__ import annotations

from functools import cache
from itertools import compress, pairwise, repeat
from math import gcd, isqrt
from typing import Any

from ..errors import SecurityError, UsageError
from .arith import gmpy2_module
from .inputs import RandomSource
from .primes import is_prime_u64

__all__ = ["MAX_PQ", "factorize", "generate_pq"]

#: The largest pq accepted from a server: the spec says "normally" at most 2^63 - 1; up to 2^64 is
#: tolerated, anything larger is refused before any work is spent on it.
MAX_PQ = (1 << 64) - 1

_BATCH = 256           # differences multiplied together between two gcds
_MAX_ROUND = 1 << 20   # Brent rounds double up to this: 8 to 16 times what 32-bit primes need
_CONSTANTS = (1, 3, 5, 7, 11)  # the polynomials y^2 + c tried in turn
_P1_BOUND = 1 << 12    # p-1, stage 1: every prime power up to this
_P2_BOUND = 1 << 17    # p-1, stage 2: then one more prime up to this
_P1_CHUNK_BITS = 1024  # stage 1 raises to this many bits of the exponent between two gcds


def _fail(pq: int, why: str) -> SecurityError:
    # a server may send a huge pq: printing it in full could even exceed int -> str limits
    shown = str(pq) if pq.bit_length() <= 128 else f"a {pq.bit_length()}-bit number"
    return SecurityError(f"pq = {shown} {why}; it must be the product of two distinct odd primes",
                         check="pq")


def factorize(pq: int, *, use_gmpy2: bool | None = None) -> tuple[int, int]:
    """``(p, q)`` with ``p < q``, both prime, ``p * q == pq``.

    A pq out of range (not 15 <= pq <= 2^64 - 1), or not the product of exactly two distinct odd
    primes, raises :class:`SecurityError` with ``check="pq"``.  ``use_gmpy2``: ``None`` uses gmpy2
    when installed, ``False`` forces pure Python.
    """
    if not isinstance(pq, int) or isinstance(pq, bool):
        raise UsageError(f"pq must be an int, not {type(pq).__name__}")
    if not 15 <= pq <= MAX_PQ:
        raise _fail(pq, "is out of range")
    if not pq & 1:
        raise _fail(pq, "is even")
    if is_prime_u64(pq):
        raise _fail(pq, "is prime")
    root = isqrt(pq)
    if root * root == pq:
        raise _fail(pq, "is a square")
    gmpy2 = gmpy2_module() if use_gmpy2 is not False else None
    if use_gmpy2 and gmpy2 is None:
        raise UsageError("gmpy2 is not installed")
    factor = int(_p_minus_1(gmpy2.mpz(pq) if gmpy2 is not None else pq))
    if not 1 < factor < pq:
        for c in _CONSTANTS:
            if gmpy2 is not None:
                factor = int(_rho_brent(gmpy2.mpz(pq), gmpy2.mpz(c), gmpy2.mpz(2)))
            else:
                factor = _rho_brent(pq, c, 2)
            if 1 < factor < pq:
                break
        else:
            raise _fail(pq, "could not be split")
    p, q = sorted((factor, pq // factor))
    if p == q or not is_prime_u64(p) or not is_prime_u64(q):
        raise _fail(pq, "has more than two prime factors")
    return p, q


@cache
def _p_minus_1_tables() -> tuple[tuple[tuple[int, tuple[int, ...]], ...], int, bytes]:
    """Stage 1's exponent in chunks ``(product, its prime powers)``, the first prime of stage 2
    and the halved gaps between the stage-2 primes (made on first use: about 2 ms)."""
    flags = bytearray([1]) * (_P2_BOUND + 1)
    flags[:2] = b"\x00\x00"
    for i in range(2, isqrt(_P2_BOUND) + 1):
        if flags[i]:
            flags[i * i::i] = bytes(len(range(i * i, _P2_BOUND + 1, i)))
    primes = list(compress(range(_P2_BOUND + 1), flags))
    chunks: list[tuple[int, tuple[int, ...]]] = []
    product, members = 1, []
    for prime in primes:
        if prime > _P1_BOUND:
            break
        power = prime
        while power * prime <= _P1_BOUND:
            power *= prime
        product *= power
        members.append(power)
        if product.bit_length() >= _P1_CHUNK_BITS:
            chunks.append((product, tuple(members)))
            product, members = 1, []
    if members:
        chunks.append((product, tuple(members)))
    stage2 = [prime for prime in primes if prime > _P1_BOUND]
    gaps = bytes((b - a) >> 1 for a, b in pairwise(stage2))
    return tuple(chunks), stage2[0], gaps


def _p_minus_1(n: Any) -> Any:
    """A non-trivial factor of ``n`` by Pollard's p-1 method from base 2, or ``0``.

    Stage 1 raises the base to every prime power up to ``_P1_BOUND`` (``pow`` does the work, a
    chunk of the exponent at a time, with a gcd after each); stage 2 then tries each prime up to
    ``_P2_BOUND`` as the one factor left, stepping from prime to prime with a table of the
    powers for the gaps and multiplying four ``x - 1`` together before each reduction.  When both
    factors appear in the same step nothing separates them: ``0``, and rho takes over."""
    chunks, first, gaps = _p_minus_1_tables()
    a = n - n + 2  # an int or an mpz, as n is
    for product, members in chunks:
        b = pow(a, product, n)
        g = gcd(b - 1, n)
        if g == 1:
            a = b
            continue
        if g != n:
            return g
        for power in members:  # both orders end in this chunk: one prime power at a time
            a = pow(a, power, n)
            g = gcd(a - 1, n)
            if g != 1:
                return g if g != n else 0
        return 0
    step = a * a % n
    powers = [n - n + 1, step]  # a^(2k) for each gap of 2k
    for _ in repeat(None, max(gaps) - 1):
        powers.append(powers[-1] * step % n)
    x = pow(a, first, n)
    acc = x - 1
    for start in range(0, len(gaps), _BATCH):
        batch = gaps[start:start + _BATCH]
        saved = x
        gap = iter(batch)
        for _ in repeat(None, len(batch) >> 2):
            x1 = x * powers[next(gap)] % n
            x2 = x1 * powers[next(gap)] % n
            x3 = x2 * powers[next(gap)] % n
            x = x3 * powers[next(gap)] % n
            acc = acc * (x1 - 1) * (x2 - 1) * (x3 - 1) * (x - 1) % n
        for half in gap:
            x = x * powers[half] % n
            acc = acc * (x - 1) % n
        g = gcd(acc, n)
        if g == 1:
            continue
        if g != n:
            return g
        x = saved  # both in this batch: one prime at a time
        for half in batch:
            x = x * powers[half] % n
            g = gcd(x - 1, n)
            if g != 1:
                return g if g != n else 0
        return 0
    return 0


def _rho_brent(n: Any, c: Any, y: Any) -> Any:
    """A non-trivial factor of ``n`` from the walk ``y -> y^2 + c``, or ``n`` or ``0`` when this
    walk fails (the caller then tries another ``c``).  Works on ints and on gmpy2 integers.

    Brent's schedule: in round ``r`` the walk first moves ``r`` steps from the saved point ``x``,
    then ``r`` more steps are compared with it, the differences multiplied together four at a
    time before each reduction and a gcd taken every ``_BATCH`` steps.  In CPython a step of the
    walk costs about 130 ns and a comparison about 100 ns (the multiplications and the
    remainder of 3-digit integers): those two numbers are the whole budget."""
    r, q, g = 1, 1, 1
    x = ys = y
    while g == 1:
        if r > _MAX_ROUND:
            return 0
        x = y
        for _ in repeat(None, r >> 4):  # advance r steps without comparing
            y = (y * y + c) % n
            y = (y * y + c) % n
            y = (y * y + c) % n
            y = (y * y + c) % n
            y = (y * y + c) % n
            y = (y * y + c) % n
            y = (y * y + c) % n
            y = (y * y + c) % n
            y = (y * y + c) % n
            y = (y * y + c) % n
            y = (y * y + c) % n
            y = (y * y + c) % n
            y = (y * y + c) % n
            y = (y * y + c) % n
            y = (y * y + c) % n
            y = (y * y + c) % n
        for _ in repeat(None, r & 15):
            y = (y * y + c) % n
        done = 0
        while done < r and g == 1:
            ys = y
            steps = min(_BATCH, r - done)
            for _ in repeat(None, steps >> 3):  # compare with x, one reduction per 4 steps
                y1 = (y * y + c) % n
                y2 = (y1 * y1 + c) % n
                y3 = (y2 * y2 + c) % n
                y = (y3 * y3 + c) % n
                q = q * (x - y1) * (x - y2) * (x - y3) * (x - y) % n
                y1 = (y * y + c) % n
                y2 = (y1 * y1 + c) % n
                y3 = (y2 * y2 + c) % n
                y = (y3 * y3 + c) % n
                q = q * (x - y1) * (x - y2) * (x - y3) * (x - y) % n
            for _ in repeat(None, steps & 7):
                y = (y * y + c) % n
                q = q * (x - y) % n
            g = gcd(q, n)
            done += steps
        r <<= 1
    if g == n:  # the batch overshot: walk it again one step at a time
        for _ in repeat(None, _BATCH):
            ys = (ys * ys + c) % n
            g = gcd(x - ys, n)
            if g > 1:
                break
    return g


def _prime_in(random: RandomSource, low: int, high: int) -> int:
    """A prime in ``[low, high)`` (a power-of-two range), from 4 random bytes: the first prime at
    or after a random odd start, wrapping around."""
    raw = random(4)
    if not isinstance(raw, (bytes, bytearray)) or len(raw) != 4:
        raise UsageError("random(4) must return 4 bytes")
    span = high - low
    candidate = low + (int.from_bytes(raw, "big") % span) | 1
    for _ in range(span):
        if candidate >= high:
            candidate = low | 1
        if is_prime_u64(candidate):
            return candidate
        candidate += 2
    raise AssertionError("unreachable: every such range holds primes")


def generate_pq(random: RandomSource) -> tuple[int, int, int]:
    """``(pq, p, q)`` for a server's resPQ: ``p`` a random prime in [2^30, 2^31) and ``q`` one in
    [2^31, 2^32), so that p < q and pq < 2^63, which the spec says pq normally is (clients that
    read pq into a signed 64-bit integer rely on it).  ``random(n)`` returns n random bytes."""
    p = _prime_in(random, 1 << 30, 1 << 31)
    q = _prime_in(random, 1 << 31, 1 << 32)
    return p * q, p, q
