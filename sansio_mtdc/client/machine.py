"""The multi-DC client machine: requests in, actions and events out, like h11's Connection but
for every connection of one Telegram account.

::

    client = Client(config, state=saved_or_None, random=os.urandom)
    rid = client.invoke(request, now=now)                 # a TL function (or anything bytes())
    while (action := client.next_action()) is not None:  # Connect / Send / Close
        ...                                               # the adapter does the I/O, then reports:
    client.connection_made(conn_id, now=now, address=endpoint)
    client.receive_data(conn_id, data, now=now)
    client.handle_timer(now=now)                          # at client.get_timer()
    while (event := client.next_event()) is not None:     # Result / Failed / StateChanged ...
        ...

Nothing the network does raises out of an input method: bad bytes close the connection they
came on (``ConnectionStateChanged`` says why) and every request ends exactly once, with one
``Result`` or one ``Failed``.  Misuse (an unknown ``conn_id``, a connection reported made twice,
a bad argument, ``invoke`` after ``close``) raises :class:`~sansio_mtdc.errors.UsageError` and
changes nothing.  Reports about a connection the machine already closed are ignored.

The parts of the machine live in their own modules (see :mod:`.core`).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..dc.endpoint import Endpoint
from ..errors import UsageError
from .actions import Action, Close
from .call import USER, Call
from .config import ClientConfig
from .connections import Connections
from .core import DEADLINE, check_now
from .dispatch import Dispatch
from .errors import RequestCancelled, RequestTimeout, TooManyPendingRequests, UnknownDcError
from .events import ConnectionStateChanged, Event, Failed, StateChanged
from .link import CONNECTING, OPEN, Link
from .methods import FILE_METHODS, NO_AUTH_METHODS, method_name
from .outcomes import Outcomes
from .snapshot import build_table, records_from_state, state_of
from .state import ClientState, StateError
from .transfer import Transfers

if TYPE_CHECKING:
    from ..dc.endpoint import Purpose
    from ..dc.table import DcTable

__all__ = ["Client"]


class Client(Connections, Transfers, Outcomes, Dispatch):
    """One Telegram account over any number of DCs and connections (sans-I/O).

    ``config`` says who the application is and where to start; ``state`` (a
    :class:`ClientState` from a ``StateChanged`` event) resumes an earlier run without a
    handshake or an export; ``random(n)`` gives n random bytes (``os.urandom`` in production,
    a seeded source in tests).  ``table``, a :class:`~sansio_mtdc.dc.DcTable` shared by the
    clients of one process (many accounts on the same DCs), replaces the table each client
    would build from ``config`` or ``state``: the addresses, the failures seen and the config
    refresh are then shared, and each client saves ~4 KiB.
    """

    __slots__ = ()

    def __init__(self, config: ClientConfig, *, state: ClientState | None = None,
                 random: Callable[[int], bytes], table: DcTable | None = None) -> None:
        if not isinstance(config, ClientConfig):
            raise UsageError(f"config is a ClientConfig, not {type(config).__name__}")
        if not callable(random):
            raise UsageError("random is a callable returning n random bytes")
        if state is not None:
            if not isinstance(state, ClientState):
                raise UsageError(f"state is a ClientState, not {type(state).__name__}")
            if state.test_mode != config.test_mode:
                raise StateError("the saved state is for the "
                                 f"{'test' if state.test_mode else 'production'} DCs, the "
                                 f"config for the {'test' if config.test_mode else 'production'}"
                                 " ones")
        if table is None:
            table = build_table(config, state)
        else:
            from ..dc.table import DcTable

            if not isinstance(table, DcTable):
                raise UsageError(f"table is a DcTable, not {type(table).__name__}")
            if table.test_mode != config.test_mode:
                raise UsageError("the shared DC table and the config disagree on test_mode")
        home = state.home_dc if state is not None else config.dc
        if not table.knows(home):
            raise UsageError(f"DC {home} is not in the DC table")
        records = records_from_state(state) if state is not None else {}
        self._init_core()
        self._config = config
        self._limits = config.limits
        self._random = random
        self._table = table
        self._records = records
        self._home = home
        if state is not None:
            self._settled = True
            self._user_id = state.user_id
            self._time_offset = state.time_offset
            if state.user_id is not None and self._auth_source() is None:
                # saved between a USER_MIGRATE and the import: export from where it lives
                self._former_home = next((r.dc_id for r in records.values() if r.authorized),
                                         None)
        else:
            self._want_nearest = config.follow_nearest_dc

    def __repr__(self) -> str:
        return (f"<Client home DC {self._home}, {self._user_pending} pending, "
                f"{len(self._conns)} connections{', closed' if self._closed else ''}>")

    # --- what the caller asks ----------------------------------------------------------------

    def invoke(self, request: object, *, now: float, dc: int | None = None,
               timeout: float | None = None) -> int:
        """Queue ``request`` (a TL function, or any object whose ``bytes()`` is a serialized
        request) and return its request id; its ``Result`` or ``Failed`` comes as an event.

        ``dc`` sends it to that DC (a file's ``dc_id``: no FILE_MIGRATE round trip); otherwise
        it goes to the home DC.  ``timeout`` (seconds; default ``limits.request_timeout``) ends
        it with :class:`RequestTimeout`.  File transfers (``upload.*``) go on media connections.
        """
        now = check_now(now)
        if self._closed:
            raise UsageError("invoke after close")
        name = self._check_request(request, dc, timeout)
        self._now = now
        rid = self._admit(request, name, dc, timeout)
        self._finish()
        return rid

    def invoke_many(self, requests: Sequence[tuple[object, int | None, float | None]], *,
                    now: float) -> list[int]:
        """:meth:`invoke` for each ``(request, dc, timeout)``, all queued before anything is
        written, so that requests made together leave together (one container per
        connection, not one packet each).  A misuse in any of them raises before any is
        queued."""
        now = check_now(now)
        if self._closed:
            raise UsageError("invoke after close")
        names = [self._check_request(request, dc, timeout) for request, dc, timeout in requests]
        self._now = now
        rids = [self._admit(request, name, dc, timeout)
                for (request, dc, timeout), name in zip(requests, names, strict=True)]
        self._finish()
        return rids

    @staticmethod
    def _check_request(request: object, dc: int | None, timeout: float | None) -> str | None:
        """The method name of a valid request; UsageError for a bad argument."""
        if dc is not None and (type(dc) is not int or dc <= 0):
            raise UsageError(f"dc is a positive int or None, not {dc!r}")
        if timeout is not None and (isinstance(timeout, bool)
                                    or not isinstance(timeout, int | float)
                                    or not math.isfinite(timeout) or timeout <= 0):
            raise UsageError(f"timeout is a positive number of seconds or None, not {timeout!r}")
        if not hasattr(request, "__bytes__"):
            raise UsageError(f"a request is a TL function or has __bytes__, not "
                             f"{type(request).__name__}")
        try:
            payload = bytes(request)
            name = method_name(request, payload)
        except UsageError:
            raise
        except Exception as exc:
            raise UsageError(f"the request cannot be serialized: {exc}") from None
        if len(payload) < 4:
            raise UsageError("a serialized request is at least a constructor number")
        return name

    def _admit(self, request: object, name: str | None, dc: int | None,
               timeout: float | None) -> int:
        """Give a checked request its id and put it on its way (or fail it at once)."""
        now = self._now
        rid = self._next_rid
        self._next_rid += 1
        if self._user_pending >= self._limits.max_pending:
            self._events.put(Failed(rid, TooManyPendingRequests(self._limits.max_pending)))
            return rid
        purpose: Purpose = "media" if name in FILE_METHODS else "main"
        target = self._home if dc is None else dc
        call = Call(rid, request, name, dc=target, purpose=purpose, follow_home=dc is None,
                    needs_auth=name not in NO_AUTH_METHODS)
        call.visited.clear()
        self._calls[rid] = call
        self._user_pending += 1
        if timeout is None:
            timeout = self._limits.request_timeout
        if timeout is not None:
            call.timeout = timeout
            call.deadline = now + timeout
            self._schedule(call.deadline, rid, DEADLINE)
        if not self._table.knows(target):
            self._fail(call, UnknownDcError(target))
        else:
            self._enqueue(call)
        return rid

    def cancel(self, rid: int, *, now: float) -> bool:
        """End request ``rid`` with :class:`RequestCancelled`; if it was sent, the session asks
        the server to drop its answer.  False when ``rid`` is not pending."""
        now = check_now(now)
        call = self._calls.get(rid) if type(rid) is int and rid > 0 else None
        if call is None or self._closed:
            return False
        self._now = now
        self._fail(call, RequestCancelled("cancelled by the caller"))
        self._finish()
        return True

    def close(self, *, now: float) -> None:
        """Cancel every request and close every connection; the client takes no more input."""
        now = check_now(now)
        if self._closed:
            return
        self._now = now
        for call in list(self._calls.values()):
            self._calls.pop(call.rid, None)
            if call.kind == USER:
                self._user_pending -= 1
                self._events.put(Failed(call.rid, RequestCancelled("the client was closed")))
        for link in self._all_links():
            if link.phase in (OPEN, CONNECTING):
                self._actions.put(Close(link.conn_id, "client closed"))
                link.lost(now=now)
                self._events.put(ConnectionStateChanged(link.conn_id, link.dc_id, link.purpose,
                                                        "closed", "client closed"))
        for record in self._records.values():
            record.main_line.clear()
            record.media_line.clear()
        self._conns.clear()
        self._timers.clear()
        self._closed = True
        if self._dirty:
            self._dirty = False
            self._events.put(StateChanged(self.state))

    # --- what the adapter reports ------------------------------------------------------------

    def connection_made(self, conn_id: int, *, now: float,
                        address: Endpoint | None = None) -> None:
        """The TCP connection for ``conn_id`` is up (to ``address``, one of the candidates)."""
        now = check_now(now)
        if address is not None and not isinstance(address, Endpoint):
            raise UsageError("address is the Endpoint that answered, or None")
        link = self._link_of(conn_id)
        if link is None:
            return
        if link.phase != CONNECTING:
            raise UsageError(f"connection {conn_id} was already reported made")
        self._now = now
        self._on_open(link, address)
        self._finish()

    def connection_failed(self, conn_id: int, *, now: float,
                          failed: Sequence[Endpoint] = ()) -> None:
        """No candidate of ``conn_id`` answered; ``failed`` lists those that were tried."""
        now = check_now(now)
        failed = tuple(failed)
        if not all(isinstance(endpoint, Endpoint) for endpoint in failed):
            raise UsageError("failed lists Endpoint values")
        link = self._link_of(conn_id)
        if link is None:
            return
        if link.phase != CONNECTING:
            raise UsageError(f"connection {conn_id} is up: report connection_lost instead")
        self._now = now
        for endpoint in failed:
            self._table.report_failure(endpoint, now=now)
        self._link_down(link, "connection failed", failure=True)
        self._finish()

    def receive_data(self, conn_id: int, data: bytes, *, now: float) -> None:
        """Bytes arrived on connection ``conn_id``."""
        now = check_now(now)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise UsageError(f"data is bytes, not {type(data).__name__}")
        link = self._link_of(conn_id)
        if link is None:
            return
        if link.phase != OPEN:
            raise UsageError(f"data on connection {conn_id} before connection_made")
        self._now = now
        if data:
            self._on_data(link, bytes(data))
        self._finish()

    def connection_lost(self, conn_id: int, *, now: float, error: str | None = None) -> None:
        """Connection ``conn_id`` closed (or failed) under the machine."""
        now = check_now(now)
        link = self._link_of(conn_id)
        if link is None:
            return
        self._now = now
        reason = f"connection lost: {error}" if error else "connection lost"
        self._link_down(link, reason, failure=link.phase == CONNECTING)
        self._finish()

    def _link_of(self, conn_id: int) -> Link | None:
        """The link of a live ``conn_id``; None for one the machine closed; UsageError for one
        it never gave out."""
        if type(conn_id) is not int:
            raise UsageError(f"conn_id is an int, not {type(conn_id).__name__}")
        link = self._conns.get(conn_id)
        if link is not None:
            return link
        if 0 < conn_id < self._next_conn:
            return None
        raise UsageError(f"connection {conn_id} was never asked for")

    # --- time --------------------------------------------------------------------------------

    def get_timer(self) -> float | None:
        """When :meth:`handle_timer` must be called next, or None."""
        if self._closed:
            return None
        timers = self._timers
        while timers and not self._timer_live(timers[0]):
            heapq.heappop(timers)
        best = timers[0][0] if timers else math.inf
        for record in self._records.values():
            for link in record.links():
                for at in (link.retry_at, self._idle_deadline(record, link), link.handshake_due,
                           link.session.get_timer() if link.ready and link.session else None):
                    if at is not None and at < best:
                        best = at
        refresh = self._refresh_due()
        if refresh is not None and refresh < best:
            best = refresh
        return None if best == math.inf else best

    def _timer_live(self, entry: tuple[float, int, int, int]) -> bool:
        at, _, rid, what = entry
        call = self._calls.get(rid)
        if call is None:
            return False
        return (call.deadline == at) if what == DEADLINE else (call.retry_at == at)

    def _refresh_due(self) -> float | None:
        record = self._records.get(self._home)
        link = record.main if record is not None else None
        if link is None or not link.ready or self._config_call is not None:
            return None
        due = self._table.refresh_due_at
        return max(due, self._now) if due > -math.inf else self._now

    def handle_timer(self, *, now: float) -> None:
        """Time passed: timeouts, retries, reconnects, keep-alives and idle closes that are
        due happen now."""
        now = check_now(now)
        if self._closed:
            return
        self._now = now
        timers = self._timers
        while timers and timers[0][0] <= now:
            entry = heapq.heappop(timers)
            if not self._timer_live(entry):
                continue
            call = self._calls[entry[2]]
            if entry[3] == DEADLINE:
                assert call.timeout is not None
                self._fail(call, RequestTimeout(call.timeout))
            else:
                call.retry_at = None
                self._enqueue(call)
        for record in list(self._records.values()):
            for link in record.links():
                if link.retry_at is not None and link.retry_at <= now:
                    link.retry_at = None
                    if self._has_work(record, link):
                        self._open(link)
                    elif not link.calls:
                        record.remove_link(link)
                session = link.session
                if link.ready and session is not None:
                    at = session.get_timer()
                    if at is not None and at <= now:
                        session.handle_timer(now=now)
                        self._drain(link)
        self._close_stalled_handshakes()
        self._close_idle()
        refresh = self._refresh_due()
        if refresh is not None and refresh <= now:
            self._refresh_config()
        self._finish()

    # --- output ------------------------------------------------------------------------------

    def next_action(self) -> Action | None:
        """The next thing for the adapter to do (Connect, Send, Close), or None."""
        return self._actions.get()

    def next_event(self) -> Event | None:
        """The next thing that happened (Result, Failed, StateChanged...), or None."""
        return self._events.get()

    @property
    def state(self) -> ClientState:
        """What to persist now (the same value the last ``StateChanged`` carried, or newer)."""
        return state_of(home=self._home, test_mode=self._config.test_mode,
                        user_id=self._user_id, time_offset=self._time_offset,
                        records=self._records.values(), table=self._table)

    @property
    def home_dc(self) -> int:
        return self._home

    @property
    def table(self) -> DcTable:
        """The DC table (read it; the machine keeps it up to date)."""
        return self._table

    @property
    def pending(self) -> int:
        """Requests invoked and not yet ended."""
        return self._user_pending

    @property
    def closed(self) -> bool:
        return self._closed

    def _finish(self) -> None:
        """End of an input: let everything settle, write what is due, report the state."""
        self._settle()
        if self._suggested is not None:
            self._follow_nearest()
            self._settle()
        self._flush()
        if self._dirty:
            self._dirty = False
            self._events.put(StateChanged(self.state))



