"""Fixed-base powers agree with pow, with and without gmpy2."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sansio_mtdc.crypto import TELEGRAM_DH_PRIME
from sansio_mtdc.crypto.arith import gmpy2_module
from sansio_mtdc.handshake import fixed_base
from sansio_mtdc.handshake.fixed_base import EXPONENT_BITS, fixed_base_powmod

P = TELEGRAM_DH_PRIME
EDGES = [0, 1, 2, 3, 255, 256, 1 << 255, (1 << 256) - 1, 1 << 256, 1 << 2047,
         (1 << 2048) - 1, P - 1, P, int("a5" * 256, 16), int("0f" * 256, 16)]


@pytest.fixture(params=["native", "gmpy2"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "gmpy2":
        if gmpy2_module() is None:
            pytest.skip("gmpy2 is not installed")
    else:
        monkeypatch.setattr(fixed_base, "gmpy2_module", lambda: None)
    yield request.param


@pytest.mark.parametrize("exponent", EDGES)
@pytest.mark.parametrize("g", [2, 3, 7])
def test_edges(backend: str, g: int, exponent: int) -> None:
    value = fixed_base_powmod(g, exponent, P)
    assert type(value) is int
    assert value == pow(g, exponent, P)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, (1 << EXPONENT_BITS) - 1))
def test_random_exponents(exponent: int) -> None:
    assert fixed_base_powmod(3, exponent, P) == pow(3, exponent, P)


@pytest.mark.parametrize(("base", "exponent", "modulus"), [
    (3, 1 << 2048, P),          # exponent too large for the comb
    (3, -1, P),                 # negative exponent: pow's inverse
    (3, 12345, 1000003),        # small modulus
    (3, 12345, 1 << 300),       # even modulus
    (P + 3, 77, P),             # base above the modulus
])
def test_outside_the_comb_behaves_like_pow(base: int, exponent: int, modulus: int) -> None:
    assert fixed_base_powmod(base, exponent, modulus) == pow(base, exponent, modulus)


def test_tables_are_bounded() -> None:
    for g in range(2, 10):
        fixed_base_powmod(g, 5, P)
    assert len(fixed_base._combs) <= 4
