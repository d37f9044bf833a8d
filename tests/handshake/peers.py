"""What the handshake tests share: seeded and scripted random sources, an in-memory exchange
between the two halves, and test-side builders of server answers and client requests made from
the crypto primitives (so that a test can put any value in any field)."""

from __future__ import annotations

import hashlib
import json
import random as stdlib_random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sansio_mtdc.crypto import (
    REFERENCE_CLUSTER_KEYS,
    TELEGRAM_DH_PRIME,
    ige256_decrypt,
    ige256_encrypt,
    reference_cluster_key,
    rsa_encrypt_legacy,
    rsa_pad_encrypt,
    tmp_aes_key_iv,
)
from sansio_mtdc.crypto.kdf import new_nonce_hash
from sansio_mtdc.crypto.mtproto2 import AuthKey
from sansio_mtdc.handshake import ClientHandshake, ServerHandshake, pack_plain, unpack_plain
from sansio_mtdc.tl import decode, mtproto, read_object

SAMPLES_PATH = Path(__file__).resolve().parent.parent / "data" / "samples_auth_key.json"
NOW = 1_782_740_645.25
P = TELEGRAM_DH_PRIME
T = mtproto.types
F = mtproto.functions


class SeededRandom:
    """``random(n)`` from a seed, recording every draw (size and bytes) in order."""

    def __init__(self, seed: int | str) -> None:
        self._rng = stdlib_random.Random(seed)
        self.draws: list[bytes] = []

    def __call__(self, n: int) -> bytes:
        value = self._rng.randbytes(n)
        self.draws.append(value)
        return value

    def sizes(self) -> list[int]:
        return [len(d) for d in self.draws]


class ScriptedRandom(SeededRandom):
    """Draws of given sizes come from queues, in order; other draws (and draws of a size whose
    queue is empty) come from the seed.  ``left()`` says what was not used."""

    def __init__(self, script: list[bytes], seed: int = 0) -> None:
        super().__init__(seed)
        self.queues: dict[int, list[bytes]] = {}
        for value in script:
            self.queues.setdefault(len(value), []).append(value)

    def __call__(self, n: int) -> bytes:
        queue = self.queues.get(n)
        if queue:
            value = queue.pop(0)
            self.draws.append(value)
            return value
        return super().__call__(n)

    def left(self) -> list[bytes]:
        return [v for queue in self.queues.values() for v in queue]


def private_key() -> Any:
    return reference_cluster_key()


def new_pair(seed: int | str, *, dc_id: int = 2, temp_expires_in: int | None = None,
             max_retries: int = 5, server_kwargs: dict[str, Any] | None = None,
             now: float = NOW) -> tuple[ClientHandshake, ServerHandshake]:
    client = ClientHandshake(dc_id=dc_id, keys=REFERENCE_CLUSTER_KEYS,
                             random=SeededRandom(f"client-{seed}"), now=now,
                             temp_expires_in=temp_expires_in, max_retries=max_retries)
    server = ServerHandshake(private_key=private_key(), dc_id=abs(dc_id),
                             random=SeededRandom(f"server-{seed}"), now=now,
                             **(server_kwargs or {}))
    return client, server


def run_exchange(client: ClientHandshake, server: ServerHandshake, *, now: float = NOW,
                 max_round_trips: int = 10) -> int:
    """Shuttle payloads until the client is done or fails; returns the round trips taken."""
    for trip in range(1, max_round_trips + 1):
        for payload in client.data_to_send():
            server.receive(payload, now=now)
        for payload in server.data_to_send():
            client.receive(payload, now=now)
        if client.done:
            return trip
    raise AssertionError("no key after max_round_trips")


# --- samples ---------------------------------------------------------------------------------

def load_samples() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLES_PATH.read_text())
    return data


def sample_bytes(samples: dict[str, Any], step: str, key: str = "hex") -> bytes:
    return bytes.fromhex(samples["steps"][step][key])


# --- a test-side server: answers built from primitives ---------------------------------------

def server_msg_id(n: int = 0) -> int:
    return (int(NOW) << 32) + 4 * n + 1


def plain(body: bytes | Any, msg_id: int | None = None) -> bytes:
    return pack_plain(server_msg_id() if msg_id is None else msg_id,
                      body if isinstance(body, bytes) else bytes(body))


def seal_raw(data: bytes, key: bytes, iv: bytes, padding: bytes | None = None) -> bytes:
    with_hash = hashlib.sha1(data).digest() + data
    with_hash += bytes(-len(with_hash) & 15) if padding is None else padding
    return ige256_encrypt(with_hash, key, iv)


