"""The auth-key exchange (``auth_key.txt``), both halves, sans-I/O.

* :class:`ClientHandshake`: req_pq_multi -> req_DH_params (RSA_PAD, p_q_inner_data_dc or, for a
  temporary key, _temp_dc) -> set_client_DH_params, with every check of the security guidelines;
  gives a :class:`HandshakeResult`.
* :class:`ServerHandshake`: the reference cluster's half, which also takes the legacy req_pq,
  p_q_inner_data and RSA scheme that real clients send; gives a :class:`ServerHandshakeResult`.
* :func:`pack_plain` / :func:`unpack_plain`: the unencrypted envelope.
* :func:`bind_temp_auth_key_message`: the encrypted message of auth.bindTempAuthKey.

Both halves take unencrypted payloads (no transport framing) and give them back from
``data_to_send()``; time comes in as ``now`` and randomness as ``random(n)``.
"""

from __future__ import annotations

from .bind import TempKeyBinding, bind_temp_auth_key_message, open_temp_key_binding
from .client import ClientHandshake, ClientState, HandshakeResult
from .plain import pack_plain, unpack_plain
from .server import (
    TRANSPORT_ERROR_BAD_REQUEST,
    TRANSPORT_ERROR_WRONG_DC,
    HandshakeRejected,
    RsaScheme,
    ServerHandshake,
    ServerHandshakeResult,
    ServerState,
)

__all__ = [
    "TRANSPORT_ERROR_BAD_REQUEST",
    "TRANSPORT_ERROR_WRONG_DC",
    "ClientHandshake",
    "ClientState",
    "HandshakeRejected",
    "HandshakeResult",
    "RsaScheme",
    "ServerHandshake",
    "ServerHandshakeResult",
    "ServerState",
    "TempKeyBinding",
    "bind_temp_auth_key_message",
    "open_temp_key_binding",
    "pack_plain",
    "unpack_plain",
]
