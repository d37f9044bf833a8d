"""Crypto layer: IGE throughput per backend (the library's checked call against the backend's own
function), MTProto 2.0 message encryption beside Telethon's, pq factorization beside Telethon's
and Pyrogram's, the DH parameter check, and the rest of the handshake's arithmetic.

Every figure is a median; the factorization medians are over the same 63-bit pq values (two
primes between 2^31 and 2^32, product between 2^62 and 2^63) for every library.
"""

from __future__ import annotations

import collections
import hashlib
import importlib.util
import logging
import statistics
import struct
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from sansio_mtdc.crypto import aes, dh, primes
from sansio_mtdc.crypto.arith import HAVE_GMPY2
from sansio_mtdc.crypto.mtproto2 import AuthKey, padding_length
from sansio_mtdc.crypto.pq import factorize
from sansio_mtdc.crypto.rsa import reference_cluster_key, rsa_pad_encrypt

from .harness import fmt_rate, fmt_time, per_call

MIB = 1 << 20


def _counter_random(seed: bytes) -> Callable[[int], bytes]:
    """Deterministic bytes, so that every run times the same inputs."""
    counter = iter(range(1 << 62))

    def draw(size: int) -> bytes:
        out = b""
        while len(out) < size:
            out += hashlib.sha256(seed + next(counter).to_bytes(8, "big")).digest()
        return out[:size]

    return draw


def _paired(first: Callable[[], object], second: Callable[[], object], quick: bool
            ) -> tuple[float, float]:
    """Per-call seconds of two deterministic functions, timed in alternation (so that load from
    other processes hits both alike) and each the best of its runs (the least disturbed one;
    with only two library calls compared, a median would mostly measure the neighbours)."""
    single = per_call(first, quick=True)
    number = max(1, int((0.005 if quick else 0.02) / max(single, 1e-9)))
    best = [float("inf"), float("inf")]
    for _ in range(5 if quick else 15):
        for index, function in enumerate((first, second)):
            start = time.perf_counter()
            for _ in range(number):
                function()
            best[index] = min(best[index], (time.perf_counter() - start) / number)
    return best[0], best[1]


def _ige(table_factory: Any, quick: bool) -> None:
    table = table_factory(
        f"AES-256-IGE at 1 MiB (library backend: {aes.BACKEND}); ratio = library / raw throughput",
        ["backend", "direction", "library", "raw backend", "ratio"])
    data = _counter_random(b"ige")(MIB)
    key, iv = bytes(range(32)), bytes(range(32, 64))
    for name, backend in aes.available_backends().items():
        for direction, checked, raw in (("encrypt", backend.encrypt, backend.raw_encrypt),
                                        ("decrypt", backend.decrypt, backend.raw_decrypt)):
            ours, theirs = _paired(partial(checked, data, key, iv), partial(raw, data, key, iv),
                                   quick)
            table.add(name, direction, fmt_rate(MIB, ours), fmt_rate(MIB, theirs),
                      f"{theirs / ours:.1%}")
    table.print()


def _telethon_encrypt(auth_key: bytes) -> Callable[[bytes], bytes] | None:
    if importlib.util.find_spec("telethon") is None:
        return None
    from telethon.crypto import AuthKey as TelethonAuthKey
    from telethon.network.mtprotostate import MTProtoState

    loggers: collections.defaultdict[str, logging.Logger] = collections.defaultdict(
        lambda: logging.getLogger("bench"))
    state = MTProtoState(TelethonAuthKey(auth_key), loggers)
    return state.encrypt_message_data  # type: ignore[no-any-return]


def _messages(table_factory: Any, quick: bool) -> None:
    table = table_factory(
        "MTProto 2.0 message encryption (AuthKey.encrypt/decrypt; Telethon: "
        "MTProtoState.encrypt_message_data, which also draws its padding)",
        ["body", "encrypt", "decrypt", "encrypt rate", "Telethon encrypt", "vs us"])
    auth_key = _counter_random(b"auth key")(256)
    key = AuthKey(auth_key)
    telethon = _telethon_encrypt(auth_key)
    for size in (64, 1024, 128 * 1024):
        inner = struct.pack("<qii", 0x6A4276A50009FE74, 1, size) + bytes(size)
        plaintext = struct.pack("<qq", 7, 11) + inner
        padding = bytes(padding_length(len(plaintext)))
        packet = key.encrypt(plaintext, padding, 0)
        decrypt = per_call(partial(key.decrypt, packet, 0), quick=quick)
        label = f"{size} B" if size < 1024 else f"{size // 1024} KiB"
        if telethon is None:
            encrypt = per_call(partial(key.encrypt, plaintext, padding, 0), quick=quick)
            table.add(label, fmt_time(encrypt), fmt_time(decrypt), fmt_rate(size, encrypt),
                      "not installed", "")
            continue
        encrypt, theirs = _paired(partial(key.encrypt, plaintext, padding, 0),
                                  partial(telethon, inner), quick)
        table.add(label, fmt_time(encrypt), fmt_time(decrypt), fmt_rate(size, encrypt),
                  fmt_time(theirs), f"{theirs / encrypt:.1f}x")
    table.print()


