"""The server half of the auth-key exchange, as the reference DC cluster runs it per connection.

It answers what real clients send: ``req_pq_multi`` or the legacy ``req_pq``; ``req_DH_params``
whose ``encrypted_data`` is RSA_PAD or the older ``RSA(SHA1(data) + data + padding)`` (tried in
that order) around any of ``p_q_inner_data``, ``_dc``, ``_temp`` and ``_temp_dc`` (Telethon and
Pyrogram still send the legacy pair); then ``set_client_DH_params``.  It uses Telegram's own
2048-bit dh_prime with g = 3 unless told otherwise, so clients that pin that prime accept it.

Bad input raises a :class:`~sansio_mtdc.errors.RemoteProtocolError` subclass and leaves the
machine FAILED.  What the cluster does with it: on :class:`HandshakeRejected`, send the transport
error ``code`` it carries (-444 for a DC id that does not belong here) and close; on any other,
close the connection (Telegram answers -404, which a cluster may send instead).  The client then
starts again on a new connection.

A repeated request, byte for byte the same as the last one, gets the same answer again, as the
spec asks of servers; a new ``req_pq_multi`` starts the exchange over.
"""

from __future__ import annotations

import copy
import enum
import math
from collections.abc import Callable, Container
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from ..crypto.arith import powmod
from ..crypto.dh import TELEGRAM_DH_PRIME, check_dh_params, check_g_a
from ..crypto.kdf import (
    auth_key_from_int,
    initial_server_salt_int,
    new_nonce_hash,
    tmp_aes_key_iv,
)
from ..crypto.mtproto2 import AuthKey
from ..crypto.pq import generate_pq
from ..crypto.rsa import RSAPrivateKey, check_legacy_hash
from ..errors import RemoteProtocolError, SecurityError, TLDecodeError, UsageError
from ..session.msgid import MsgIdClock
from ..tl import decode, mtproto, read_object
from .fixed_base import fixed_base_powmod
from .plain import pack_plain, unpack_plain
from .sealed import draw, open_sealed, seal

__all__ = [
    "TRANSPORT_ERROR_BAD_REQUEST",
    "TRANSPORT_ERROR_WRONG_DC",
    "HandshakeRejected",
    "RsaScheme",
    "ServerHandshake",
    "ServerHandshakeResult",
    "ServerState",
]

#: Transport error Telegram sends for an incorrect handshake query.
TRANSPORT_ERROR_BAD_REQUEST = -404
#: Transport error for a ``dc`` in p_q_inner_data that is not this DC (test vs production).
TRANSPORT_ERROR_WRONG_DC = -444

RsaScheme = Literal["rsa_pad", "legacy"]

_INT32_MAX = (1 << 31) - 1
_DH_BYTES = 256
_MAX_FACTOR_BYTES = 8
_MAX_DRAWS = 16  # of the secret a, for a g_a in the recommended range (one draw in 2^62 fails)


class HandshakeRejected(RemoteProtocolError):
    """The client's request is refused with a transport error: the cluster sends ``code`` (a
    negative int32, such as -444) as a 4-byte packet and closes the connection."""

    def __init__(self, message: str, *, code: int, reason: str) -> None:
        super().__init__(message, reason=reason)
        self.code = code


class ServerState(enum.Enum):
    """Which request the server half waits for, or how the exchange ended."""

    AWAITING_REQ_PQ = "awaiting req_pq_multi"
    AWAITING_REQ_DH_PARAMS = "awaiting req_DH_params"
    AWAITING_SET_CLIENT_DH_PARAMS = "awaiting set_client_DH_params"
    DONE = "done"
    REFUSED = "refused with dh_gen_fail"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ServerHandshakeResult:
    """A key the server half agreed on.

    ``auth_key_id`` is ``auth_key.id`` (TL ``long``), ``expires_at`` the Unix time a temporary
    key lapses (``None`` for a permanent one), ``server_salt`` the first salt, ``dc`` the DC id
    the client wrote in p_q_inner_data (``None`` for the legacy constructors without one),
    ``rsa_scheme`` how the client encrypted it.
    """

    auth_key: AuthKey
    server_salt: int
    expires_at: int | None
    dc: int | None
    rsa_scheme: RsaScheme

    @property
    def auth_key_id(self) -> int:
        return self.auth_key.id

    @property
    def temporary(self) -> bool:
        return self.expires_at is not None


@cache
def _requests() -> dict[int, type[Any]]:
    """Constructor number -> class of every request a client may send in the exchange."""
    functions = mtproto.functions
    classes = (functions.ReqPqMulti, functions.ReqPq, functions.ReqDHParams,
               functions.SetClientDHParams)
    return {cls.CONSTRUCTOR_ID: cls for cls in classes}


