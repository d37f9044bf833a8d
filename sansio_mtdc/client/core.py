"""The state every part of the client machine shares, and the few moves they all make.

:class:`ClientCore` holds the DC records, the calls, the outgoing actions and events, and the
persistent facts (home DC, user, time offset).  The machine's parts are mixins over it, each in
its own module: :mod:`.connections` (links, handshakes, sessions), :mod:`.dispatch` (which call
goes on which link), :mod:`.outcomes` (what an answer or an error means), :mod:`.transfer`
(authorization export/import, sign-in and logout); :mod:`.machine` is the public face.  A part
calls another only through the hooks declared at the bottom of this class.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..errors import MTDCError, UsageError
from .actions import Action
from .call import USER, Call, CallKind
from .datacenter import DcRecord
from .events import Event, Failed, HomeDcChanged, Result, Retrying

if TYPE_CHECKING:
    from ..dc.endpoint import Purpose
    from ..dc.table import DcTable
    from ..session.config import InitConnectionParams, SessionLimits
    from .config import ClientConfig, Limits
    from .link import Link

__all__ = ["MAX_TIME", "ClientCore", "Queue"]

T = TypeVar("T")
#: the latest ``now`` a msg_id can carry (seconds since 1970, int32)
MAX_TIME = float(1 << 31)
#: heap entry kinds
DEADLINE = 0
RETRY = 1


class Queue(Generic[T]):
    """A FIFO on a list with a read position: a fraction of a deque's size when empty, which
    matters with ten thousand clients in one process."""

    __slots__ = ("_items", "_pos")

    def __init__(self) -> None:
        self._items: list[T] = []
        self._pos = 0

    def put(self, item: T) -> None:
        self._items.append(item)

    def get(self) -> T | None:
        items = self._items
        if self._pos >= len(items):
            return None
        item = items[self._pos]
        self._pos += 1
        if self._pos >= len(items):
            items.clear()
            self._pos = 0
        elif self._pos >= 64 and self._pos * 2 >= len(items):
            del items[:self._pos]
            self._pos = 0
        return item

    def __len__(self) -> int:
        return len(self._items) - self._pos


def check_now(now: object) -> float:
    """``now`` as seconds, or :class:`UsageError`: a finite time a msg_id can carry."""
    if isinstance(now, bool) or not isinstance(now, int | float) or not math.isfinite(now) \
            or not 0 <= now < MAX_TIME:
        raise UsageError(f"now is a Unix time in seconds (0 <= now < 2**31), not {now!r}")
    return float(now)


class ClientCore:
    """Shared state of the client machine (see the module docstring for the parts)."""

    __slots__ = ("_actions", "_calls", "_closed", "_config", "_config_call", "_conns",
                 "_dirty", "_dirty_records", "_events", "_former_home", "_home", "_init",
                 "_limits", "_next_conn", "_next_internal", "_next_rid", "_next_token", "_now",
                 "_random", "_records", "_seq", "_session_limits", "_settled", "_suggested",
                 "_table", "_time_offset", "_timers", "_user_id", "_user_pending",
                 "_want_nearest")

    _config: ClientConfig
    _limits: Limits
    _table: DcTable
    _random: Callable[[int], bytes]

    def _init_core(self) -> None:
        self._records: dict[int, DcRecord] = {}
        self._calls: dict[int, Call] = {}
        self._conns: dict[int, Link] = {}
        self._actions: Queue[Action] = Queue()
        self._events: Queue[Event] = Queue()
        self._timers: list[tuple[float, int, int, int]] = []
        self._dirty_records: list[DcRecord] = []
        self._home = 0
        self._former_home: int | None = None
        self._settled = False
        self._user_id: int | None = None
        self._time_offset = 0.0
        self._dirty = False
        self._closed = False
        self._config_call: Call | None = None
        self._want_nearest = False
        self._suggested: int | None = None
        self._next_rid = 1
        self._next_internal = -1
        self._next_token = 1
        self._next_conn = 1
        self._seq = 0
        self._now = 0.0
        self._user_pending = 0
        self._init: InitConnectionParams | None = None
        self._session_limits: SessionLimits | None = None

    # --- records and calls -------------------------------------------------------------------

    def _record(self, dc_id: int) -> DcRecord:
        record = self._records.get(dc_id)
        if record is None:
            record = self._records[dc_id] = DcRecord(dc_id)
        return record

    def _touch(self, record: DcRecord) -> None:
        """``record``'s waiting calls may be able to move: dispatch it before the input ends."""
        if record not in self._dirty_records:
            self._dirty_records.append(record)

    def _internal(self, kind: CallKind, request: object, name: str, *, dc: int,
                  purpose: Purpose = "main", needs_auth: bool = False,
                  for_dc: int = 0) -> Call:
        """A request of the client's own (never reported to the caller)."""
        rid = self._next_internal
        self._next_internal -= 1
        call = Call(rid, request, name, dc=dc, purpose=purpose, follow_home=False,
                    needs_auth=needs_auth, kind=kind, for_dc=for_dc)
        self._calls[rid] = call
        return call

    def _enqueue(self, call: Call) -> None:
        """Put ``call`` in line for its DC (the home DC, when it follows home).

        A call that follows home and finds it moved (by another call's redirect, a sign-in,
        the nearest DC) starts a new history: the DCs it visited were about the old home, and
        a redirect back there is no loop.  Its redirect budget still counts."""
        if call.follow_home and call.dc != self._home:
            call.dc = self._home
            call.visited.clear()
        if not self._table.knows(call.dc):
            from .errors import UnknownDcError

            self._final(call, UnknownDcError(call.dc))
            return
        record = self._record(call.dc)
        record.line(call.purpose).put(call)
        self._touch(record)

    def _unplace(self, call: Call, *, cancel: bool = True) -> None:
        """Take ``call`` out of wherever it is: a session (asked to drop the answer when
        ``cancel``), a DC's line, or a timer."""
        link = call.link
        if link is not None:
            link.calls.pop(call.token, None)
            if cancel and link.session is not None:
                link.session.cancel(call.token, now=self._now)
            if not link.calls:
                link.idle_since = self._now
            call.link = None
            call.token = 0
        elif call.line is not None:
            call.line.discard(call)
        call.retry_at = None

    def _end(self, call: Call, event: Result | Failed | None) -> None:
        """``call`` is over: forget it, and tell the caller (a request of the caller's)."""
        if self._calls.pop(call.rid, None) is None:
            return
        self._unplace(call)
        call.deadline = None
        if call.kind == USER:
            self._user_pending -= 1
            if event is not None:
                self._events.put(event)
        if self._config_call is call:
            self._config_call = None

    def _fail(self, call: Call, error: MTDCError) -> None:
        self._end(call, Failed(call.rid, error))

    def _retry_later(self, call: Call, delay: float, *, reason: str, attempt: int) -> None:
        """Send ``call`` again after ``delay`` seconds."""
        self._unplace(call, cancel=False)
        call.retry_at = self._now + delay
        self._schedule(call.retry_at, call.rid, RETRY)
        if call.kind == USER:
            self._events.put(Retrying(call.rid, reason, delay, attempt))

    def _schedule(self, at: float, rid: int, what: int) -> None:
        self._seq += 1
        heapq.heappush(self._timers, (at, self._seq, rid, what))

    # --- who the user is, and where ------------------------------------------------------------

    def _auth_source(self) -> int | None:
        """The DC that can export the user's authorization: the home DC when it is authorized,
        else the former home the user migrated from (until the new home imports it)."""
        home = self._records.get(self._home)
        if home is not None and home.authorized:
            return self._home
        former = self._former_home
        if former is not None:
            record = self._records.get(former)
            if record is not None and record.authorized:
                return former
        return None

    def _set_home(self, new: int, reason: str, *, settle: bool = True) -> None:
        """Make ``new`` the home DC; the calls that follow home and have not left yet go there."""
        old = self._home
        if settle:
            self._settled = True
        if new == old:
            return
        old_record = self._records.get(old)
        if (old_record is not None and old_record.authorized
                and not self._record(new).authorized):
            self._former_home = old
        self._home = new
        self._dirty = True
        self._events.put(HomeDcChanged(old, new, reason))
        if old_record is not None and old_record.waiting_count:
            for call in old_record.waiting():
                if call.follow_home and call.line is not None:
                    call.line.discard(call)
                    self._enqueue(call)

    # --- hooks the parts provide to each other -------------------------------------------------

    def _final(self, call: Call, error: MTDCError) -> None:
        """``call`` failed for good (outcomes)."""
        raise NotImplementedError

    def _answer(self, call: Call, value: Any, link: Link) -> None:
        """``call`` has its result (outcomes)."""
        raise NotImplementedError

    def _error(self, call: Call, error: MTDCError, link: Link) -> None:
        """``call`` failed on ``link``: retry, redirect, repair or give up (outcomes)."""
        raise NotImplementedError

    def _start_transfer(self, record: DcRecord, *, fresh: bool = True) -> None:
        """Begin moving the user's authorization to ``record``'s DC (transfer)."""
        raise NotImplementedError

    def _needs_transfer(self, record: DcRecord) -> bool:
        """Whether auth-needing calls for ``record`` must wait for a transfer (transfer)."""
        raise NotImplementedError

    def _key_ready(self, record: DcRecord) -> None:
        """``record``'s DC has a new auth key: send the import if one waits (transfer)."""
        raise NotImplementedError

    def _logged_out(self, dc_id: int, error: MTDCError | None) -> None:
        """The user's authorization is gone everywhere (transfer)."""
        raise NotImplementedError

    def _pick_link(self, record: DcRecord, purpose: Purpose) -> Link | None:
        """A ready link of ``record`` for ``purpose``, opening one if needed (connections)."""
        raise NotImplementedError

    def _send(self, link: Link, call: Call, *, after: Call | None = None) -> None:
        """Hand ``call`` to ``link``'s session (dispatch)."""
        raise NotImplementedError
