"""Everything a cluster keeps, in one object that the API handlers and the connections share."""

from __future__ import annotations

from typing import Any

from ..crypto.inputs import RandomSource
from ..errors import UsageError
from .config import ClusterConfig
from .counters import Counters
from .datacenter import DataCenter
from .faults import Faults
from .files import StoredFile
from .transfers import TransferTable
from .users import UserDirectory

__all__ = ["ClusterState"]

_FILE_REFERENCE_SIZE = 20


class ClusterState:
    """The DCs, the user directory, the transfer table, the knobs and the counters.

    ``random`` is the cluster's only source of randomness; the user directory's secret is drawn
    from it once, so one seed gives one cluster.
    """

    def __init__(self, config: ClusterConfig, random: RandomSource) -> None:
        if not callable(random):
            raise UsageError("random is a callable returning n random bytes")
        self.config = config
        self.random = random
        self.secret = self.draw(32)
        self.dcs = {dc_id: DataCenter(dc_id, max_parts=config.upload_max_parts)
                    for dc_id in config.dc_ids}
        self.users = UserDirectory(config.dc_count, self.secret)
        self.transfers = TransferTable()
        self.faults = Faults()
        self.counters = Counters()

    def draw(self, size: int) -> bytes:
        """``random(size)``, checked."""
        value = self.random(size)
        if not isinstance(value, (bytes, bytearray)) or len(value) != size:
            raise UsageError(f"random({size}) must return {size} bytes")
        return bytes(value)

    def draw_long(self, *, positive: bool = False) -> int:
        """A random int64 (a positive one, never 0, with ``positive``)."""
        value = int.from_bytes(self.draw(8), "little", signed=True)
        if positive:
            value = (value & 0x7FFF_FFFF_FFFF_FFFF) or 1
        return value

    def dc(self, dc_id: int) -> DataCenter:
        found = self.dcs.get(dc_id)
        if found is None:
            raise UsageError(f"DC {dc_id!r} is not a DC of the cluster "
                             f"(1..{self.config.dc_count})")
        return found

    def store_file(self, dc_id: int, data: bytes, *, name: str, mime_type: str, now: float,
                   attributes: list[Any] | None = None) -> StoredFile:
        """Keep ``data`` as a new document of DC ``dc_id``, with a fresh id, access hash and
        file reference."""
        return self.dc(dc_id).files.put(
            data, name=name, mime_type=mime_type, now=now,
            document_id=self.draw_long(positive=True), access_hash=self.draw_long(),
            file_reference=self.draw(_FILE_REFERENCE_SIZE), attributes=attributes)

    def find_file(self, document_id: int) -> StoredFile | None:
        """The document ``document_id``, on whichever DC it lives."""
        for dc in self.dcs.values():
            found = dc.files.document(document_id)
            if found is not None:
                return found
        return None
