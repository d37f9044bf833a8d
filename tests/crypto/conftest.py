"""Shared inputs of the crypto tests: the worked handshake example of core.telegram.org."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

SAMPLES_PATH = Path(__file__).resolve().parent.parent / "data" / "samples_auth_key.json"


class Samples:
    """The sample handshake (``tests/data/samples_auth_key.json``) with its hex fields decoded."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        steps = raw["steps"]
        self.steps = steps
        self.nonce = bytes.fromhex(raw["nonce"])
        self.server_nonce = bytes.fromhex(raw["server_nonce"])
        self.new_nonce = bytes.fromhex(raw["new_nonce"])
        self.pq = int(steps["2_resPQ"]["pq_decimal"])
        self.p = int(steps["3_pq_factorization"]["p_decimal"])
        self.q = int(steps["3_pq_factorization"]["q_decimal"])
        self.fingerprints = [
            int(v) for v in steps["2_resPQ"]["server_public_key_fingerprints_int64"]]
        answer = steps["6_server_DH_params_ok"]
        self.tmp_aes_key = bytes.fromhex(answer["tmp_aes_key"])
        self.tmp_aes_iv = bytes.fromhex(answer["tmp_aes_iv"])
        self.encrypted_answer = bytes.fromhex(answer["encrypted_answer"])
        self.answer_with_hash = bytes.fromhex(answer["answer_with_hash"])
        inner = steps["6a_server_DH_inner_data"]
        self.server_dh_inner_data = bytes.fromhex(inner["hex"])
        self.g = int(inner["g"])
        self.dh_prime = int(inner["dh_prime"], 16)
        self.g_a = int(inner["g_a"], 16)
        client = steps["7_client_DH_inner_data"]
        self.b = int(client["b"], 16)
        self.g_b = int(client["g_b"], 16)
        self.client_dh_inner_data = bytes.fromhex(client["data"])
        self.client_padding = bytes.fromhex(client["padding"])
        self.client_encrypted_data = bytes.fromhex(client["encrypted_data"])
        self.auth_key = bytes.fromhex(steps["8_auth_key"]["auth_key"])
        self.new_nonce_hash1 = bytes.fromhex(steps["9_dh_gen_ok"]["new_nonce_hash1"])
        derived = raw["derived_by_check_script"]
        self.auth_key_id = bytes.fromhex(
            derived["auth_key_id (last 8 bytes of SHA1(auth_key), wire order)"])
        self.aux_hash = bytes.fromhex(
            derived["auth_key_aux_hash (first 8 bytes of SHA1(auth_key))"])
        self.server_salt = bytes.fromhex(
            derived["server_salt (new_nonce[0:8] XOR server_nonce[0:8], wire order)"])
        self.server_salt_int = int(derived["server_salt_int64"])
        self.p_q_inner_data = bytes.fromhex(steps["4_p_q_inner_data_dc"]["data"])


@pytest.fixture(scope="session")
def samples() -> Samples:
    return Samples(json.loads(SAMPLES_PATH.read_text()))
