"""Splitting pq (client) and drawing it (server), and the 64-bit primality test under both."""

from __future__ import annotations

import hashlib
from math import isqrt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sansio_mtdc.crypto.arith import HAVE_GMPY2
from sansio_mtdc.crypto.pq import factorize, generate_pq
from sansio_mtdc.crypto.primes import is_prime_u64
from sansio_mtdc.errors import SecurityError, UsageError

LIMIT = 70_000  # above sqrt(2^32), so trial division covers every 32-bit number
SIEVE = bytearray([1]) * LIMIT
SIEVE[:2] = b"\0\0"
for _i in range(2, isqrt(LIMIT) + 1):
    if SIEVE[_i]:
        SIEVE[_i * _i::_i] = bytes(len(range(_i * _i, LIMIT, _i)))
SMALL_PRIMES = [i for i in range(LIMIT) if SIEVE[i]]
GMPY2_MODES = [False, True] if HAVE_GMPY2 else [False]


def is_prime_by_trial_division(n: int) -> bool:
    """Independent of the library: trial division by primes up to sqrt(n) (n < 2.5e9)."""
    if n < 2:
        return False
    root = isqrt(n)
    return all(n % p for p in SMALL_PRIMES if p <= root) if root < LIMIT else False


def next_prime(n: int) -> int:
    n |= 1
    while not is_prime_by_trial_division(n):
        n += 2
    return n


def test_is_prime_u64_agrees_with_a_sieve() -> None:
    assert [n for n in range(LIMIT) if is_prime_u64(n)] == SMALL_PRIMES


@pytest.mark.parametrize("n", [
    2047, 1373653, 25326001, 3215031751, 2152302898747, 3474749660383, 341550071728321,
    3825123056546413051,  # strong pseudoprime to every prime base up to 23
    561, 41041, 825265, 321197185, 5394826801, 232250619601, 9746347772161,  # Carmichael
    (2**32 - 5) * (2**32 - 17), 18446744073709551615,
])
def test_is_prime_u64_rejects_pseudoprimes(n: int) -> None:
    assert not is_prime_u64(n)


@settings(max_examples=300, deadline=None)
@given(n=st.integers(min_value=1 << 31, max_value=(1 << 32) - 1).map(lambda n: n | 1))
def test_is_prime_u64_on_32_bit_numbers_agrees_with_trial_division(n: int) -> None:
    # the range of p and q, decided with three Miller-Rabin bases
    assert is_prime_u64(n) == is_prime_by_trial_division(n)


def test_three_bases_are_not_trusted_past_their_bound() -> None:
    assert not is_prime_u64(4_759_123_141)  # the first strong pseudoprime to 2, 7 and 61
    assert is_prime_u64(4_759_123_141 + 2) == all(
        (4_759_123_143) % p for p in SMALL_PRIMES if p * p <= 4_759_123_143)


@pytest.mark.parametrize("n", [2, 3, 37, 41, 2**31 - 1, 2**61 - 1, 18446744073709551557])
def test_is_prime_u64_accepts_primes(n: int) -> None:
    assert is_prime_u64(n)


def test_is_prime_u64_range() -> None:
    with pytest.raises(UsageError):
        is_prime_u64(1 << 64)
    with pytest.raises(UsageError):
        is_prime_u64(-1)


@pytest.mark.parametrize("use_gmpy2", GMPY2_MODES)
@pytest.mark.parametrize(("p", "q"), [
    (1487202733, 1829579909),  # the samples-auth_key example
    (3, 5), (3, 7), (5, 7), (101, 103), (65521, 65537),
    (2147483629, 2147483647), (4294967291, 4294967279), (3, 4294967291),
    (1073741827, 4294967291),
])
def test_known_products(p: int, q: int, use_gmpy2: bool) -> None:
    assert factorize(p * q, use_gmpy2=use_gmpy2) == (min(p, q), max(p, q))


def test_every_small_semiprime() -> None:
    odd_primes = SMALL_PRIMES[1:60]
    for i, p in enumerate(odd_primes):
        for q in odd_primes[i + 1:]:
            assert factorize(p * q, use_gmpy2=False) == (p, q)


@settings(max_examples=25, deadline=None)
@given(a=st.integers(min_value=1 << 30, max_value=(1 << 31) - 1),
       b=st.integers(min_value=1 << 31, max_value=(1 << 32) - 1),
       use_gmpy2=st.sampled_from(GMPY2_MODES))
def test_random_63_bit_products(a: int, b: int, use_gmpy2: bool) -> None:
    p, q = next_prime(a), next_prime(b)
    if p == q or p * q >= 1 << 64:
        return
    assert factorize(p * q, use_gmpy2=use_gmpy2) == (min(p, q), max(p, q))


@pytest.mark.parametrize("pq", [
    0, 1, 2, 9, 14, -35, 1 << 64, (1 << 64) + 1, 1 << 100, 3**20000,  # out of range
    2 * 1000003, 4 * 101 * 103,                                   # even
    2**61 - 1, 18446744073709551557, 1000003,                      # prime
    1000003**2, 4294967291**2,                                      # p == q
    3 * 5 * 7, 101 * 103 * 107, 3 * 3 * 5, 4294967291 * 97 * 89,  # more than two factors
    561, 3825123056546413051,                                       # Carmichael, pseudoprime
], ids=lambda pq: f"{pq.bit_length()}-bit-{pq % 1000}")
def test_bad_pq_raises_security_error(pq: int) -> None:
    with pytest.raises(SecurityError) as failure:
        factorize(pq)
    assert failure.value.check == "pq"


def test_pq_must_be_an_int() -> None:
    for value in (1.5e10, "2720956240906691297", True):
        with pytest.raises(UsageError):
            factorize(value)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(pq=st.integers(min_value=-(1 << 70), max_value=1 << 70))
def test_any_int_factorizes_or_raises_security_error(pq: int) -> None:
    try:
        p, q = factorize(pq, use_gmpy2=False)
    except SecurityError:
        return
    assert p * q == pq and p < q and is_prime_u64(p) and is_prime_u64(q)


def counter_random(seed: bytes):  # type: ignore[no-untyped-def]
    state = iter(range(1 << 30))

    def draw(size: int) -> bytes:
        return hashlib.sha256(seed + next(state).to_bytes(4, "big")).digest()[:size]

    return draw


@pytest.mark.parametrize("seed", [b"", b"a", b"b", b"c", b"d"])
def test_generate_pq(seed: bytes) -> None:
    pq, p, q = generate_pq(counter_random(seed))
    assert generate_pq(counter_random(seed)) == (pq, p, q)  # deterministic
    assert (1 << 30) <= p < (1 << 31) <= q < (1 << 32)
    assert pq == p * q < (1 << 63)
    assert is_prime_by_trial_division(p) and is_prime_by_trial_division(q)
    assert factorize(pq) == (p, q)


def test_generate_pq_wraps_around_at_the_top_of_the_range() -> None:
    draws = iter([b"\xff\xff\xff\xff", b"\xff\xff\xff\xff"])
    pq, p, q = generate_pq(lambda n: next(draws))
    assert p == (1 << 31) - 1  # the start itself is prime
    assert q == next_prime((1 << 31) + 1)  # 2^32 - 1 is not, and nothing above it fits
    assert pq == p * q


def test_generate_pq_checks_the_random_source() -> None:
    with pytest.raises(UsageError):
        generate_pq(lambda n: bytes(n - 1))
