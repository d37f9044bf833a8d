"""What the client holds for one DC: its auth key, where its authorization stands, its salt,
its connections, and the calls that wait for any of these.

Every link of a DC shares the one key; only one of them runs the handshake (:attr:`DcRecord.
handshake_link`) while the others wait.  The authorization lifecycle is the DC layer's
:class:`~sansio_mtdc.dc.authorization.DcAuthorization`; the record adds what the transfer needs
beside it: the export's answer and the import call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..dc.authorization import AUTHORIZED, KEY_READY, NO_KEY, DcAuthorization
from .line import Line

if TYPE_CHECKING:
    from ..crypto.mtproto2 import AuthKey
    from ..dc.endpoint import Purpose
    from .call import Call
    from .errors import ConnectionFailedError
    from .link import Link

__all__ = ["DcRecord"]


class DcRecord:
    """DC ``dc_id``: ``key`` and ``auth`` (its :class:`DcAuthorization`), ``salt``, ``main``
    link and ``media`` links, the calls waiting for them, the ``handshake_link``, the
    transfer's ``exported`` answer, ``import_call`` and ``exports_left`` (AUTH_BYTES_INVALID
    retries), and ``epoch``, counting the authorizations imported (so that a report about an
    older one is recognised as stale).  ``gave_up`` holds, while the DC's line is being
    dispatched, the purpose and error of a link that was just given up, so that the calls
    taken out of the line for that pass fail with it too.  Calls wait in one :class:`Line`
    per purpose (``main_line``, ``media_line``)."""

    __slots__ = ("auth", "dc_id", "epoch", "exported", "exports_left", "gave_up",
                 "handshake_link", "import_call", "key", "main", "main_line", "media",
                 "media_line", "salt")

    def __init__(self, dc_id: int, *, key: AuthKey | None = None, authorized: bool = False,
                 salt: int = 0) -> None:
        self.dc_id = dc_id
        self.key = key
        state = AUTHORIZED if authorized and key is not None else (
            KEY_READY if key is not None else NO_KEY)
        self.auth = DcAuthorization(dc_id, state)
        self.salt = salt
        self.main: Link | None = None
        self.media: list[Link] = []
        self.main_line = Line()
        self.media_line = Line()
        self.handshake_link: Link | None = None
        self.exported: object | None = None
        self.import_call: Call | None = None
        self.exports_left = 0
        self.epoch = 0
        self.gave_up: tuple[Purpose, ConnectionFailedError] | None = None

    def __repr__(self) -> str:
        return (f"<DcRecord {self.dc_id} {self.auth.state} links={len(self.links())} "
                f"waiting={self.waiting_count}>")

    def line(self, purpose: Purpose) -> Line:
        """The line of calls waiting for a link of ``purpose``."""
        return self.media_line if purpose == "media" else self.main_line

    def waiting(self) -> list[Call]:
        """Every waiting call (main line first), a snapshot."""
        return [*self.main_line, *self.media_line]

    @property
    def waiting_count(self) -> int:
        return len(self.main_line) + len(self.media_line)

    def links(self) -> list[Link]:
        """Every link of the DC, the main one first."""
        return ([self.main] if self.main is not None else []) + self.media

    def remove_link(self, link: Link) -> None:
        if self.main is link:
            self.main = None
        elif link in self.media:
            self.media.remove(link)
        if self.handshake_link is link:
            self.handshake_link = None

    @property
    def authorized(self) -> bool:
        return self.auth.is_authorized

    @property
    def worth_keeping(self) -> bool:
        """Whether the DC is worth a line in the saved state."""
        return self.key is not None
