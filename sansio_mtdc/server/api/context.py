"""What a handler is given: the request's DC, auth key, session and time, and the cluster."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import RPCError
from ..datacenter import DataCenter
from ..keys import KeyRecord
from ..state import ClusterState
from ..users import UserRecord

__all__ = ["RequestContext"]


@dataclass(slots=True)
class RequestContext:
    """One request being executed on DC ``dc`` with auth key ``key``, in the MTProto session
    ``session_id``, as message ``msg_id``, at time ``now``."""

    state: ClusterState
    dc: DataCenter
    key: KeyRecord
    session_id: int
    msg_id: int
    now: float

    @property
    def user(self) -> UserRecord | None:
        """The user the auth key is authorized for, if any."""
        user_id = self.key.user
        return None if user_id is None else self.state.users.by_id(user_id)

    def require_user(self) -> UserRecord:
        """The authorized user; ``401 AUTH_KEY_UNREGISTERED`` when the key has none."""
        user = self.user
        if user is None:
            raise RPCError(401, "AUTH_KEY_UNREGISTERED")
        return user

    def require_home(self) -> UserRecord:
        """The authorized user, on its home DC; ``303 USER_MIGRATE_X`` elsewhere."""
        user = self.require_user()
        if user.home_dc != self.dc.id:
            raise RPCError(303, f"USER_MIGRATE_{user.home_dc}")
        return user

    @property
    def date(self) -> int:
        """``now`` as a TL date."""
        return int(self.now)
