"""The client half of the auth-key exchange (``auth_key.txt``), as a sans-I/O machine.

::

    hs = ClientHandshake(dc_id=2, keys=PRODUCTION_KEYS, random=os.urandom, now=now)
    send(hs.data_to_send())               # req_pq_multi, ready at once
    while not hs.done:
        hs.receive(next_payload(), now=now)   # resPQ, server_DH_params_ok, dh_gen_*
        send(hs.data_to_send())
    key, salt = hs.result.auth_key, hs.result.server_salt

Payloads are unencrypted MTProto messages without transport framing.  Every check of
``auth_key.txt`` and ``security_guidelines.txt`` runs as soon as its data arrives; a failed one
raises a :class:`~sansio_mtdc.errors.RemoteProtocolError` subclass and leaves the machine in
:attr:`ClientState.FAILED`: the guidelines say to drop the connection and start a new exchange.

The costly steps run where they overlap the network round trip: the auth key ``g_a^b`` is computed
while set_client_DH_params is made, not when the answer comes.
"""

from __future__ import annotations

import copy
import enum
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..crypto.arith import powmod
from ..crypto.dh import check_dh_params, check_g_a
from ..crypto.hashing import ct_equal, sha1
from ..crypto.kdf import (
    auth_key_from_int,
    initial_server_salt_int,
    new_nonce_hash,
    tmp_aes_key_iv,
)
from ..crypto.mtproto2 import AuthKey
from ..crypto.pq import factorize
from ..crypto.rsa import KeyRegistry, rsa_pad_encrypt
from ..errors import RemoteProtocolError, SecurityError, TLDecodeError, UsageError
from ..session.msgid import MsgIdClock
from ..tl import decode, mtproto
from .fixed_base import fixed_base_powmod
from .plain import pack_plain, unpack_plain
from .sealed import draw, open_sealed, seal

__all__ = ["ClientHandshake", "ClientState", "HandshakeResult"]

_INT32_MIN, _INT32_MAX = -(1 << 31), (1 << 31) - 1
_MAX_PQ_BYTES = 8          # the spec's pq fits in 64 bits; longer strings are refused unread
_DH_BYTES = 256


class ClientState(enum.Enum):
    """Where the exchange stands: which answer the client waits for, or how it ended."""

    AWAITING_RES_PQ = "awaiting resPQ"
    AWAITING_DH_PARAMS = "awaiting server_DH_params"
    AWAITING_DH_GEN = "awaiting dh_gen_ok/retry/fail"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class HandshakeResult:
    """A new auth key and what comes with it.

    ``server_salt`` is the first salt (``new_nonce[0:8] XOR server_nonce[0:8]`` as TL ``long``),
    ``time_offset`` the server's clock minus ours (seconds) for msg_ids, ``expires_at`` the
    server-clock Unix time a temporary key lapses (``None`` for a permanent key).
    """

    auth_key: AuthKey
    server_salt: int
    time_offset: float
    expires_at: int | None

    @property
    def temporary(self) -> bool:
        return self.expires_at is not None


@cache
def _answers() -> dict[int, type[Any]]:
    """Constructor number -> class of every answer a server may send in the exchange."""
    types = mtproto.types
    classes = (types.ResPQ, types.ServerDHParamsOk, types.ServerDHParamsFail, types.DhGenOk,
               types.DhGenRetry, types.DhGenFail)
    return {cls.CONSTRUCTOR_ID: cls for cls in classes}


