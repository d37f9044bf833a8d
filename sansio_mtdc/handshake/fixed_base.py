"""Powers of a fixed base, ``g^x mod dh_prime``, by the Lim-Lee comb method.

Every handshake raises the same small ``g`` to a fresh 2048-bit secret modulo the same prime (the
client's ``g_b``, the server's ``g_a``).  A table of 256 products of ``g^(2^(256 i))``, built once
per ``(g, dh_prime)`` for about the price of one ``pow``, turns each later power into 256
squarings and at most 256 multiplications instead of ~2048 squarings: well under half of
``pow``'s time, in pure Python and with gmpy2 alike.
"""

from __future__ import annotations

from typing import Any

from ..crypto.arith import gmpy2_module, powmod

__all__ = ["EXPONENT_BITS", "fixed_base_powmod"]

#: Exponents below ``2^EXPONENT_BITS`` take the comb; larger ones fall back to ``pow``.
EXPONENT_BITS = 2048
_ROWS = 8                                # bits of a table index: the table has 2^8 entries
_COLUMNS = EXPONENT_BITS // _ROWS        # 256 squarings per power
_ROW_BYTES = _COLUMNS // 8
_MEMO_SIZE = 4

# byte -> 8 bytes whose byte t is bit t of it: spreads a row's bits one per column byte
_SPREAD = tuple(bytes((b >> t) & 1 for t in range(8)) for b in range(256))


class _Comb:
    """The table for one base and modulus, in one integer type (int, or gmpy2's mpz)."""

    __slots__ = ("modulus", "one", "table")

    def __init__(self, base: int, modulus: int, gmpy2: Any | None) -> None:
        row_bases = [base % modulus]
        for _ in range(_ROWS - 1):
            row_bases.append(powmod(row_bases[-1], 1 << _COLUMNS, modulus))
        convert: Any = int if gmpy2 is None else gmpy2.mpz
        mod = convert(modulus)
        table = [convert(1)]
        for mask in range(1, 1 << _ROWS):
            low = mask & -mask
            table.append(table[mask ^ low] * convert(row_bases[low.bit_length() - 1]) % mod)
        self.modulus = mod
        self.one = table[0]
        self.table = table

    def power(self, exponent: int) -> int:
        raw = exponent.to_bytes(_ROWS * _ROW_BYTES, "little")
        spread = _SPREAD
        columns = 0
        for row in range(_ROWS):
            chunk = raw[row * _ROW_BYTES:(row + 1) * _ROW_BYTES]
            columns |= int.from_bytes(b"".join([spread[b] for b in chunk]), "little") << row
        indices = columns.to_bytes(_COLUMNS, "little")  # byte j: the table index of column j
        table, mod = self.table, self.modulus
        result = self.one
        started = False
        for index in reversed(indices):
            if started:
                result = result * result % mod
            if index:
                result = result * table[index] % mod
                started = True
        return int(result)


_combs: dict[tuple[int, int, bool], _Comb] = {}


def fixed_base_powmod(base: int, exponent: int, modulus: int) -> int:
    """``pow(base, exponent, modulus)`` for ``0 <= exponent < 2^2048`` and an odd modulus above
    2^256, through a comb table kept for the last few ``(base, modulus)`` pairs (with gmpy2
    integers when gmpy2 is installed); other arguments go to :func:`powmod` unchanged."""
    if not 0 <= exponent < 1 << EXPONENT_BITS or modulus < 1 << _COLUMNS or not modulus & 1:
        return powmod(base, exponent, modulus)
    gmpy2 = gmpy2_module()
    key = (base, modulus, gmpy2 is not None)
    comb = _combs.get(key)
    if comb is None:
        comb = _combs[key] = _Comb(base, modulus, gmpy2)
        if len(_combs) > _MEMO_SIZE:
            del _combs[next(iter(_combs))]
    return comb.power(exponent)
