"""The client on gevent, without monkey-patching: :mod:`gevent.socket` is used explicitly, so
the process's own :mod:`socket` and :mod:`threading` stay as they are (a reference cluster or
any other code may keep running on real threads beside the hub).

::

    with GeventClient(config, store=SQLiteStore("me.session")) as client:
        config = client.invoke(tl.api.functions.help.GetConfig())  # blocks this greenlet only
        calls = [client.spawn_invoke(request) for request in requests]
        gevent.joinall(calls)

Greenlets: one reader and one writer per connection, one per connect race (and one per
attempt in it), one for the machine's timer.  Every machine call runs in one of them or in a
caller's greenlet, and never yields halfway: the actions of one input are executed in order
before anything else runs.  Killing a greenlet waiting in :meth:`GeventClient.invoke` cancels
its request.  A client belongs to the hub (thread) that made it.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from typing import Any

import gevent
import gevent.event
import gevent.queue
from gevent import Greenlet
from gevent import socket as gsocket

from sansio_mtdc.client import Action, ClientConfig, ClientState, Close, Connect, Send
from sansio_mtdc.client.events import Event
from sansio_mtdc.dc.endpoint import Endpoint
from sansio_mtdc.errors import MTDCError, UsageError

from ._driver import STAGGER, Driver, DriverOwner, dial_order
from .storage import StateStore

__all__ = ["GeventClient"]

log = logging.getLogger("sansio_mtdc.client")

_READ_SIZE = 1 << 18


class _Link:
    """One connected socket: its pending output and its two greenlets."""

    def __init__(self, conn_id: int, sock: gsocket.socket) -> None:
        self.conn_id = conn_id
        self.sock = sock
        self.out = bytearray()
        self.has_output = gevent.event.Event()
        self.closing = False  # closed by us or lost: nothing more to report
        self.greenlets: list[Greenlet] = []


class _Race:
    """What the attempts of one connect race report to it; ``over`` once a winner is taken
    (an attempt that connects later closes its own socket)."""

    def __init__(self) -> None:
        self.over = False
        self.outcomes: gevent.queue.Queue[tuple[Endpoint, gsocket.socket | None]] = \
            gevent.queue.Queue()


class GeventClient(DriverOwner):
    """A Telegram client for gevent (see :class:`~sansio_mtdc.adapters._driver.Driver` for
    ``store``, ``state``, ``on_update``, ``on_event`` and ``random``).

    Use it as ``with``; :meth:`close` ends every pending request with
    :class:`~sansio_mtdc.client.errors.RequestCancelled`, kills every greenlet it started and
    closes every socket.
    """

    def __init__(self, config: ClientConfig, *, store: StateStore | None = None,
                 state: ClientState | None = None,
                 on_update: Callable[[object, int], None] | None = None,
                 on_event: Callable[[Event], None] | None = None,
                 random: Callable[[int], bytes] = os.urandom) -> None:
        self._driver = Driver(config, store=store, state=state, on_update=on_update,
                              on_event=on_event, random=random)
        self._hub = gevent.get_hub()
        self._links: dict[int, _Link] = {}
        self._dials: dict[int, Greenlet] = {}
        self._workers: set[Greenlet] = set()  # the I/O greenlets: killed at close
        self._callers: set[Greenlet] = set()  # spawn_invoke's: they end with their request
        self._timer: Greenlet | None = None
        self._timer_at: float | None = None
        self._rearm = gevent.event.Event()
        self._closed = False

    def __enter__(self) -> GeventClient:
        self._check()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the caller's side -----------------------------------------------------------------

    def invoke(self, request: object, *, dc: int | None = None,
               timeout: float | None = None) -> Any:
        """Send ``request`` (to the home DC, or to ``dc``) and block this greenlet until its
        result; raise the :class:`~sansio_mtdc.errors.RPCError` or
        :class:`~sansio_mtdc.errors.RequestError` it ended with."""
        self._check()
        waiter: gevent.event.AsyncResult = gevent.event.AsyncResult()

        def done(value: object, error: MTDCError | None) -> None:
            if error is None:
                waiter.set(value)
            else:
                waiter.set_exception(error)

        rid, actions = self._driver.invoke(request, done, dc=dc, timeout=timeout)
        self._run(actions)
        try:
            return waiter.get()
        except BaseException:
            if not waiter.ready() and not self._closed:  # killed, or interrupted
                self._run(self._driver.cancel(rid))
            raise

    def spawn_invoke(self, request: object, *, dc: int | None = None,
                     timeout: float | None = None) -> Greenlet:
        """:meth:`invoke` in a greenlet of its own: ``.get()`` it, join it, or ``.kill()`` it
        to cancel the request.  (As with any greenlet, the hub also prints an error it ends
        with: ``.get()`` is where the program handles it.)"""
        self._check()
        greenlet = Greenlet.spawn(self.invoke, request, dc=dc, timeout=timeout)
        self._callers.add(greenlet)
        greenlet.rawlink(self._callers.discard)
        return greenlet

    def close(self) -> None:
        """End pending requests (their :meth:`spawn_invoke` greenlets end with
        RequestCancelled), kill the I/O greenlets, close every socket; idempotent."""
        if self._closed:
            return
        self._closed = True
        self._run(self._driver.close())
        me = gevent.getcurrent()
        gevent.joinall([g for g in self._callers if g is not me])  # RequestCancelled each
        gevent.killall([g for g in self._workers if g is not me])
        for link in list(self._links.values()):
            self._forget(link)
        if self._driver.store is not None:
            self._driver.store.close()

    def _check(self) -> None:
        if gevent.get_hub() is not self._hub:
            raise UsageError("a GeventClient belongs to the hub (thread) that made it")
        if self._closed:
            raise UsageError("invoke after close")
        if self._timer is None:
            self._timer = self._spawn(self._tick)

    def _spawn(self, function: Callable[..., None], *args: Any) -> Greenlet:
        greenlet = Greenlet.spawn(function, *args)
        self._workers.add(greenlet)
        greenlet.rawlink(self._workers.discard)
        return greenlet

    # --- executing the machine's actions (never yields) ------------------------------------

    def _run(self, actions: list[Action]) -> None:
        for action in actions:
            if type(action) is Send:
                link = self._links.get(action.conn_id)
                if link is not None:
                    link.out += action.data
                    link.has_output.set()
            elif type(action) is Connect:
                self._dials[action.conn_id] = self._spawn(self._dial, action)
            elif type(action) is Close:
                log.debug("connection %d: closing (%s)", action.conn_id, action.reason)
                dial = self._dials.pop(action.conn_id, None)
                if dial is not None:
                    dial.kill(block=False)
                if action.conn_id in self._links:
                    self._forget(self._links[action.conn_id])
        if self._driver.timer() != self._timer_at:
            self._rearm.set()

    def _forget(self, link: _Link) -> None:
        link.closing = True
        self._links.pop(link.conn_id, None)
        me = gevent.getcurrent()
        for greenlet in link.greenlets:
            if greenlet is not me:
                greenlet.kill(block=False)
        link.sock.close()

    def _tick(self) -> None:
        """The one timer: sleeps until the machine's deadline or until :meth:`_run` saw it
        move, then fires it."""
        while True:
            self._rearm.clear()
            at = self._timer_at = self._driver.timer()
            delay = None if at is None else at - self._driver.clock()
            if delay is None or delay > 0:
                self._rearm.wait(delay)
            else:
                self._run(self._driver.fire_timer())

    # --- a connection's greenlets ----------------------------------------------------------

    def _read(self, link: _Link) -> None:
        try:
            while data := link.sock.recv(_READ_SIZE):
                if link.closing:
                    return
                self._run(self._driver.received(link.conn_id, data))
        except OSError as exc:
            self._lose(link, str(exc))
        else:
            self._lose(link, None)

    def _write(self, link: _Link) -> None:
        """Send what :meth:`_run` buffered; ``sendall`` waits here, never in ``_run``."""
        try:
            while True:
                link.has_output.wait()
                link.has_output.clear()
                while link.out:
                    data = bytes(link.out)
                    link.out.clear()
                    link.sock.sendall(data)
        except OSError as exc:
            self._lose(link, str(exc))

    def _lose(self, link: _Link, error: str | None) -> None:
        if link.closing:
            return
        self._forget(link)
        self._run(self._driver.lost(link.conn_id, error))

    # --- the candidates' race --------------------------------------------------------------

    def _dial(self, action: Connect) -> None:
        """Try the candidates in :func:`dial_order`, starting the next one after
        :data:`STAGGER` or at once when one fails; the first to connect wins."""
        order = dial_order(action.candidates)
        tried: list[Endpoint] = []
        race = _Race()
        attempts: list[Greenlet] = []
        running = 0
        winner: tuple[Endpoint, gsocket.socket] | None = None
        try:
            while winner is None and (order or running):
                if order:
                    tried.append(order.pop(0))
                    attempts.append(self._spawn(self._attempt, race, tried[-1]))
                    running += 1
                try:
                    endpoint, sock = race.outcomes.get(timeout=STAGGER if order else None)
                except gevent.queue.Empty:
                    continue
                running -= 1
                if sock is not None:
                    winner = (endpoint, sock)
        finally:  # nothing here yields: a kill cannot cut it short
            race.over = True
            gevent.killall(attempts, block=False)
            while not race.outcomes.empty():
                _, sock = race.outcomes.get_nowait()
                if sock is not None:
                    sock.close()
        if self._dials.pop(action.conn_id, None) is not gevent.getcurrent():
            if winner is not None:  # closed meanwhile
                winner[1].close()
            return
        if winner is None:
            self._run(self._driver.failed(action.conn_id, tried))
            return
        endpoint, sock = winner
        link = self._links[action.conn_id] = _Link(action.conn_id, sock)
        link.greenlets = [self._spawn(self._read, link), self._spawn(self._write, link)]
        self._run(self._driver.made(action.conn_id, endpoint))

    def _attempt(self, race: _Race, endpoint: Endpoint) -> None:
        family = socket.AF_INET6 if endpoint.ipv6 or ":" in endpoint.host else socket.AF_INET
        sock = gsocket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(self._driver.connect_timeout)
            sock.connect(endpoint.address)
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:
            log.debug("%s:%d failed: %r", endpoint.host, endpoint.port, exc)
            sock.close()
            race.outcomes.put((endpoint, None))
            return
        except BaseException:  # killed: the race is over
            sock.close()
            raise
        if race.over:
            sock.close()
        else:
            race.outcomes.put((endpoint, sock))
