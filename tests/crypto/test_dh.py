"""Diffie-Hellman parameter and public value checks, and the primality tests behind them."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sansio_mtdc.crypto import dh, kdf, primes
from sansio_mtdc.crypto.arith import HAVE_GMPY2, powmod
from sansio_mtdc.crypto.dh import TELEGRAM_DH_PRIME, check_dh_params, check_g_a
from sansio_mtdc.errors import SecurityError, UsageError

P = TELEGRAM_DH_PRIME
MARGIN = 1 << (2048 - 64)
GMPY2_MODES = [False, True] if HAVE_GMPY2 else [False]

# Two more 2048-bit safe primes from RFCs: the MODP group 14 prime of RFC 3526 and the
# ffdhe2048 prime of RFC 7919 (both 2^2048 - 2^1984 - 1 + 2^64 * (a digit string of pi or e
# + an offset)).
MODP14 = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF", 16)
FFDHE2048 = int(
    "FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695"
    "A9E13641146433FBCC939DCE249B3EF97D2FE363630C75D8F681B202AEC4617A"
    "D3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E7F57C935"
    "984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797A"
    "BC0AB182B324FB61D108A94BB2C8E3FBB96ADAB760D7F4681D4F42A3DE394DF4"
    "AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F61"
    "9172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005"
    "C58EF1837D1683B2C6F34A26C1B2EFFA886B423861285C97FFFFFFFFFFFFFFFF", 16)
# A 2048-bit prime p = 3 mod 4 whose half (p-1)/2 has no factor below 2000 and is still composite
# (it fails Fermat's test to base 2): found as the first such prime after this start.
_START = int.from_bytes(hashlib.sha256(b"q composite, no small factor").digest() * 8, "big")
PRIME_WITH_COMPOSITE_HALF = (_START | (1 << 2047)) + 10175


@pytest.fixture
def empty_memo(monkeypatch: pytest.MonkeyPatch) -> dict[int, None]:
    memo: dict[int, None] = {}
    monkeypatch.setattr(dh, "_proven_safe_primes", memo)
    return memo


def fermat_composite(n: int) -> bool:
    """A proof of compositeness independent of the library."""
    return pow(2, n - 1, n) != 1


def test_the_crafted_numbers_are_what_they_claim() -> None:
    for p in (P, MODP14, FFDHE2048, PRIME_WITH_COMPOSITE_HALF):
        assert p.bit_length() == 2048 and not fermat_composite(p)
    half = PRIME_WITH_COMPOSITE_HALF >> 1
    assert fermat_composite(half) and all(half % r for r in range(3, 2000, 2))


# --- the primality tests ----------------------------------------------------------------------

@pytest.mark.parametrize("use_gmpy2", GMPY2_MODES)
@pytest.mark.parametrize("p", [P, MODP14, FFDHE2048], ids=["telegram", "modp14", "ffdhe2048"])
def test_known_safe_primes(p: int, use_gmpy2: bool) -> None:
    assert primes.is_safe_prime(p, use_gmpy2=use_gmpy2)


@pytest.mark.parametrize("use_gmpy2", GMPY2_MODES)
@pytest.mark.parametrize("p", [PRIME_WITH_COMPOSITE_HALF, P + 2, P - 2, P + 4, P * 3 // 4 * 4 + 3,
                               MODP14 - 2**64], ids=range(6))
def test_not_safe_primes(p: int, use_gmpy2: bool) -> None:
    assert not primes.is_safe_prime(p, use_gmpy2=use_gmpy2)


@pytest.mark.parametrize("n", [5459, 5777, 10877, 16109, 18971, 22499, 24569, 25199, 40309])
def test_strong_lucas_pseudoprimes_pass_lucas_but_not_baillie_psw(n: int) -> None:
    assert primes._strong_lucas_probable_prime(n)
    d, s = primes._split_even(n - 1)
    assert not primes._strong_probable_prime(n, 2, d, s)


@pytest.mark.parametrize("n", [7, 11, 101, 65537, 2**61 - 1, 2**89 - 1, 2**127 - 1])
def test_strong_lucas_accepts_primes(n: int) -> None:
    assert primes._strong_lucas_probable_prime(n)


@pytest.mark.parametrize("use_gmpy2", GMPY2_MODES)
def test_is_probable_prime_on_big_numbers(use_gmpy2: bool) -> None:
    mersenne = [2**89 - 1, 2**107 - 1, 2**127 - 1, 2**521 - 1, 2**607 - 1]
    assert all(primes.is_probable_prime(m, use_gmpy2=use_gmpy2) for m in mersenne)
    composites = [(2**89 - 1) * (2**107 - 1), 2**523 - 1, 2**128 + 1,
                  3825123056546413051 * (2**127 - 1), 561 * (2**521 - 1)]
    assert not any(primes.is_probable_prime(c, use_gmpy2=use_gmpy2) for c in composites)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(min_value=1 << 64, max_value=1 << 200))
def test_pure_python_and_gmpy2_agree(n: int) -> None:
    if not HAVE_GMPY2:
        pytest.skip("gmpy2 is not installed")
    n |= 1
    assert primes.is_probable_prime(n, use_gmpy2=False) == primes.is_probable_prime(
        n, use_gmpy2=True)


def test_powmod_agrees_with_pow() -> None:
    assert powmod(3, 12345678901234567890, P) == pow(3, 12345678901234567890, P)
    assert type(powmod(3, 5, 7)) is int


# --- check_dh_params ---------------------------------------------------------------------------

@pytest.mark.parametrize("g", [3, 4, 7])
def test_telegram_prime_with_the_generators_it_supports(g: int) -> None:
    check_dh_params(P, g)


@pytest.mark.parametrize("g", [2, 5, 6])
def test_telegram_prime_with_generators_that_are_not_residues(g: int) -> None:
    """p mod 8 = 3, p mod 5 = 3 and p mod 24 = 11: 2, 5 and 6 generate the whole group."""
    with pytest.raises(SecurityError) as failure:
        check_dh_params(P, g)
    assert failure.value.check == "g"


@pytest.mark.parametrize("g", [2, 3, 4, 5, 6, 7])
def test_the_full_check_on_rfc_primes(g: int, empty_memo: dict[int, None]) -> None:
    """MODP14 satisfies every condition; ffdhe2048 (p mod 7 = 4) fails only g = 7."""
    check_dh_params(MODP14, g)
    assert MODP14 in empty_memo
    if g == 7:
        with pytest.raises(SecurityError) as failure:
            check_dh_params(FFDHE2048, g)
        assert failure.value.check == "g"
    else:
        check_dh_params(FFDHE2048, g)


@pytest.mark.parametrize(("g", "modulus", "bad_residues"), [
    (2, 8, [1, 3, 5]), (3, 3, [0, 1]), (5, 5, [0, 2, 3]), (6, 24, [1, 5, 7, 11, 13, 17]),
    (7, 7, [0, 1, 2, 4]),
])
def test_each_generator_with_a_non_matching_residue(g: int, modulus: int,
                                                    bad_residues: list[int]) -> None:
    base = (1 << 2047) + 1
    for residue in bad_residues:
        p = base + (residue - base) % modulus
        assert p % modulus == residue
        with pytest.raises(SecurityError) as failure:
            check_dh_params(p, g)
        assert failure.value.check == "g"


@pytest.mark.parametrize("g", [-1, 0, 1, 8, 9, 1 << 100, 3**20000], ids=range(7))
def test_generators_outside_2_to_7(g: int) -> None:
    with pytest.raises(SecurityError) as failure:
        check_dh_params(P, g)
    assert failure.value.check == "g"


@pytest.mark.parametrize("p", [P >> 1, (1 << 2047) - 1, 1 << 2047, P << 1 | 1, 1 << 2048, 0, -P,
                               23], ids=range(8))
def test_dh_prime_of_the_wrong_size(p: int) -> None:
    with pytest.raises(SecurityError) as failure:
        check_dh_params(p, 4)
    assert failure.value.check == "dh_prime"


def test_composite_dh_prime(empty_memo: dict[int, None]) -> None:
    for p in (P + 4, P - 2 * 3 * 5 * 7 * 11 * 13 * 17 * 19 * 23 * 4):  # g = 4: no residue condition
        assert fermat_composite(p)
        with pytest.raises(SecurityError) as failure:
            check_dh_params(p, 4)
        assert failure.value.check == "dh_prime"
    assert not empty_memo


def test_dh_prime_whose_half_is_composite(empty_memo: dict[int, None]) -> None:
    p = PRIME_WITH_COMPOSITE_HALF
    g = next(g for g in (2, 3, 4, 5, 6, 7) if p % dh._G_CONDITIONS[g][0] in dh._G_CONDITIONS[g][1])
    with pytest.raises(SecurityError) as failure:
        check_dh_params(p, g)
    assert failure.value.check == "dh_prime"
    assert not empty_memo


def test_the_memo_is_bounded_and_skips_the_test(monkeypatch: pytest.MonkeyPatch,
                                                empty_memo: dict[int, None]) -> None:
    calls: list[int] = []
    monkeypatch.setattr(dh, "is_safe_prime", lambda p: calls.append(p) or True)
    candidates = [(1 << 2047) + 4 * i + 3 for i in range(dh._MEMO_SIZE + 3)]
    for p in candidates:
        check_dh_params(p, 4)
    check_dh_params(candidates[-1], 4)
    assert len(calls) == len(candidates)  # the repeat was answered by the memo
    assert len(empty_memo) == dh._MEMO_SIZE
    check_dh_params(candidates[0], 4)  # pushed out of the memo: tested again
    assert len(calls) == len(candidates) + 1


def test_telegram_prime_never_runs_the_primality_test(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(p: int) -> bool:
        raise AssertionError("the fast path was not taken")

    monkeypatch.setattr(dh, "is_safe_prime", fail)
    check_dh_params(P, 3)


# --- check_g_a ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [MARGIN, MARGIN + 1, P // 2, P - MARGIN])
def test_g_a_inside_the_window(value: int) -> None:
    check_g_a(value, P)
    check_g_a(value, P, what="g_b")


@pytest.mark.parametrize("value", [-1, 0, 1, 2, 3, MARGIN - 1, P - MARGIN + 1, P - 2, P - 1, P,
                                   P + 1, 1 << 2048])
def test_g_a_outside_the_window(value: int) -> None:
    with pytest.raises(SecurityError) as failure:
        check_g_a(value, P)
    assert failure.value.check == "g_a_range"
    with pytest.raises(SecurityError) as failure:
        check_g_a(value, P, what="g_b")
    assert failure.value.check == "g_b_range"


def test_g_a_what_must_be_a_name() -> None:
    with pytest.raises(UsageError):
        check_g_a(P // 2, P, what="g a")


# --- kdf argument checks -------------------------------------------------------------------------

def test_kdf_argument_checks() -> None:
    with pytest.raises(UsageError):
        kdf.tmp_aes_key_iv(bytes(31), bytes(16))
    with pytest.raises(UsageError):
        kdf.tmp_aes_key_iv(bytes(32), bytes(17))
    with pytest.raises(UsageError):
        kdf.new_nonce_hash(bytes(32), bytes(8), 4)
    with pytest.raises(UsageError):
        kdf.new_nonce_hash(bytes(32), bytes(7), 1)
    with pytest.raises(UsageError):
        kdf.auth_key_from_int(1 << 2048)
    with pytest.raises(UsageError):
        kdf.auth_key_from_int(-1)
    assert kdf.auth_key_from_int(1) == bytes(255) + b"\x01"
