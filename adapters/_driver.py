"""What every adapter shares: the machine, the world's clock and randomness, the waiters of
requests, the store, the log.  No I/O and no runtime here: each adapter feeds a :class:`Driver`
its inputs and executes the actions :meth:`Driver.inputs_done` hands back.

An adapter is then three moves (see ``docs/adapters.md``):

* each :class:`~sansio_mtdc.client.Connect` is dialed with :func:`dial_order` and
  :data:`STAGGER`, and reported with :meth:`Driver.made` / :meth:`Driver.failed`;
* bytes in go to :meth:`Driver.received`, losses to :meth:`Driver.lost`; each
  :class:`~sansio_mtdc.client.Send` is written, each :class:`~sansio_mtdc.client.Close` closes;
* the one timer is armed at :meth:`Driver.timer` and fires :meth:`Driver.fire_timer`.

``now`` is :func:`time.time`, the wall clock, not a monotonic one: message ids, salts and the
config's expiry are wall-clock values that are saved and read back after a restart.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from sansio_mtdc.client import Action, Client, ClientConfig, ClientState, Close
from sansio_mtdc.client.events import (
    AuthKeyCreated,
    AuthorizationImported,
    ConnectionStateChanged,
    Event,
    ExportingAuthorization,
    Failed,
    HomeDcChanged,
    LoggedOut,
    Result,
    Retrying,
    StateChanged,
    Update,
)
from sansio_mtdc.dc.endpoint import Endpoint
from sansio_mtdc.errors import MTDCError, UsageError

from .storage import StateStore

__all__ = ["STAGGER", "Done", "Driver", "dial_order"]

log = logging.getLogger("sansio_mtdc.client")

#: Seconds between two connect attempts of one Connect when the first has not answered yet
#: (RFC 8305's "connection attempt delay"): a dead candidate costs this much, not a timeout.
STAGGER = 0.25

#: Called once per request: ``(value, None)`` on a result, ``(None, error)`` otherwise.
Done = Callable[[object, MTDCError | None], None]


def dial_order(candidates: Sequence[Endpoint]) -> list[Endpoint]:
    """The order to try ``candidates`` in: the machine's order, with the two address families
    interleaved when both are present (the first family first), so that a broken IPv6 path
    costs one stagger, not every IPv6 candidate's timeout."""
    first = [c for c in candidates if c.ipv6 == candidates[0].ipv6] if candidates else []
    other = [c for c in candidates if c.ipv6 != candidates[0].ipv6] if candidates else []
    order: list[Endpoint] = []
    for i in range(max(len(first), len(other))):
        order.extend(family[i] for family in (first, other) if i < len(family))
    return order


