"""The cryptography of MTProto 2.0, without state: AES-256-IGE and -CTR, message encryption,
the handshake's RSA, proof of work, Diffie-Hellman checks and key derivations.

Importing this package is cheap: each name is loaded from its module when first used, and the
optional accelerators that are slow to import (gmpy2, ``cryptography``'s ciphers) on first use
too.  Modules:

* :mod:`~sansio_mtdc.crypto.aes`: IGE (backend chosen at import, :data:`BACKEND`) and CTR
* :mod:`~sansio_mtdc.crypto.mtproto2`: :class:`AuthKey`, msg_key, KDF, padding
* :mod:`~sansio_mtdc.crypto.rsa`: keys, fingerprints, RSA_PAD, the reference cluster key
* :mod:`~sansio_mtdc.crypto.pq`: factorization and generation of pq
* :mod:`~sansio_mtdc.crypto.dh`: DH parameter and public value checks
* :mod:`~sansio_mtdc.crypto.kdf`: handshake derivations (tmp AES key, nonce hashes, salt)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_names

if TYPE_CHECKING:
    from .aes import BACKEND, AesCtr, IgeBackend, available_backends, ige256_decrypt, ige256_encrypt
    from .dh import HAVE_GMPY2, TELEGRAM_DH_PRIME, check_dh_params, check_g_a, powmod
    from .hashing import ct_equal, sha1, sha256
    from .inputs import BytesLike, RandomSource
    from .kdf import (
        auth_key_from_int,
        initial_server_salt,
        initial_server_salt_int,
        new_nonce_hash,
        tmp_aes_key_iv,
    )
    from .mtproto2 import (
        CLIENT_TO_SERVER,
        SERVER_TO_CLIENT,
        AuthKey,
        kdf1,
        kdf2,
        msg_key,
        msg_key_v1,
        padding_length,
    )
    from .pq import factorize, generate_pq
    from .rsa import (
        PRODUCTION_KEYS,
        REFERENCE_CLUSTER_KEYS,
        TEST_KEYS,
        KeyRegistry,
        LegacyPlaintext,
        RSAPrivateKey,
        RSAPublicKey,
        check_legacy_hash,
        reference_cluster_key,
        rsa_encrypt_legacy,
        rsa_pad_encrypt,
    )

#: public name -> the module that defines it (imported on first use: ``from sansio_mtdc.crypto
#: import AuthKey`` loads the message encryption without the RSA keys or the DH checks)
_LAZY = {
    **dict.fromkeys(("BACKEND", "AesCtr", "IgeBackend", "available_backends", "ige256_decrypt",
                     "ige256_encrypt"), "aes"),
    **dict.fromkeys(("HAVE_GMPY2", "TELEGRAM_DH_PRIME", "check_dh_params", "check_g_a",
                     "powmod"), "dh"),
    **dict.fromkeys(("ct_equal", "sha1", "sha256"), "hashing"),
    **dict.fromkeys(("BytesLike", "RandomSource"), "inputs"),
    **dict.fromkeys(("auth_key_from_int", "initial_server_salt", "initial_server_salt_int",
                     "new_nonce_hash", "tmp_aes_key_iv"), "kdf"),
    **dict.fromkeys(("CLIENT_TO_SERVER", "SERVER_TO_CLIENT", "AuthKey", "kdf1", "kdf2",
                     "msg_key", "msg_key_v1", "padding_length"), "mtproto2"),
    **dict.fromkeys(("factorize", "generate_pq"), "pq"),
    **dict.fromkeys(("PRODUCTION_KEYS", "REFERENCE_CLUSTER_KEYS", "TEST_KEYS", "KeyRegistry",
                     "LegacyPlaintext", "RSAPrivateKey", "RSAPublicKey", "check_legacy_hash",
                     "reference_cluster_key", "rsa_encrypt_legacy", "rsa_pad_encrypt"), "rsa"),
}
_SUBMODULES = frozenset({"aes", "arith", "der", "dh", "hashing", "inputs", "kdf", "mtproto2",
                         "pq", "primes", "rsa"})

__all__ = [
    "BACKEND",
    "CLIENT_TO_SERVER",
    "HAVE_GMPY2",
    "PRODUCTION_KEYS",
    "REFERENCE_CLUSTER_KEYS",
    "SERVER_TO_CLIENT",
    "TELEGRAM_DH_PRIME",
    "TEST_KEYS",
    "AesCtr",
    "AuthKey",
    "BytesLike",
    "IgeBackend",
    "KeyRegistry",
    "LegacyPlaintext",
    "RSAPrivateKey",
    "RSAPublicKey",
    "RandomSource",
    "auth_key_from_int",
    "available_backends",
    "check_dh_params",
    "check_g_a",
    "check_legacy_hash",
    "ct_equal",
    "factorize",
    "generate_pq",
    "ige256_decrypt",
    "ige256_encrypt",
    "initial_server_salt",
    "initial_server_salt_int",
    "kdf1",
    "kdf2",
    "msg_key",
    "msg_key_v1",
    "new_nonce_hash",
    "padding_length",
    "powmod",
    "reference_cluster_key",
    "rsa_encrypt_legacy",
    "rsa_pad_encrypt",
    "sha1",
    "sha256",
    "tmp_aes_key_iv",
]


__getattr__, __dir__ = lazy_names(__name__, _LAZY, _SUBMODULES)