def _pq_values(count: int) -> list[int]:
    from sansio_mtdc.crypto.primes import is_prime_u64

    draw = _counter_random(b"pq")

    def prime() -> int:
        candidate = (int.from_bytes(draw(4), "big") | (1 << 31)) | 1
        while not is_prime_u64(candidate):
            candidate += 2
        return candidate

    values: list[int] = []
    while len(values) < count:
        p, q = prime(), prime()
        if p != q and (1 << 62) <= p * q < (1 << 63):
            values.append(p * q)
    return values


def _seconds(function: Callable[[int], object], value: int) -> float:
    start = time.perf_counter()
    function(value)
    return time.perf_counter() - start


def _factorization(table_factory: Any, quick: bool) -> None:
    values = _pq_values(15 if quick else 61)
    table = table_factory(f"pq factorization: median over the same {len(values)} 63-bit pq values",
                          ["implementation", "median", "vs ours (pure Python)", "mean",
                           "vs ours"])
    contenders: list[tuple[str, Callable[[int], object]]] = [
        ("sansio_mtdc (pure Python)", partial(factorize, use_gmpy2=False))]
    if HAVE_GMPY2:
        contenders.append(("sansio_mtdc (gmpy2 integers)", partial(factorize, use_gmpy2=True)))
    if importlib.util.find_spec("telethon") is not None:
        from telethon.crypto import Factorization
        contenders.append(("Telethon Factorization.factorize", Factorization.factorize))
    if importlib.util.find_spec("pyrogram") is not None:
        from pyrogram.crypto.prime import decompose
        contenders.append(("Pyrogram prime.decompose", decompose))
    for _, function in contenders:
        function(values[0])  # warm up (imports, gmpy2 loading)
    # Value by value, every contender in turn, a few times: the middle time of those (Telethon and
    # Pyrogram draw random walks, so their best would flatter them), then the median and the mean
    # over the values.  Rho's rounds double, so times cluster in steps of two and a median can
    # jump between neighbouring steps; the mean is the steadier figure.
    samples: list[list[float]] = [[] for _ in contenders]
    for value in values:
        runs = [[_seconds(function, value) for _, function in contenders]
                for _ in range(3 if quick else 5)]
        for index, times in enumerate(zip(*runs)):
            samples[index].append(statistics.median(times))
    ours = statistics.median(samples[0]), statistics.mean(samples[0])
    for (label, _), column in zip(contenders, samples):
        median, mean = statistics.median(column), statistics.mean(column)
        table.add(label, fmt_time(median), f"{median / ours[0]:.2f}x", fmt_time(mean),
                  f"{mean / ours[1]:.2f}x")
    table.print()


def _dh_and_handshake(table_factory: Any, quick: bool) -> None:
    table = table_factory("DH checks and the handshake's other arithmetic", ["operation", "time"])
    prime = dh.TELEGRAM_DH_PRIME
    table.add("check_dh_params(Telegram's prime, 3): known-prime fast path",
              fmt_time(per_call(partial(dh.check_dh_params, prime, 3), quick=quick)))
    modes = [True, False] if HAVE_GMPY2 else [False]
    for use_gmpy2 in modes:
        label = "gmpy2" if use_gmpy2 else "pure Python"
        seconds = per_call(partial(primes.is_safe_prime, prime, use_gmpy2=use_gmpy2),
                           quick=quick, min_time=0.5, repeat=3)
        table.add(f"full check of an unknown 2048-bit safe prime ({label})", fmt_time(seconds))
    exponent = int.from_bytes(_counter_random(b"b")(256), "big")
    table.add("g^b mod p, Python pow", fmt_time(per_call(partial(pow, 3, exponent, prime),
                                                         quick=quick)))
    table.add("g^b mod p, powmod (gmpy2 when installed)",
              fmt_time(per_call(partial(dh.powmod, 3, exponent, prime), quick=quick)))
    key = reference_cluster_key()
    random = _counter_random(b"rsa")
    encrypted = rsa_pad_encrypt(bytes(100), key.public, random)
    table.add("rsa_pad_encrypt (client)",
              fmt_time(per_call(partial(rsa_pad_encrypt, bytes(100), key.public, random),
                                quick=quick)))
    table.add("decrypt_rsa_pad (server, CRT)",
              fmt_time(per_call(partial(key.decrypt_rsa_pad, encrypted), quick=quick)))
    table.print()


def run(table_factory, quick: bool) -> None:  # type: ignore[no-untyped-def]
    _ige(table_factory, quick)
    _messages(table_factory, quick)
    _factorization(table_factory, quick)
    _dh_and_handshake(table_factory, quick)
