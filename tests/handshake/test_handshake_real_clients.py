"""Clients nobody on this project wrote make keys with our server half: Telethon 1.45's
``do_authentication`` and Pyrogram's ``Auth.create``, each over an in-memory wire (the drivers live
with the benchmark, which times the same runs)."""

from __future__ import annotations

import importlib.util

import pytest

from sansio_mtdc.adapters.bench.handshake import (
    TELETHON_ATTEMPTS,
    new_server,
    pyrogram_handshake,
    sansio_handshake,
    telethon_handshake,
)
from sansio_mtdc.handshake import ServerState


def test_our_client_through_the_same_driver() -> None:
    server = new_server("ours")
    key, spent = sansio_handshake("ours", server)
    assert server.result is not None and server.result.auth_key.key == key
    assert server.result.rsa_scheme == "rsa_pad" and server.result.dc == 2
    assert spent > 0


@pytest.mark.skipif(importlib.util.find_spec("telethon") is None, reason="needs telethon")
@pytest.mark.parametrize("seed", range(3))
def test_telethon_makes_a_key(seed: int) -> None:
    from telethon.errors import SecurityError as TelethonSecurityError

    for attempt in range(TELETHON_ATTEMPTS):
        server = new_server(f"telethon-{seed}-{attempt}")
        try:
            key, _ = telethon_handshake(server)
        except TelethonSecurityError:
            # Telethon drops the leading zero byte of g^ab (one key in 256) and fails its own
            # new_nonce_hash1 check; our server did make the full 256-byte key.
            assert server.result is not None and server.result.auth_key.key[0] == 0
            continue
        break
    else:
        pytest.fail("Telethon failed every attempt")
    assert server.state is ServerState.DONE and server.result is not None
    assert server.result.auth_key.key == key
    # Telethon sends req_pq_multi, the legacy p_q_inner_data and the legacy RSA scheme
    assert server.result.rsa_scheme == "legacy" and server.result.dc is None
    assert not server.result.temporary


@pytest.mark.skipif(importlib.util.find_spec("pyrogram") is None, reason="needs pyrogram")
@pytest.mark.parametrize("seed", range(3))
def test_pyrogram_makes_a_key(seed: int) -> None:
    server = new_server(f"pyrogram-{seed}")
    key, _ = pyrogram_handshake(server)
    assert server.state is ServerState.DONE and server.result is not None
    assert server.result.auth_key.key == key
    assert server.result.rsa_scheme == "legacy" and server.result.dc is None