def _big_endian(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _check_now(now: float) -> float:
    if isinstance(now, bool) or not isinstance(now, (int, float)) or not math.isfinite(now) \
            or not 0 <= now < 1 << 31:
        raise UsageError(f"now must be a finite Unix time in seconds, not {now!r}")
    return float(now)


class ClientHandshake:
    """Makes one auth key with one server over one connection.

    ``dc_id`` goes into ``p_q_inner_data_dc`` as the spec wants it: plus 10000 for test DCs,
    negative for media DCs.  ``keys`` are the server RSA keys trusted here.  ``random(n)`` is the
    only source of randomness (nonce, new_nonce, RSA_PAD padding and key, b, AES padding, drawn in
    that order), so that the same inputs give the same bytes.  ``temp_expires_in`` (seconds) asks
    for a temporary key (``p_q_inner_data_temp_dc``) for perfect forward secrecy.
    ``max_retries`` bounds how many dh_gen_retry answers are followed.
    """

    def __init__(self, *, dc_id: int, keys: KeyRegistry, random: Callable[[int], bytes],
                 now: float, temp_expires_in: int | None = None, max_retries: int = 5) -> None:
        if isinstance(dc_id, bool) or not isinstance(dc_id, int) or dc_id == 0 \
                or not _INT32_MIN <= dc_id <= _INT32_MAX:
            raise UsageError(f"dc_id must be a non-zero int32, not {dc_id!r}")
        if not isinstance(keys, KeyRegistry):
            raise UsageError(f"keys must be a KeyRegistry, not {type(keys).__name__}")
        if temp_expires_in is not None and (
                isinstance(temp_expires_in, bool) or not isinstance(temp_expires_in, int)
                or not 0 < temp_expires_in <= _INT32_MAX):
            raise UsageError(f"temp_expires_in must be a positive int32, not {temp_expires_in!r}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise UsageError(f"max_retries must be a non-negative int, not {max_retries!r}")
        if not callable(random):
            raise UsageError("random must be a function returning n random bytes")
        now = _check_now(now)
        self.dc_id = dc_id
        self.temp_expires_in = temp_expires_in
        self.max_retries = max_retries
        self._keys = keys
        self._random = random
        self._state = ClientState.AWAITING_RES_PQ
        self._outbox: list[bytes] = []
        self._last_sent: bytes | None = None
        self._last_answer = b""
        self._clock = MsgIdClock()
        self._time_offset = 0.0
        self._retries = 0
        self.result: HandshakeResult | None = None
        #: the error that ended the exchange, when :attr:`state` is FAILED
        self.error: RemoteProtocolError | None = None
        # filled in as the exchange goes
        self._server_nonce = b""
        self._new_nonce = b""
        self._tmp_key = b""
        self._tmp_iv = b""
        self._g = 0
        self._dh_prime = 0
        self._g_a = 0
        self._server_time = 0
        self._auth_key: AuthKey | None = None
        self._nonce = draw(random, 16)
        self._send(bytes(mtproto.functions.ReqPqMulti(nonce=self._nonce)), now)

    # --- the machine's face ----------------------------------------------------------------

    @property
    def state(self) -> ClientState:
        return self._state

    @property
    def done(self) -> bool:
        return self._state is ClientState.DONE

    @property
    def nonce(self) -> bytes:
        """The client's nonce: it names this run of the exchange."""
        return self._nonce

    def __copy__(self) -> ClientHandshake:
        """``copy.copy(machine)``: the same state, going on independently from here (the random
        source is shared), for fuzzers and model checkers that try many continuations of one
        exchange."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._outbox = list(self._outbox)
        clone._clock = copy.copy(self._clock)
        return clone

    def data_to_send(self) -> list[bytes]:
        """Unencrypted payloads to frame and send, oldest first; each is returned once."""
        out, self._outbox = self._outbox, []
        return out

    def retransmit(self) -> None:
        """Queue the last message again, byte for byte, for an adapter whose answer is late: the
        spec lets the client repeat a query, and the server answers an identical one again."""
        if self._state in (ClientState.DONE, ClientState.FAILED) or self._last_sent is None:
            raise UsageError(f"nothing to retransmit in state {self._state.name}")
        self._outbox.append(self._last_sent)

    def receive(self, payload: bytes, *, now: float) -> None:
        """Take one unencrypted payload from the server.

        Raises :class:`~sansio_mtdc.errors.SecurityError` (a failed check, ``check`` says which),
        :class:`~sansio_mtdc.errors.TLDecodeError` (undecodable bytes) or
        :class:`~sansio_mtdc.errors.RemoteProtocolError` (``reason="unexpected_answer"``: a valid
        answer at the wrong step); the machine is then FAILED.  :class:`UsageError` when the
        exchange is over or an argument is wrong, and nothing changes.

        An answer identical to the last one taken (the server repeats itself when a request is
        retransmitted) is ignored, even once the exchange is done.
        """
        now = _check_now(now)
        if self._state is ClientState.DONE and self._is_repeat(payload):
            return
        if self._state in (ClientState.DONE, ClientState.FAILED):
            raise UsageError(f"the exchange is over (state {self._state.name})")
        try:
            self._receive(payload, now)
        except RemoteProtocolError as exc:
            self._state = ClientState.FAILED
            self.error = exc
            self._outbox.clear()
            self._wipe()
            raise

    # --- steps -----------------------------------------------------------------------------

    def _is_repeat(self, payload: bytes) -> bool:
        try:
            msg_id, body = unpack_plain(payload)
        except TLDecodeError:
            return False
        return msg_id & 1 == 1 and body == self._last_answer

    def _receive(self, payload: bytes, now: float) -> None:
        msg_id, body = unpack_plain(payload)
        if msg_id & 1 == 0:
            raise SecurityError(f"server msg_id {msg_id} is even", check="msg_id")
        if body == self._last_answer:
            return  # a repeat of the answer already taken
        if len(body) < 4:
            raise TLDecodeError("a message body without a constructor", reason="truncated")
        cls = _answers().get(int.from_bytes(body[:4], "little"))
        if cls is None:
            raise TLDecodeError(f"constructor {body[:4][::-1].hex()} is not a handshake answer",
                                reason="unexpected_constructor")
        answer = decode(body)
        types = mtproto.types
        state = self._state
        if state is ClientState.AWAITING_RES_PQ and cls is types.ResPQ:
            self._on_res_pq(answer, now)
        elif state is ClientState.AWAITING_DH_PARAMS and cls is types.ServerDHParamsOk:
            self._on_server_dh_params_ok(answer, now)
        elif state is ClientState.AWAITING_DH_PARAMS and cls is types.ServerDHParamsFail:
            self._on_server_dh_params_fail(answer)
        elif state is ClientState.AWAITING_DH_GEN and cls in (types.DhGenOk, types.DhGenRetry,
                                                               types.DhGenFail):
            self._on_dh_gen(answer, now)
        else:
            raise RemoteProtocolError(f"{cls.TL_NAME} while {state.value}",
                                      reason="unexpected_answer")
        self._last_answer = body

    def _check_nonces(self, answer: Any, where: str) -> None:
        if answer.nonce != self._nonce:
            raise SecurityError(f"{where} carries another nonce", check="nonce")
        if answer.server_nonce != self._server_nonce:
            raise SecurityError(f"{where} carries another server_nonce", check="server_nonce")

    def _on_res_pq(self, res_pq: Any, now: float) -> None:
        if res_pq.nonce != self._nonce:
            raise SecurityError("resPQ carries another nonce", check="nonce")
        key = self._keys.first_known(res_pq.server_public_key_fingerprints)
        if key is None:
            known = ", ".join(f"{f & 0xFFFFFFFFFFFFFFFF:016x}"
                              for f in res_pq.server_public_key_fingerprints[:8])
            raise SecurityError(f"no trusted RSA key among the server's fingerprints [{known}]",
                                check="fingerprint")
        if len(res_pq.pq) > _MAX_PQ_BYTES:
            raise SecurityError(f"pq of {len(res_pq.pq)} bytes; at most 8 are expected",
                                check="pq")
        p, q = factorize(int.from_bytes(res_pq.pq, "big"))
        self._server_nonce = res_pq.server_nonce
        self._new_nonce = draw(self._random, 32)
        types = mtproto.types
        p_bytes, q_bytes = _big_endian(p), _big_endian(q)
        inner: Any
        if self.temp_expires_in is None:
            inner = types.PQInnerDataDc(
                pq=res_pq.pq, p=p_bytes, q=q_bytes, nonce=self._nonce,
                server_nonce=self._server_nonce, new_nonce=self._new_nonce, dc=self.dc_id)
        else:
            inner = types.PQInnerDataTempDc(
                pq=res_pq.pq, p=p_bytes, q=q_bytes, nonce=self._nonce,
                server_nonce=self._server_nonce, new_nonce=self._new_nonce, dc=self.dc_id,
                expires_in=self.temp_expires_in)
        encrypted = rsa_pad_encrypt(bytes(inner), key, self._random)
        request = mtproto.functions.ReqDHParams(
            nonce=self._nonce, server_nonce=self._server_nonce, p=p_bytes, q=q_bytes,
            public_key_fingerprint=key.fingerprint, encrypted_data=encrypted)
        self._tmp_key, self._tmp_iv = tmp_aes_key_iv(self._new_nonce, self._server_nonce)
        self._send(bytes(request), now)
        self._state = ClientState.AWAITING_DH_PARAMS

    def _on_server_dh_params_ok(self, answer: Any, now: float) -> None:
        self._check_nonces(answer, "server_DH_params_ok")
        inner: Any = open_sealed(answer.encrypted_answer, self._tmp_key, self._tmp_iv,
                                 mtproto.types.ServerDHInnerData, check="answer_hash")
        self._check_nonces(inner, "server_DH_inner_data")
        dh_prime = int.from_bytes(inner.dh_prime, "big")
        check_dh_params(dh_prime, inner.g)
        g_a = int.from_bytes(inner.g_a, "big")
        check_g_a(g_a, dh_prime, what="g_a")
        self._g, self._dh_prime, self._g_a = inner.g, dh_prime, g_a
        self._server_time = inner.server_time
        self._time_offset = inner.server_time - now
        self._clock.offset = self._time_offset  # later msg_ids follow the server's clock
        self._send_client_dh(retry_id=0, now=now)
        self._state = ClientState.AWAITING_DH_GEN

    def _on_server_dh_params_fail(self, answer: Any) -> None:
        self._check_nonces(answer, "server_DH_params_fail")
        if not ct_equal(answer.new_nonce_hash, sha1(self._new_nonce)[4:20]):
            raise SecurityError("server_DH_params_fail with a wrong new_nonce_hash",
                                check="new_nonce_hash")
        raise SecurityError("the server refused req_DH_params (server_DH_params_fail)",
                            check="server_dh_params_fail")

    def _send_client_dh(self, *, retry_id: int, now: float) -> None:
        """Step 7: a fresh b, g_b and the auth key g_a^b, then set_client_DH_params."""
        b = int.from_bytes(draw(self._random, _DH_BYTES), "big")
        g_b = fixed_base_powmod(self._g, b, self._dh_prime)
        check_g_a(g_b, self._dh_prime, what="g_b")
        self._auth_key = AuthKey(auth_key_from_int(powmod(self._g_a, b, self._dh_prime)))
        data = mtproto.types.ClientDHInnerData(
            nonce=self._nonce, server_nonce=self._server_nonce, retry_id=retry_id,
            g_b=g_b.to_bytes(_DH_BYTES, "big"))
        encrypted = seal(bytes(data), self._tmp_key, self._tmp_iv, self._random)
        request = mtproto.functions.SetClientDHParams(
            nonce=self._nonce, server_nonce=self._server_nonce, encrypted_data=encrypted)
        self._send(bytes(request), now)

    def _on_dh_gen(self, answer: Any, now: float) -> None:
        types = mtproto.types
        self._check_nonces(answer, answer.TL_NAME)
        key = self._auth_key
        assert key is not None
        number, received = (
            (1, answer.new_nonce_hash1) if isinstance(answer, types.DhGenOk)
            else (2, answer.new_nonce_hash2) if isinstance(answer, types.DhGenRetry)
            else (3, answer.new_nonce_hash3))
        if not ct_equal(received, new_nonce_hash(self._new_nonce, key.aux_hash, number)):
            raise SecurityError(f"{answer.TL_NAME} with a wrong new_nonce_hash{number}",
                                check="new_nonce_hash")
        if number == 3:
            raise SecurityError("the server refused the key (dh_gen_fail)", check="dh_gen_fail")
        if number == 2:
            if self._retries >= self.max_retries:
                raise SecurityError(f"dh_gen_retry after {self._retries} retries",
                                    check="retries")
            self._retries += 1
            retry_id = int.from_bytes(key.aux_hash, "little", signed=True)
            self._send_client_dh(retry_id=retry_id, now=now)
            return
        expires_at = None
        if self.temp_expires_in is not None:
            expires_at = self._server_time + self.temp_expires_in
        self.result = HandshakeResult(
            auth_key=key,
            server_salt=initial_server_salt_int(self._new_nonce, self._server_nonce),
            time_offset=self._time_offset,
            expires_at=expires_at,
        )
        self._state = ClientState.DONE
        self._wipe()

    # --- internals -----------------------------------------------------------------------

    def _send(self, body: bytes, now: float) -> None:
        payload = pack_plain(self._clock.next(now), body)
        self._last_sent = payload
        self._outbox.append(payload)

    def _wipe(self) -> None:
        """Forget the exchange's secrets once they are of no more use."""
        self._new_nonce = self._tmp_key = self._tmp_iv = b""
        self._g_a = 0
        self._last_sent = None
        if self._state is ClientState.FAILED:
            self._auth_key = None