@cache
def _inner_data_classes() -> dict[int, type[Any]]:
    types = mtproto.types
    classes = (types.PQInnerData, types.PQInnerDataDc, types.PQInnerDataTemp,
               types.PQInnerDataTempDc)
    return {cls.CONSTRUCTOR_ID: cls for cls in classes}


def _no_known_keys(auth_key_id: int) -> bool:
    return False


def _check_now(now: float) -> float:
    if isinstance(now, bool) or not isinstance(now, (int, float)) or not math.isfinite(now) \
            or not 0 <= now < 1 << 31:
        raise UsageError(f"now must be a finite Unix time in seconds, not {now!r}")
    return float(now)


def _big_endian(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _read_factor(value: bytes, what: str) -> int:
    if len(value) > _MAX_FACTOR_BYTES:
        raise SecurityError(f"{what} of {len(value)} bytes", check="pq")
    return int.from_bytes(value, "big")


class ServerHandshake:
    """One connection's server half of the exchange.

    ``dc_id`` is this DC as clients write it in p_q_inner_data_dc (plus 10000 on a test cluster);
    ``accepted_dc_ids`` the values accepted there (default: ``dc_id`` and ``-dc_id``, its media
    variant).  ``known_key_ids(auth_key_id)`` says whether a key id is taken already; a taken one
    is answered with dh_gen_retry, at most ``max_retries`` times, then dh_gen_fail.
    """

    def __init__(self, *, private_key: RSAPrivateKey, dc_id: int,
                 random: Callable[[int], bytes], now: float,
                 dh_prime: int = TELEGRAM_DH_PRIME, g: int = 3,
                 accepted_dc_ids: Container[int] | None = None,
                 known_key_ids: Callable[[int], bool] = _no_known_keys,
                 max_retries: int = 5) -> None:
        if not isinstance(private_key, RSAPrivateKey):
            raise UsageError(f"private_key must be an RSAPrivateKey, not "
                             f"{type(private_key).__name__}")
        if isinstance(dc_id, bool) or not isinstance(dc_id, int) or not 0 < dc_id <= _INT32_MAX:
            raise UsageError(f"dc_id must be a positive int32, not {dc_id!r}")
        if not callable(random) or not callable(known_key_ids):
            raise UsageError("random and known_key_ids must be callables")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise UsageError(f"max_retries must be a non-negative int, not {max_retries!r}")
        try:
            check_dh_params(dh_prime, g)
        except SecurityError as exc:
            raise UsageError(f"unusable DH parameters: {exc}") from None
        _check_now(now)
        self.private_key = private_key
        self.fingerprint = private_key.public.fingerprint
        self.dc_id = dc_id
        self.dh_prime = dh_prime
        self.g = g
        self.accepted_dc_ids: Container[int] = (
            frozenset((dc_id, -dc_id)) if accepted_dc_ids is None else accepted_dc_ids)
        self.known_key_ids = known_key_ids
        self.max_retries = max_retries
        self._random = random
        self._state = ServerState.AWAITING_REQ_PQ
        self._outbox: list[bytes] = []
        self._clock = MsgIdClock(server=True)
        self._last_request = b""
        self._last_answer = b""
        self.result: ServerHandshakeResult | None = None
        #: the error that ended the exchange, when :attr:`state` is FAILED
        self.error: RemoteProtocolError | None = None
        self._reset()

    def _reset(self) -> None:
        self._nonce = b""
        self._server_nonce = b""
        self._new_nonce = b""
        self._pq = self._p = self._q = 0
        self._tmp_key = self._tmp_iv = b""
        self._a = 0
        self._server_time = 0
        self._expires_in: int | None = None
        self._dc: int | None = None
        self._scheme: RsaScheme = "rsa_pad"
        self._retries = 0
        self._retry_id = 0

    # --- the machine's face ----------------------------------------------------------------

    @property
    def state(self) -> ServerState:
        return self._state

    @property
    def done(self) -> bool:
        return self._state is ServerState.DONE

    def __copy__(self) -> ServerHandshake:
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

    def receive(self, payload: bytes, *, now: float) -> None:
        """Take one unencrypted payload from the client.

        Bad input raises a :class:`~sansio_mtdc.errors.RemoteProtocolError` subclass
        (:class:`HandshakeRejected` carries a transport error code) and the machine is FAILED;
        :class:`UsageError` once FAILED, and nothing changes.
        """
        now = _check_now(now)
        if self._state is ServerState.FAILED:
            raise UsageError("the exchange failed; the connection is to be closed")
        try:
            self._receive(payload, now)
        except RemoteProtocolError as exc:
            self._state = ServerState.FAILED
            self.error = exc
            self._outbox.clear()
            self._reset()
            raise

    # --- steps -----------------------------------------------------------------------------

    def _receive(self, payload: bytes, now: float) -> None:
        msg_id, body = unpack_plain(payload)
        if msg_id & 3 or msg_id <= 0:
            raise SecurityError(f"client msg_id {msg_id} is not a positive multiple of 4",
                                check="msg_id")
        if body == self._last_request and self._last_answer:
            self._answer(self._last_answer, now)
            return
        if len(body) < 4:
            raise TLDecodeError("a message body without a constructor", reason="truncated")
        cls = _requests().get(int.from_bytes(body[:4], "little"))
        if cls is None:
            raise TLDecodeError(f"constructor {body[:4][::-1].hex()} is not a handshake request",
                                reason="unexpected_constructor")
        request = decode(body)
        functions = mtproto.functions
        state = self._state
        if cls in (functions.ReqPqMulti, functions.ReqPq):
            answer = self._on_req_pq(request)
        elif state is ServerState.AWAITING_REQ_DH_PARAMS and cls is functions.ReqDHParams:
            answer = self._on_req_dh_params(request, now)
        elif state is ServerState.AWAITING_SET_CLIENT_DH_PARAMS \
                and cls is functions.SetClientDHParams:
            answer = self._on_set_client_dh_params(request)
        else:
            raise RemoteProtocolError(f"{cls.TL_NAME} while {state.value}",
                                      reason="unexpected_request")
        self._last_request = body
        self._last_answer = answer
        self._answer(answer, now)

    def _answer(self, body: bytes, now: float) -> None:
        self._outbox.append(pack_plain(self._clock.next(now, answer=True), body))

    def _check_nonces(self, message: Any, where: str) -> None:
        if message.nonce != self._nonce:
            raise SecurityError(f"{where} carries another nonce", check="nonce")
        if message.server_nonce != self._server_nonce:
            raise SecurityError(f"{where} carries another server_nonce", check="server_nonce")

    def _on_req_pq(self, request: Any) -> bytes:
        """Steps 1-2: a new exchange (a second req_pq_multi starts over)."""
        self._reset()
        self.result = None
        self._nonce = request.nonce
        self._server_nonce = draw(self._random, 16)
        self._pq, self._p, self._q = generate_pq(self._random)
        self._state = ServerState.AWAITING_REQ_DH_PARAMS
        return bytes(mtproto.types.ResPQ(
            nonce=self._nonce, server_nonce=self._server_nonce, pq=_big_endian(self._pq),
            server_public_key_fingerprints=[self.fingerprint]))

    def _on_req_dh_params(self, request: Any, now: float) -> bytes:
        """Steps 5-6: check the proof of work, decrypt p_q_inner_data, answer with g_a."""
        self._check_nonces(request, "req_DH_params")
        if _read_factor(request.p, "p") != self._p or _read_factor(request.q, "q") != self._q:
            raise SecurityError("p and q are not the factors of pq", check="pq")
        if request.public_key_fingerprint != self.fingerprint:
            raise SecurityError("req_DH_params names a key this server does not have",
                                check="fingerprint")
        inner = self._decrypt_inner_data(request.encrypted_data)
        self._check_nonces(inner, inner.TL_NAME)
        if (_read_factor(inner.pq, "pq") != self._pq or _read_factor(inner.p, "p") != self._p
                or _read_factor(inner.q, "q") != self._q):
            raise SecurityError(f"{inner.TL_NAME} carries another pq, p or q", check="pq")
        dc = getattr(inner, "dc", None)
        if dc is not None and dc not in self.accepted_dc_ids:
            raise HandshakeRejected(f"{inner.TL_NAME} is for DC {dc}, not this one",
                                    code=TRANSPORT_ERROR_WRONG_DC, reason="wrong_dc")
        expires_in = getattr(inner, "expires_in", None)
        if expires_in is not None and expires_in <= 0:
            raise RemoteProtocolError(f"a temporary key asked to expire in {expires_in} s",
                                      reason="bad_expires_in")
        self._new_nonce, self._dc, self._expires_in = inner.new_nonce, dc, expires_in
        self._tmp_key, self._tmp_iv = tmp_aes_key_iv(self._new_nonce, self._server_nonce)
        g_a = self._draw_secret()
        self._server_time = int(now)
        answer = mtproto.types.ServerDHInnerData(
            nonce=self._nonce, server_nonce=self._server_nonce, g=self.g,
            dh_prime=_big_endian(self.dh_prime), g_a=g_a.to_bytes(_DH_BYTES, "big"),
            server_time=self._server_time)
        encrypted = seal(bytes(answer), self._tmp_key, self._tmp_iv, self._random)
        self._state = ServerState.AWAITING_SET_CLIENT_DH_PARAMS
        return bytes(mtproto.types.ServerDHParamsOk(
            nonce=self._nonce, server_nonce=self._server_nonce, encrypted_answer=encrypted))

    def _decrypt_inner_data(self, encrypted: bytes) -> Any:
        """p_q_inner_data from RSA_PAD or, failing that, from the legacy scheme."""
        try:
            padded = self.private_key.decrypt_rsa_pad(encrypted)
        except SecurityError:
            padded = None
        if padded is not None:  # authenticated by RSA_PAD's hash: a bad body is a client bug
            self._scheme = "rsa_pad"
            inner, _ = self._read_inner_data(padded)
            return inner
        try:
            plain = self.private_key.decrypt_legacy(encrypted)
            inner, end = self._read_inner_data(plain)
            check_legacy_hash(plain, end)
        except RemoteProtocolError:
            raise SecurityError("encrypted_data is neither RSA_PAD nor the legacy scheme "
                                "under this server's key", check="encrypted_data") from None
        self._scheme = "legacy"
        return inner

    @staticmethod
    def _read_inner_data(data: bytes) -> tuple[Any, int]:
        if int.from_bytes(data[:4], "little") not in _inner_data_classes():
            raise TLDecodeError("the encrypted data does not hold p_q_inner_data",
                                reason="wrong_type")
        return read_object(data, 0)

    def _draw_secret(self) -> int:
        """A fresh secret a with g_a in the recommended range; returns g_a."""
        for _ in range(_MAX_DRAWS):
            a = int.from_bytes(draw(self._random, _DH_BYTES), "big")
            g_a = fixed_base_powmod(self.g, a, self.dh_prime)
            try:
                check_g_a(g_a, self.dh_prime, what="g_a")
            except SecurityError:
                continue
            self._a = a
            return g_a
        raise UsageError("the random source keeps giving secrets with g_a out of range")

    def _on_set_client_dh_params(self, request: Any) -> bytes:
        """Steps 7-9: check g_b, make the key, answer dh_gen_ok (or retry / fail)."""
        types = mtproto.types
        self._check_nonces(request, "set_client_DH_params")
        inner: Any = open_sealed(request.encrypted_data, self._tmp_key, self._tmp_iv,
                                 types.ClientDHInnerData, check="data_hash")
        self._check_nonces(inner, "client_DH_inner_data")
        if inner.retry_id != self._retry_id:
            raise SecurityError(f"retry_id {inner.retry_id}, expected {self._retry_id}",
                                check="retry_id")
        g_b = int.from_bytes(inner.g_b, "big")
        check_g_a(g_b, self.dh_prime, what="g_b")
        key = AuthKey(auth_key_from_int(powmod(g_b, self._a, self.dh_prime)))
        ids = (self._nonce, self._server_nonce)
        if self.known_key_ids(key.id):
            if self._retries >= self.max_retries:
                answer = bytes(types.DhGenFail(
                    nonce=ids[0], server_nonce=ids[1],
                    new_nonce_hash3=new_nonce_hash(self._new_nonce, key.aux_hash, 3)))
                self._state = ServerState.REFUSED
                self._wipe()
                return answer
            self._retries += 1
            self._retry_id = int.from_bytes(key.aux_hash, "little", signed=True)
            return bytes(types.DhGenRetry(
                nonce=ids[0], server_nonce=ids[1],
                new_nonce_hash2=new_nonce_hash(self._new_nonce, key.aux_hash, 2)))
        expires_at = None
        if self._expires_in is not None:
            expires_at = self._server_time + self._expires_in
        self.result = ServerHandshakeResult(
            auth_key=key,
            server_salt=initial_server_salt_int(self._new_nonce, self._server_nonce),
            expires_at=expires_at,
            dc=self._dc,
            rsa_scheme=self._scheme,
        )
        answer = bytes(types.DhGenOk(
            nonce=ids[0], server_nonce=ids[1],
            new_nonce_hash1=new_nonce_hash(self._new_nonce, key.aux_hash, 1)))
        self._state = ServerState.DONE
        self._wipe()
        return answer

    def _wipe(self) -> None:
        """Forget the exchange's secrets once it has ended (a repeated request is answered from
        the answer kept for it)."""
        self._new_nonce = self._tmp_key = self._tmp_iv = b""
        self._a = 0