@dataclass
class ForgedServer:
    """Plays the server against a real :class:`ClientHandshake`, with every field settable.

    The client's new_nonce and b are read from its :class:`SeededRandom` draws (new_nonce is the
    second draw; b is the last 256-byte draw), so the forger can make answers that pass or fail
    exactly the check a test aims at.
    """

    client: ClientHandshake
    client_random: SeededRandom
    server_nonce: bytes = bytes(range(100, 116))
    a: int = int.from_bytes(hashlib.sha512(b"a").digest() * 4, "big") >> 1
    g: int = 3
    dh_prime: int = P
    server_time: int = int(NOW) + 7
    pq: tuple[int, int] = (1487202733, 1829579909)
    fingerprints: list[int] = field(
        default_factory=lambda: [reference_cluster_key().public.fingerprint])

    @property
    def nonce(self) -> bytes:
        return self.client.nonce

    @property
    def new_nonce(self) -> bytes:
        draws = self.client_random.draws
        return draws[1] if len(draws) > 1 else bytes(32)

    @property
    def tmp(self) -> tuple[bytes, bytes]:
        return tmp_aes_key_iv(self.new_nonce, self.server_nonce)

    def res_pq(self, **fields: Any) -> bytes:
        p, q = self.pq
        values: dict[str, Any] = dict(
            nonce=self.nonce, server_nonce=self.server_nonce,
            pq=(p * q).to_bytes(8, "big"), server_public_key_fingerprints=self.fingerprints)
        values.update(fields)
        return plain(T.ResPQ(**values), server_msg_id(0))

    def start(self) -> list[bytes]:
        """Feed a valid resPQ; returns the client's req_DH_params payloads."""
        self.client.data_to_send()
        self.client.receive(self.res_pq(), now=NOW)
        return self.client.data_to_send()

    def g_a(self) -> int:
        return pow(self.g, self.a, self.dh_prime) if self.dh_prime > 1 else 0

    def inner_data(self, **fields: Any) -> bytes:
        values: dict[str, Any] = dict(
            nonce=self.nonce, server_nonce=self.server_nonce, g=self.g,
            dh_prime=self.dh_prime.to_bytes((self.dh_prime.bit_length() + 7) // 8, "big"),
            g_a=self.g_a().to_bytes(256, "big"), server_time=self.server_time)
        values.update(fields)
        return bytes(T.ServerDHInnerData(**values))

    def dh_params_ok(self, *, inner: bytes | None = None, encrypted: bytes | None = None,
                     padding: bytes | None = None, **fields: Any) -> bytes:
        if encrypted is None:
            key, iv = self.tmp
            encrypted = seal_raw(self.inner_data() if inner is None else inner, key, iv, padding)
        values: dict[str, Any] = dict(nonce=self.nonce, server_nonce=self.server_nonce,
                                      encrypted_answer=encrypted)
        values.update(fields)
        return plain(T.ServerDHParamsOk(**values), server_msg_id(1))

    def to_dh_gen(self) -> list[bytes]:
        """Feed a valid resPQ and server_DH_params_ok; returns set_client_DH_params."""
        self.start()
        self.client.receive(self.dh_params_ok(), now=NOW)
        return self.client.data_to_send()

    def client_key(self) -> AuthKey:
        """The key the client made, from its last b."""
        b = int.from_bytes([d for d in self.client_random.draws if len(d) == 256][-1], "big")
        return AuthKey(pow(self.g_a(), b, self.dh_prime).to_bytes(256, "big"))

    def decrypt_client_dh(self, payload: bytes) -> Any:
        _, body = unpack_plain(payload)
        request: Any = decode(body)
        key, iv = self.tmp
        data = ige256_decrypt(request.encrypted_data, key, iv)
        inner, _ = read_object(data, 20)
        return inner

    def dh_gen(self, number: int = 1, *, hash_of: AuthKey | None = None,
               hash_number: int | None = None, **fields: Any) -> bytes:
        key = self.client_key() if hash_of is None else hash_of
        digest = new_nonce_hash(self.new_nonce, key.aux_hash, hash_number or number)
        cls = {1: T.DhGenOk, 2: T.DhGenRetry, 3: T.DhGenFail}[number]
        values: dict[str, Any] = {"nonce": self.nonce, "server_nonce": self.server_nonce,
                                  f"new_nonce_hash{number}": digest}
        values.update(fields)
        return plain(cls(**values), server_msg_id(2))


# --- a test-side client: requests built from primitives --------------------------------------

@dataclass
class ForgedClient:
    """Plays the client against a real :class:`ServerHandshake`, with every field settable."""

    server: ServerHandshake
    nonce: bytes = bytes(range(16))
    new_nonce: bytes = bytes(range(32, 64))
    b: int = int.from_bytes(hashlib.sha512(b"b").digest() * 4, "big") >> 1
    msg_id: int = (int(NOW) << 32) + 4
    res_pq: Any = None
    dh_inner: Any = None

    def send(self, body: bytes | Any) -> list[bytes]:
        self.msg_id += 4
        self.server.receive(pack_plain(self.msg_id, body if isinstance(body, bytes)
                                       else bytes(body)), now=NOW)
        return self.server.data_to_send()

    def req_pq(self, legacy: bool = False) -> Any:
        cls = F.ReqPq if legacy else F.ReqPqMulti
        (answer,) = self.send(cls(nonce=self.nonce))
        self.res_pq = decode(unpack_plain(answer)[1])
        return self.res_pq

    @property
    def factors(self) -> tuple[bytes, bytes]:
        from sansio_mtdc.crypto import factorize

        p, q = factorize(int.from_bytes(self.res_pq.pq, "big"))
        return p.to_bytes(4, "big"), q.to_bytes(4, "big")

    def inner(self, kind: str = "dc", **fields: Any) -> bytes:
        p, q = self.factors
        values: dict[str, Any] = dict(pq=self.res_pq.pq, p=p, q=q, nonce=self.nonce,
                                      server_nonce=self.res_pq.server_nonce,
                                      new_nonce=self.new_nonce)
        cls = {"dc": T.PQInnerDataDc, "temp_dc": T.PQInnerDataTempDc, "plain": T.PQInnerData,
               "temp": T.PQInnerDataTemp}[kind]
        if "dc" in kind:
            values["dc"] = self.server.dc_id
        if "temp" in kind:
            values["expires_in"] = 600
        values.update(fields)
        return bytes(cls(**values))

    def req_dh_params(self, *, inner: bytes | None = None, legacy: bool = False,
                      encrypted: bytes | None = None, **fields: Any) -> list[bytes]:
        key = reference_cluster_key().public
        data = self.inner() if inner is None else inner
        rnd = SeededRandom("forged-client-rsa")
        if encrypted is None:
            encrypted = (rsa_encrypt_legacy(data, key, rnd) if legacy
                         else rsa_pad_encrypt(data, key, rnd))
        p, q = self.factors
        values: dict[str, Any] = dict(nonce=self.nonce, server_nonce=self.res_pq.server_nonce,
                                      p=p, q=q, public_key_fingerprint=key.fingerprint,
                                      encrypted_data=encrypted)
        values.update(fields)
        return self.send(F.ReqDHParams(**values))

    @property
    def tmp(self) -> tuple[bytes, bytes]:
        return tmp_aes_key_iv(self.new_nonce, self.res_pq.server_nonce)

    def to_set_client_dh(self) -> None:
        self.req_pq()
        (answer,) = self.req_dh_params()
        ok: Any = decode(unpack_plain(answer)[1])
        key, iv = self.tmp
        self.dh_inner, _ = read_object(ige256_decrypt(ok.encrypted_answer, key, iv), 20)

    def g_b(self) -> int:
        return pow(3, self.b, P)

    def set_client_dh(self, *, g_b: int | None = None, retry_id: int = 0,
                      encrypted: bytes | None = None, padding: bytes | None = None,
                      **fields: Any) -> list[bytes]:
        if encrypted is None:
            data = bytes(T.ClientDHInnerData(
                nonce=fields.pop("inner_nonce", self.nonce),
                server_nonce=fields.pop("inner_server_nonce", self.res_pq.server_nonce),
                retry_id=retry_id,
                g_b=(self.g_b() if g_b is None else g_b).to_bytes(256, "big")))
            key, iv = self.tmp
            encrypted = seal_raw(data, key, iv, padding)
        values: dict[str, Any] = dict(nonce=self.nonce, server_nonce=self.res_pq.server_nonce,
                                      encrypted_data=encrypted)
        values.update(fields)
        return self.send(F.SetClientDHParams(**values))

    def key(self) -> AuthKey:
        g_a = int.from_bytes(self.dh_inner.g_a, "big")
        return AuthKey(pow(g_a, self.b, P).to_bytes(256, "big"))


def answer_of(payloads: list[bytes]) -> Any:
    (payload,) = payloads
    return decode(unpack_plain(payload)[1])
