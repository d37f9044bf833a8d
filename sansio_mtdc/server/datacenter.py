"""One DC of the cluster: its auth keys, its MTProto sessions, its login codes and its files.

Nothing here is shared between DCs: keys are not copied (``api_datacenter.txt``: "encryption keys
are not copied between DCs"), and a file lives where it was uploaded.  What *is* shared (users,
the authorization-transfer table) lives in :class:`~sansio_mtdc.server.state.ClusterState`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .files import FileStore
from .keys import KeyRecord

if TYPE_CHECKING:
    from .sessions import SessionSlot

__all__ = ["MAX_PENDING_CODES", "DataCenter"]

#: login codes waiting for auth.signIn, per DC (the oldest is forgotten beyond this)
MAX_PENDING_CODES = 4096


class DataCenter:
    """The state of DC ``id``."""

    def __init__(self, dc_id: int, *, max_parts: int) -> None:
        self.id = dc_id
        self.keys: dict[int, KeyRecord] = {}
        #: (auth_key_id, session_id) -> the MTProto session and what the cluster keeps beside it
        self.sessions: dict[tuple[int, int], SessionSlot] = {}
        self.files = FileStore(dc_id, max_parts=max_parts)
        #: normalized phone -> phone_code_hash of the last auth.sendCode
        self.login_codes: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"<DataCenter {self.id} keys={len(self.keys)} sessions={len(self.sessions)}>"

    def add_key(self, record: KeyRecord) -> None:
        self.keys[record.id] = record

    def forget_key(self, key_id: int) -> KeyRecord | None:
        """Remove a key and its sessions; temp keys bound to it lose their binding."""
        record = self.keys.pop(key_id, None)
        if record is None:
            return None
        for slot_key in [k for k in self.sessions if k[0] == key_id]:
            del self.sessions[slot_key]
        for other in self.keys.values():
            if other.perm is record:
                other.perm = None
        return record

    def bind(self, record: KeyRecord, user_id: int) -> None:
        """Authorize ``record`` (its permanent key, for a bound temp key) for ``user_id``."""
        record.owner.user_id = user_id

    def unbind(self, record: KeyRecord) -> None:
        record.owner.user_id = None

    def remember_code(self, phone: str, phone_code_hash: str) -> None:
        self.login_codes.pop(phone, None)
        self.login_codes[phone] = phone_code_hash
        while len(self.login_codes) > MAX_PENDING_CODES:
            del self.login_codes[next(iter(self.login_codes))]