class Driver:
    """One :class:`Client` and what surrounds it in a process.

    ``store`` (a :class:`~sansio_mtdc.adapters.storage.StateStore`) gives the state to resume
    from and receives every ``StateChanged``; ``state`` overrides what the store holds.
    ``on_update(value, dc_id)`` receives updates; ``on_event(event)`` sees every event (for
    logs, a progress display, the demo's narration).  Every method is to be called from the
    adapter's one thread (or loop) only.
    """

    def __init__(self, config: ClientConfig, *, store: StateStore | None = None,
                 state: ClientState | None = None,
                 on_update: Callable[[object, int], None] | None = None,
                 on_event: Callable[[Event], None] | None = None,
                 random: Callable[[int], bytes] = os.urandom,
                 clock: Callable[[], float] = time.time) -> None:
        if state is None and store is not None:
            state = store.load()
        self.client = Client(config, state=state, random=random)
        self.store = store
        self.clock = clock
        self.connect_timeout = config.limits.connect_timeout
        self._on_update = on_update
        self._on_event = on_event
        self._waiters: dict[int, Done] = {}
        #: Round trips on the longest causal chain so far (see :meth:`inputs_done`).
        self.round_trips = 0
        self._asked: dict[int, int] = {}  # conn_id -> the round of its first unanswered flight
        #: The errors of the latest failed connect attempts (OSError, TimeoutError), newest last.
        self.dial_errors: deque[BaseException] = deque(maxlen=16)

    def __repr__(self) -> str:
        return f"<Driver {self.client!r}>"

    # --- inputs: each returns the actions to execute now ---------------------------------

    def invoke(self, request: object, done: Done, *, dc: int | None = None,
               timeout: float | None = None) -> tuple[int, list[Action]]:
        """Start ``request``; ``done`` is called exactly once, from a later input or at once
        (a request refused on the spot)."""
        rid = self.client.invoke(request, now=self.clock(), dc=dc, timeout=timeout)
        self._waiters[rid] = done
        return rid, self.inputs_done()

    def invoke_many(self, calls: Sequence[tuple[object, Done, int | None, float | None]]
                    ) -> tuple[list[int], list[Action]]:
        """Start ``(request, done, dc, timeout)`` calls together, so that they share packets.
        A request the machine refuses (UsageError) gets it through its ``done`` (rid 0);
        the others still start."""
        try:
            rids = self.client.invoke_many([(request, dc, timeout)
                                            for request, _, dc, timeout in calls],
                                           now=self.clock())
        except UsageError:
            rids = []
            for request, done, dc, timeout in calls:  # find the culprit: one at a time
                try:
                    rids.append(self.client.invoke(request, now=self.clock(), dc=dc,
                                                   timeout=timeout))
                except UsageError as exc:
                    done(None, exc)
                    rids.append(0)
        for rid, (_, done, _, _) in zip(rids, calls, strict=True):
            if rid:
                self._waiters[rid] = done
        return rids, self.inputs_done()

    def cancel(self, rid: int) -> list[Action]:
        self.client.cancel(rid, now=self.clock())
        return self.inputs_done()

    def made(self, conn_id: int, address: Endpoint) -> list[Action]:
        log.debug("connection %d: connected to %s", conn_id, _where(address))
        self._answered(conn_id)
        self.client.connection_made(conn_id, now=self.clock(), address=address)
        return self.inputs_done()

    def failed(self, conn_id: int, tried: Sequence[Endpoint],
               errors: Sequence[BaseException] = ()) -> list[Action]:
        """No candidate of ``conn_id`` connected; ``errors`` are the attempts' own errors
        (kept in :attr:`dial_errors` for whoever must say why, such as ``probe``)."""
        log.info("connection %d: no candidate answered (%s)", conn_id,
                 ", ".join(_where(e) for e in tried) or "none tried")
        self.dial_errors.extend(errors)
        self.client.connection_failed(conn_id, now=self.clock(), failed=tried)
        return self.inputs_done()

    def received(self, conn_id: int, data: bytes) -> list[Action]:
        self._answered(conn_id)
        self.client.receive_data(conn_id, data, now=self.clock())
        return self.inputs_done()

    def lost(self, conn_id: int, error: str | None) -> list[Action]:
        self._asked.pop(conn_id, None)
        self.client.connection_lost(conn_id, now=self.clock(), error=error)
        return self.inputs_done()

    def fire_timer(self) -> list[Action]:
        self.client.handle_timer(now=self.clock())
        return self.inputs_done()

    def close(self) -> list[Action]:
        """Cancel what is pending and close every connection (the actions say which)."""
        self.client.close(now=self.clock())
        return self.inputs_done()

    def timer(self) -> float | None:
        """When :meth:`fire_timer` is due, on :attr:`clock`'s scale, or None."""
        return self.client.get_timer()

    # --- outputs ---------------------------------------------------------------------------

    def inputs_done(self) -> list[Action]:
        """Hand every event to whom it concerns, then return the actions to execute."""
        client = self.client
        while (event := client.next_event()) is not None:
            self._handle(event)
        actions = []
        asked = self._asked
        while (action := client.next_action()) is not None:
            actions.append(action)
            if type(action) is Close:
                asked.pop(action.conn_id, None)
            elif action.conn_id not in asked:
                asked[action.conn_id] = self.round_trips + 1
        return actions

    def _answered(self, conn_id: int) -> None:
        """Count round trips as a causal depth: a flight (a connect, or bytes sent) belongs to
        round ``n + 1`` when ``n`` rounds were complete when it left; an answer completes its
        connection's oldest unanswered flight.  Parallel flights (an export while a handshake
        runs) share rounds, so this counts what latency costs, as the simulated network does."""
        flight = self._asked.pop(conn_id, 0)
        if flight > self.round_trips:
            self.round_trips = flight

    def _handle(self, event: Event) -> None:
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:  # the application's bug must not lose the events behind it
                log.exception("on_event raised on %r", event)
        if type(event) is Result:
            done = self._waiters.pop(event.rid, None)
            if done is not None:
                done(event.value, None)
        elif type(event) is Failed:
            done = self._waiters.pop(event.rid, None)
            if done is not None:
                done(None, event.error)
        elif type(event) is Update:
            if self._on_update is not None:
                try:
                    self._on_update(event.value, event.dc_id)
                except Exception:
                    log.exception("on_update raised")
        elif type(event) is StateChanged:
            if self.store is not None:
                try:
                    self.store.save(event.state)
                except Exception:  # a full disk must not stop the connections
                    log.exception("could not save the client state")
        else:
            _log_event(event)


def _where(endpoint: Endpoint) -> str:
    host = f"[{endpoint.host}]" if endpoint.ipv6 else endpoint.host
    return f"DC {endpoint.dc_id} at {host}:{endpoint.port}"


def _log_event(event: Any) -> None:
    if isinstance(event, ConnectionStateChanged):
        level = logging.INFO if event.state in ("ready", "closed") else logging.DEBUG
        log.log(level, "connection %d (DC %d, %s): %s%s", event.conn_id, event.dc_id,
                event.purpose, event.state, f" ({event.reason})" if event.reason else "")
    elif isinstance(event, HomeDcChanged):
        log.info("home DC %d -> %d (%s)", event.old, event.new, event.reason)
    elif isinstance(event, AuthKeyCreated):
        log.info("DC %d: new %s auth key %016x", event.dc_id,
                 "temporary" if event.temporary else "permanent", event.key_id & (2**64 - 1))
    elif isinstance(event, ExportingAuthorization):
        log.info("DC %d: exporting the authorization from DC %d", event.dc_id, event.home)
    elif isinstance(event, AuthorizationImported):
        log.info("DC %d: authorization imported", event.dc_id)
    elif isinstance(event, Retrying):
        log.info("request %d: retry %d in %.3g s (%s)", event.rid, event.attempt, event.delay,
                 event.reason)
    elif isinstance(event, LoggedOut):
        log.warning("logged out on DC %d (%s)", event.dc_id, event.error)


class DriverOwner:
    """What every adapter's client shows of its driver, read-only."""

    _driver: Driver

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._driver.client!r}>"

    @property
    def client(self) -> Client:
        """The machine (read its ``state``, ``home_dc``, ``table``; do not feed it)."""
        return self._driver.client

    @property
    def dial_errors(self) -> list[BaseException]:
        """The errors of the latest failed connect attempts, newest last."""
        return list(self._driver.dial_errors)

    @property
    def round_trips(self) -> int:
        """Round trips so far on the longest causal chain (a step's count is the difference)."""
        return self._driver.round_trips
