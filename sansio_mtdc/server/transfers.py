"""The cluster-wide authorization-transfer table (``auth.exportAuthorization`` /
``auth.importAuthorization``, ``api_datacenter.txt``, "Authorization Transfer").

An export names a user and a target DC and gets random bytes; the bytes are good once, on that
DC, for that user.  The table is bounded: past :data:`MAX_PENDING` unused exports the oldest is
forgotten (a client that exported and never imported loses nothing it needed).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from ..errors import RPCError

__all__ = ["MAX_PENDING", "TOKEN_SIZE", "Export", "TransferTable"]

#: unused exports kept
MAX_PENDING = 4096
#: bytes of an exported authorization
TOKEN_SIZE = 128


@dataclass(frozen=True, slots=True)
class Export:
    user_id: int
    source_dc: int
    target_dc: int
    token: bytes
    created_at: float


class TransferTable:
    def __init__(self) -> None:
        self._pending: OrderedDict[bytes, Export] = OrderedDict()

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, export: Export) -> None:
        self._pending[export.token] = export
        while len(self._pending) > MAX_PENDING:
            self._pending.popitem(last=False)

    def redeem(self, user_id: int, token: bytes, target_dc: int) -> Export:
        """Use up the export ``token`` for ``user_id`` on ``target_dc``.

        ``400 AUTH_BYTES_INVALID`` when there is no such unused export, or it was made for
        another user or another DC (a wrong try does not use it up)."""
        export = self._pending.get(bytes(token))
        if export is None or export.user_id != user_id or export.target_dc != target_dc:
            raise RPCError(400, "AUTH_BYTES_INVALID")
        del self._pending[export.token]
        return export
