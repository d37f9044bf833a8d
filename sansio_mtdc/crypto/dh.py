"""Checks of the Diffie-Hellman parameters a server sends (``auth_key.txt`` step 6 and
``security_guidelines.txt``), and the modular exponentiation the exchange needs.

``check_dh_params`` is instant for Telegram's published prime and for any prime already proven in
this process (a small memo, as the spec suggests: "it makes sense to cache the result"); another
prime costs a full safe-prime test once (tens of milliseconds with gmpy2, a few hundred without).
"""

from __future__ import annotations

from ..errors import SecurityError, UsageError
from .arith import HAVE_GMPY2, powmod
from .primes import is_safe_prime

__all__ = [
    "HAVE_GMPY2",
    "TELEGRAM_DH_PRIME",
    "check_dh_params",
    "check_g_a",
    "powmod",
]

#: The 2048-bit safe prime Telegram's servers use, as published in auth_key.txt.
TELEGRAM_DH_PRIME = int(
    "C71CAEB9C6B1C9048E6C522F70F13F73980D40238E3E21C14934D037563D930F"
    "48198A0AA7C14058229493D22530F4DBFA336F6E0AC925139543AED44CCE7C37"
    "20FD51F69458705AC68CD4FE6B6B13ABDC9746512969328454F18FAF8C595F64"
    "2477FE96BB2A941D5BCD1D4AC8CC49880708FA9B378E3C4F3A9060BEE67CF9A4"
    "A4A695811051907E162753B56B0F6B410DBA74D8A84B2A14B3144E0EF1284754"
    "FD17ED950D5965B4B9DD46582DB1178D169C6BC465B0D6FF9CA3928FEF5B9AE4"
    "E418FC15E83EBEA0F87FA9FF5EED70050DED2849F47BF959D956850CE929851F"
    "0D8115F635B105EE2E4E15D04B2454BF6F4FADF034B10403119CD8E3B92FCC5B",
    16,
)

_BITS = 2048
_RANGE_MARGIN = 1 << (_BITS - 64)
_MEMO_SIZE = 8

# g -> the residues p mod m for which g is a quadratic residue mod a safe prime p, so that it
# generates the subgroup of prime order (p-1)/2 (auth_key.txt, by quadratic reciprocity).
_G_CONDITIONS: dict[int, tuple[int, frozenset[int]]] = {
    2: (8, frozenset({7})),
    3: (3, frozenset({2})),
    4: (1, frozenset({0})),  # a square: no extra condition
    5: (5, frozenset({1, 4})),
    6: (24, frozenset({19, 23})),
    7: (7, frozenset({3, 5, 6})),
}

# Safe primes proven in this process, most recent last (a dict keeps insertion order).
_proven_safe_primes: dict[int, None] = {TELEGRAM_DH_PRIME: None}


def check_dh_params(dh_prime: int, g: int) -> None:
    """Check ``dh_prime`` and ``g`` as the spec requires: ``2^2047 < dh_prime < 2^2048``, a safe
    prime (``dh_prime`` and ``(dh_prime - 1) / 2`` prime), and ``g`` in 2..7 generating the
    subgroup of order ``(dh_prime - 1) / 2``.

    Raises :class:`SecurityError` with ``check="dh_prime"`` or ``check="g"``.  The cheap checks
    run first; the primality test runs only for a prime not seen before.
    """
    if not (1 << (_BITS - 1)) < dh_prime < (1 << _BITS):
        raise SecurityError(f"dh_prime has {dh_prime.bit_length()} bits, not 2048",
                            check="dh_prime")
    condition = _G_CONDITIONS.get(g)
    if condition is None:
        shown = g if -(1 << 64) < g < 1 << 64 else f"a {g.bit_length()}-bit number"
        raise SecurityError(f"g = {shown}; it must be one of 2..7", check="g")
    modulus, residues = condition
    if dh_prime % modulus not in residues:
        raise SecurityError(f"g = {g} does not generate the subgroup of order (p-1)/2 for this "
                            f"dh_prime (p mod {modulus} = {dh_prime % modulus})", check="g")
    if dh_prime in _proven_safe_primes:
        return
    if not is_safe_prime(dh_prime):
        raise SecurityError("dh_prime is not a safe prime", check="dh_prime")
    _proven_safe_primes[dh_prime] = None
    if len(_proven_safe_primes) > _MEMO_SIZE:
        del _proven_safe_primes[next(iter(_proven_safe_primes))]


def check_g_a(value: int, dh_prime: int, *, what: str = "g_a") -> None:
    """Check a public DH value (``g_a`` from the server, ``g_b`` from the client, or ``g`` itself):
    ``1 < value < dh_prime - 1`` and ``2^(2048-64) <= value <= dh_prime - 2^(2048-64)``.

    Raises :class:`SecurityError` with ``check=f"{what}_range"`` (``"g_a_range"`` or
    ``"g_b_range"``).
    """
    if not what.isidentifier():
        raise UsageError(f"what must name the value, like 'g_a' or 'g_b', not {what!r}")
    if not (1 < value < dh_prime - 1 and _RANGE_MARGIN <= value <= dh_prime - _RANGE_MARGIN):
        raise SecurityError(f"{what} is outside [2^1984, dh_prime - 2^1984]",
                            check=f"{what}_range")
