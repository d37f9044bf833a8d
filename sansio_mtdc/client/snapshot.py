"""From a saved :class:`ClientState` to the machine's records and DC table, and back.

Only what survives a restart is saved (``DcAuthorization.persistent_state``): a DC's key, and
whether the user is authorized there; handshakes, exports and imports in flight are redone.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..dc.authorization import AUTHORIZED
from ..dc.table import DcTable
from ..errors import UsageError
from .config import ClientConfig
from .datacenter import DcRecord
from .state import ClientState, DcState, StateError

__all__ = ["build_table", "records_from_state", "state_of"]


def build_table(config: ClientConfig, state: ClientState | None) -> DcTable:
    """The saved table when there is one, else ``config.endpoints`` with ``config.rsa_keys``,
    else Telegram's bootstrap addresses for ``config.test_mode``."""
    if state is not None and state.dc_table is not None:
        try:
            return DcTable.from_snapshot(state.dc_table)
        except UsageError as exc:
            raise StateError(f"the saved DC table cannot be used: {exc}") from None
    if config.endpoints is not None:
        if config.rsa_keys is not None:
            return DcTable(config.endpoints, keys=config.rsa_keys, test_mode=config.test_mode)
        return DcTable(config.endpoints, keys="test" if config.test_mode else "production",
                       test_mode=config.test_mode)
    return DcTable.bootstrap(test_mode=config.test_mode)


def records_from_state(state: ClientState) -> dict[int, DcRecord]:
    from ..crypto.mtproto2 import AuthKey

    records: dict[int, DcRecord] = {}
    for saved in state.dcs:
        key = AuthKey(saved.auth_key) if saved.auth_key is not None else None
        records[saved.dc_id] = DcRecord(saved.dc_id, key=key, authorized=saved.authorized,
                                        salt=saved.salt)
    return records


def state_of(*, home: int, test_mode: bool, user_id: int | None, time_offset: float,
             records: Iterable[DcRecord], table: DcTable) -> ClientState:
    dcs = tuple(
        DcState(record.dc_id, record.key.key, record.auth.persistent_state == AUTHORIZED,
                record.salt)
        for record in sorted(records, key=lambda r: r.dc_id) if record.key is not None)
    return ClientState(home_dc=home, test_mode=test_mode, user_id=user_id,
                       time_offset=time_offset, dcs=dcs, dc_table=table.snapshot())
