"""One request's life in the client: where it goes, where it has been, what it has used up.

A :class:`Call` outlives the session messages that carry it: a redirect, a FLOOD_WAIT or a lost
authorization sends the same call again, and its counters bound how often.  The client's own
requests (help.getConfig, the authorization transfer) are calls too, with a :attr:`kind` other
than ``USER`` and a negative ``rid`` nobody sees.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ..dc.endpoint import Purpose

if TYPE_CHECKING:
    from .line import Line
    from .link import Link

__all__ = ["CONFIG", "EXPORT", "IMPORT", "NEAREST", "USER", "Call", "CallKind"]

CallKind = int
#: a request of the caller
USER: Final = 0
#: help.getConfig sent by the client
CONFIG: Final = 1
#: help.getNearestDc sent by the client
NEAREST: Final = 2
#: auth.exportAuthorization for :attr:`Call.for_dc`
EXPORT: Final = 3
#: auth.importAuthorization on :attr:`Call.for_dc`
IMPORT: Final = 4


class Call:
    """A request and its routing state.

    * ``dc`` / ``purpose``: where it goes now; ``follow_home``: it goes to whatever DC is home
      (a request the caller did not pin to a DC, not redirected by FILE/STATS_MIGRATE).
    * ``visited``: the DCs it was sent to, in order; ``redirects``, ``flood_retries``,
      ``server_retries``, ``repairs`` (authorizations repaired for it), ``wait_failures``
      (MSG_WAIT_* answers): what it has used of its budgets.
    * ``link`` / ``token``: the connection and session token carrying it, while it is sent;
      ``line``: the line it waits in, while it waits.
    * ``deadline`` / ``timeout``: when it times out; ``retry_at``: when a wait ends.
    * ``signed_in``: whether the user was signed in when it was last sent (a 401 then means
      "logged out", not "not yet logged in"); ``epoch``: its DC's authorization epoch then (a
      401 about an authorization since repaired is stale).
    * ``for_dc``: for the transfer's own calls, the DC being authorized; ``after_import``: the
      call was sent behind that DC's import (invokeAfterMsg).
    """

    __slots__ = ("after_import", "dc", "deadline", "epoch", "flood_retries", "follow_home",
                 "for_dc", "kind", "line", "link", "name", "needs_auth", "purpose", "redirects",
                 "repairs", "request", "retry_at", "rid", "server_retries", "signed_in",
                 "timeout", "token", "visited", "wait_failures")

    def __init__(self, rid: int, request: object, name: str | None, *, dc: int,
                 purpose: Purpose, follow_home: bool, needs_auth: bool, kind: CallKind = USER,
                 for_dc: int = 0) -> None:
        self.rid = rid
        self.request = request
        self.name = name
        self.kind = kind
        self.dc = dc
        self.purpose: Purpose = purpose
        self.follow_home = follow_home
        self.needs_auth = needs_auth
        self.for_dc = for_dc
        self.visited: list[int] = [dc]
        self.redirects = 0
        self.flood_retries = 0
        self.server_retries = 0
        self.repairs = 0
        self.wait_failures = 0
        self.link: Link | None = None
        self.line: Line | None = None
        self.token = 0
        self.deadline: float | None = None
        self.timeout: float | None = None
        self.retry_at: float | None = None
        self.signed_in = False
        self.epoch = 0
        self.after_import = False

    @property
    def sent(self) -> bool:
        """Whether a session carries it now."""
        return self.link is not None

    def __repr__(self) -> str:
        where = f"on link {self.link.conn_id}" if self.link is not None else "waiting"
        return f"<Call {self.rid} {self.name} -> DC {self.dc} ({self.purpose}), {where}>"
