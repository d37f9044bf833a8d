"""The worked example of core.telegram.org (``samples-auth_key``) replayed through the client: with
the sample's nonce, new_nonce, RSA_PAD padding, b and AES padding fed through ``random`` and the
sample's server messages fed in, every client message is the sample's, byte for byte, except the
RSA-encrypted blob (whose temp_key the page does not give) and the msg_ids (the page's cannot be
written as a float time)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import tgcrypto

from sansio_mtdc.crypto import PRODUCTION_KEYS, KeyRegistry
from sansio_mtdc.handshake import ClientHandshake, ClientState, unpack_plain

from .peers import ScriptedRandom, load_samples, sample_bytes

TIME_SCALE = float(1 << 32)


@pytest.fixture(scope="module")
def samples() -> dict[str, Any]:
    return load_samples()


def msg_id_of(samples: dict[str, Any], step: str) -> int:
    return int(samples["steps"][step]["message_id"])


def independent_rsa_pad(data: bytes, padding: bytes, temp_key: bytes, n: int, e: int) -> bytes:
    """RSA_PAD of auth_key.txt 4.1, written out here with tgcrypto's IGE."""
    with_padding = data + padding
    with_hash = with_padding[::-1] + hashlib.sha256(temp_key + with_padding).digest()
    aes = tgcrypto.ige256_encrypt(with_hash, temp_key, bytes(32))
    masked = bytes(a ^ b for a, b in zip(temp_key, hashlib.sha256(aes).digest()))
    return pow(int.from_bytes(masked + aes, "big"), e, n).to_bytes(256, "big")


def test_sample_replays_byte_for_byte(samples: dict[str, Any]) -> None:
    steps = samples["steps"]
    inner_step = steps["4_p_q_inner_data_dc"]
    client_step = steps["7_client_DH_inner_data"]
    script = [
        bytes.fromhex(samples["nonce"]),
        bytes.fromhex(samples["new_nonce"]),
        bytes.fromhex(inner_step["random_padding_bytes"]),
        bytes.fromhex(client_step["b"]),
        bytes.fromhex(client_step["padding"]),
    ]
    random = ScriptedRandom(script, seed=7)
    now = msg_id_of(samples, "1_req_pq_multi") / TIME_SCALE
    client = ClientHandshake(dc_id=2, keys=KeyRegistry(PRODUCTION_KEYS), random=random, now=now)

    # 1) req_pq_multi
    (sent,) = client.data_to_send()
    expected = sample_bytes(samples, "1_req_pq_multi")
    assert sent[:8] == expected[:8] and sent[16:] == expected[16:]
    assert abs(unpack_plain(sent)[0] - msg_id_of(samples, "1_req_pq_multi")) < 1 << 12

    # 2) resPQ -> 5) req_DH_params
    now = msg_id_of(samples, "2_resPQ") / TIME_SCALE
    client.receive(sample_bytes(samples, "2_resPQ"), now=now)
    (sent,) = client.data_to_send()
    expected = sample_bytes(samples, "5_req_DH_params")
    assert len(sent) == len(expected)
    assert sent[:8] == expected[:8] and sent[16:-256] == expected[16:-256]
    assert unpack_plain(sent)[0] % 4 == 0
    # the blob is RSA_PAD of the sample's p_q_inner_data_dc and padding, under the temp_key drawn
    temp_key = random.draws[3]
    assert [len(d) for d in random.draws[:4]] == [16, 32, 92, 32]
    key = PRODUCTION_KEYS.get(int(steps["2_resPQ"]["server_public_key_fingerprints_int64"][0]))
    assert key is not None
    blob = independent_rsa_pad(bytes.fromhex(inner_step["data"]),
                               bytes.fromhex(inner_step["random_padding_bytes"]),
                               temp_key, key.n, key.e)
    assert sent[-256:] == blob

    # 6) server_DH_params_ok -> 7) set_client_DH_params, entirely the sample's
    now = msg_id_of(samples, "6_server_DH_params_ok") / TIME_SCALE
    client.receive(sample_bytes(samples, "6_server_DH_params_ok"), now=now)
    (sent,) = client.data_to_send()
    expected = sample_bytes(samples, "7b_set_client_DH_params")
    assert sent[:8] == expected[:8] and sent[16:] == expected[16:]
    server_time = int(steps["6a_server_DH_inner_data"]["server_time"])
    assert unpack_plain(sent)[0] >> 32 == server_time  # msg_id follows the server's clock

    # 9) dh_gen_ok
    client.receive(sample_bytes(samples, "9_dh_gen_ok"), now=now)
    assert client.state is ClientState.DONE
    assert random.left() == []
    assert random.sizes() == [16, 32, 92, 32, 256, 12]
    result = client.result
    assert result is not None
    assert result.auth_key.key == bytes.fromhex(steps["8_auth_key"]["auth_key"])
    derived = samples["derived_by_check_script"]
    assert result.auth_key.key_id == bytes.fromhex(
        derived["auth_key_id (last 8 bytes of SHA1(auth_key), wire order)"])
    assert result.server_salt == int(derived["server_salt_int64"])
    assert result.time_offset == pytest.approx(server_time - now)
    assert result.expires_at is None


def test_sample_with_a_changed_new_nonce_hash_fails(samples: dict[str, Any]) -> None:
    """The replay is not vacuous: one flipped bit of new_nonce_hash1 is caught."""
    from sansio_mtdc.errors import SecurityError

    steps = samples["steps"]
    script = [bytes.fromhex(samples["nonce"]), bytes.fromhex(samples["new_nonce"]),
              bytes.fromhex(steps["4_p_q_inner_data_dc"]["random_padding_bytes"]),
              bytes.fromhex(steps["7_client_DH_inner_data"]["b"]),
              bytes.fromhex(steps["7_client_DH_inner_data"]["padding"])]
    now = msg_id_of(samples, "2_resPQ") / TIME_SCALE
    client = ClientHandshake(dc_id=2, keys=PRODUCTION_KEYS, random=ScriptedRandom(script),
                             now=now)
    client.receive(sample_bytes(samples, "2_resPQ"), now=now)
    client.receive(sample_bytes(samples, "6_server_DH_params_ok"), now=now)
    dh_gen_ok = bytearray(sample_bytes(samples, "9_dh_gen_ok"))
    dh_gen_ok[-1] ^= 1
    with pytest.raises(SecurityError) as caught:
        client.receive(bytes(dh_gen_ok), now=now)
    assert caught.value.check == "new_nonce_hash"
