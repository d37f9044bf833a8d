"""Until ``sansio_mtdc.crypto.aes`` exists, obfuscated2 runs on a stand-in with the same name and
signature (``AesCtr(key, iv).update(data)``), built on ``cryptography``, for these tests only."""

from __future__ import annotations

import importlib.util
import sys
import types


def _install_aes_ctr_stand_in() -> None:
    if importlib.util.find_spec("sansio_mtdc.crypto.aes") is not None:
        return
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    class AesCtr:
        def __init__(self, key: bytes, iv: bytes) -> None:
            self._ctx = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()

        def update(self, data: bytes) -> bytes:
            return self._ctx.update(data)

    module = types.ModuleType("sansio_mtdc.crypto.aes")
    module.AesCtr = AesCtr  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module


_install_aes_ctr_stand_in()
