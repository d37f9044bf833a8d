"""The client on threads: one I/O thread runs a :mod:`selectors` loop and owns the machine.

::

    with ThreadedClient(config, store=SQLiteStore("me.session")) as client:
        config = client.invoke(tl.api.functions.help.GetConfig())   # from any thread
        future = client.submit(request)                               # concurrent.futures

Callers never touch the machine: :meth:`ThreadedClient.submit` puts a closure on a queue and
writes a byte to a wake-up socket, and the I/O thread runs it between two ``select`` calls.
``on_update`` and ``on_event`` run on the I/O thread, as do the futures' done callbacks: they
must not block (:meth:`ThreadedClient.invoke` there raises :class:`UsageError`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import errno
import logging
import os
import queue
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from sansio_mtdc.client import Action, ClientConfig, ClientState, Close, Connect, Send
from sansio_mtdc.client.events import Event
from sansio_mtdc.dc.endpoint import Endpoint
from sansio_mtdc.errors import MTDCError, RequestError, UsageError

from ._driver import STAGGER, Driver, DriverOwner, dial_order
from .storage import StateStore

__all__ = ["ThreadedClient"]

log = logging.getLogger("sansio_mtdc.client")

_READ_SIZE = 1 << 18
_IN_PROGRESS = (0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EALREADY)


class _Link:
    """One connected socket and what is still to be written to it."""

    def __init__(self, conn_id: int, sock: socket.socket) -> None:
        self.conn_id = conn_id
        self.sock = sock
        self.out = bytearray()


class _Dial:
    """The staggered race of one Connect's candidates (RFC 8305 style)."""

    def __init__(self, action: Connect) -> None:
        self.action = action
        self.order = dial_order(action.candidates)
        self.tried: list[Endpoint] = []
        self.attempts: dict[socket.socket, tuple[Endpoint, float]] = {}  # -> (where, deadline)
        self.next_at: float | None = None  # monotonic time to start the next candidate


class ThreadedClient(DriverOwner):
    """A Telegram client for threaded programs (see
    :class:`~sansio_mtdc.adapters._driver.Driver` for ``store``, ``state``, ``on_update``,
    ``on_event`` and ``random``).

    Use it as ``with``; :meth:`close` ends every pending request with
    :class:`~sansio_mtdc.client.errors.RequestCancelled`, closes every socket and joins the
    I/O thread.
    """

    def __init__(self, config: ClientConfig, *, store: StateStore | None = None,
                 state: ClientState | None = None,
                 on_update: Callable[[object, int], None] | None = None,
                 on_event: Callable[[Event], None] | None = None,
                 random: Callable[[int], bytes] = os.urandom) -> None:
        self._driver = Driver(config, store=store, state=state, on_update=on_update,
                              on_event=on_event, random=random)
        self._lock = threading.Lock()  # guards _closed/_stopped against the queue's end
        self._work: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._stopped = False
        self._woken = False  # a wake-up byte is on its way: the next posts need none
        # I/O thread only, from here on:
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._links: dict[int, _Link] = {}
        self._dials: dict[int, _Dial] = {}
        self._rids: dict[concurrent.futures.Future[Any], int] = {}
        self._leaving = False

    def __enter__(self) -> ThreadedClient:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the callers' side (any thread) ----------------------------------------------------

    def start(self) -> None:
        """Start the I/O thread (``with`` and the first :meth:`submit` do it)."""
        with self._lock:
            if self._closed:
                raise UsageError("the client is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._main, daemon=True,
                                                name="sansio_mtdc I/O")
                self._thread.start()

    def submit(self, request: object, *, dc: int | None = None,
               timeout: float | None = None) -> concurrent.futures.Future[Any]:
        """Send ``request`` (to the home DC, or to ``dc``); the future ends with its result or
        its :class:`~sansio_mtdc.errors.RPCError` / :class:`~sansio_mtdc.errors.RequestError`.
        Cancelling the future cancels the request in the machine."""
        self.start()
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        if not self._post(lambda: self._invoke(future, request, dc, timeout), starting=True):
            raise UsageError("invoke after close")
        future.add_done_callback(self._on_future_done)
        return future

    def invoke(self, request: object, *, dc: int | None = None,
               timeout: float | None = None) -> Any:
        """:meth:`submit` and wait: the result, or the error raised."""
        if threading.current_thread() is self._thread:
            raise UsageError("invoke would block the I/O thread: use submit there")
        future = self.submit(request, dc=dc, timeout=timeout)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # a KeyboardInterrupt while waiting: the request goes too
            raise

    def close(self) -> None:
        """End pending requests, close every socket, join the I/O thread; idempotent."""
        with self._lock:
            first = not self._closed
            self._closed = True
            thread = self._thread
        if thread is None:
            if first:
                self._driver.close()
                self._release()
            return
        if first:
            self._post(self._leave)
        if thread is not threading.current_thread():
            thread.join()

    # --- crossing over to the I/O thread ---------------------------------------------------

    def _post(self, work: Callable[[], None], *, starting: bool = False) -> bool:
        with self._lock:
            if self._stopped or (starting and self._closed):
                return False
            self._work.put(work)
            if not self._woken:
                self._woken = True
                self._wake_w.send(b"\0")
        return True

    def _on_future_done(self, future: concurrent.futures.Future[Any]) -> None:
        if future.cancelled():
            self._post(lambda: self._cancel(future))

    # --- the I/O thread: requests ----------------------------------------------------------

    def _invoke(self, future: concurrent.futures.Future[Any], request: object,
                dc: int | None, timeout: float | None) -> None:
        if future.cancelled():
            return

        def done(value: object, error: MTDCError | None) -> None:
            self._rids.pop(future, None)
            try:
                if error is None:
                    future.set_result(value)
                else:
                    future.set_exception(error)
            except concurrent.futures.InvalidStateError:
                pass  # cancelled by the caller meanwhile: its cancel is on the queue

        try:
            rid, actions = self._driver.invoke(request, done, dc=dc, timeout=timeout)
        except Exception as exc:  # a bad request, or invoke after close
            future.set_exception(exc)
            return
        if not future.done():
            self._rids[future] = rid
        self._run(actions)

    def _cancel(self, future: concurrent.futures.Future[Any]) -> None:
        rid = self._rids.pop(future, None)
        if rid is not None and not self._leaving:
            self._run(self._driver.cancel(rid))

    def _leave(self) -> None:
        self._leaving = True
        self._run(self._driver.close())

    # --- the I/O thread: the loop ----------------------------------------------------------

    def _main(self) -> None:
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        try:
            while not self._leaving:
                for key, mask in self._selector.select(self._wait()):
                    self._ready(key, mask)
                self._due()
                while not self._leaving:
                    try:
                        work = self._work.get_nowait()
                    except queue.Empty:
                        break
                    work()
        except Exception:  # a bug, here or in the machine: fail loudly, hang nobody
            log.exception("the I/O thread failed")
            for future in list(self._rids):
                with contextlib.suppress(concurrent.futures.InvalidStateError):
                    future.set_exception(RequestError("the client's I/O thread failed"))
        finally:
            with self._lock:
                self._stopped = True
                self._closed = True
            for dial in list(self._dials.values()):
                self._end_dial(dial)
            for link in list(self._links.values()):
                self._unlink(link)
            self._release()

    def _release(self) -> None:
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()
        if self._driver.store is not None:
            self._driver.store.close()

    def _wait(self) -> float | None:
        """Seconds until the earliest of the machine's timer and the dials' deadlines."""
        delays: list[float] = []
        at = self._driver.timer()
        if at is not None:
            delays.append(at - self._driver.clock())
        now = time.monotonic()
        for dial in self._dials.values():
            if dial.next_at is not None:
                delays.append(dial.next_at - now)
            delays.extend(deadline - now for _, deadline in dial.attempts.values())
        return max(0.0, min(delays)) if delays else None

    def _due(self) -> None:
        now = time.monotonic()
        for dial in list(self._dials.values()):
            for sock, (_, deadline) in list(dial.attempts.items()):
                if deadline <= now and sock in dial.attempts:
                    self._attempt_failed(dial, sock, "timed out")
            if dial.next_at is not None and dial.next_at <= now \
                    and self._dials.get(dial.action.conn_id) is dial:
                self._next_attempt(dial)
        at = self._driver.timer()
        if at is not None and at <= self._driver.clock():
            self._run(self._driver.fire_timer())

    def _ready(self, key: selectors.SelectorKey, mask: int) -> None:
        owner = key.data
        if owner is None:  # woken up: the queue is read after the events
            with contextlib.suppress(BlockingIOError):
                self._wake_r.recv(64)
            with self._lock:
                self._woken = False
        elif isinstance(owner, _Dial):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            if sock not in owner.attempts:
                return  # closed by an earlier event of the same select
            error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if error:
                self._attempt_failed(owner, sock, os.strerror(error))
            else:
                self._won(owner, sock)
        else:
            assert isinstance(owner, _Link)
            if mask & selectors.EVENT_WRITE and self._links.get(owner.conn_id) is owner:
                self._flush(owner)
            if mask & selectors.EVENT_READ and self._links.get(owner.conn_id) is owner:
                self._read(owner)

    # --- the I/O thread: executing the machine's actions -----------------------------------

    def _run(self, actions: list[Action]) -> None:
        for action in actions:
            if type(action) is Send:
                link = self._links.get(action.conn_id)
                if link is not None:
                    link.out += action.data
                    self._flush(link)
            elif type(action) is Connect:
                dial = self._dials[action.conn_id] = _Dial(action)
                self._next_attempt(dial)
            elif type(action) is Close:
                log.debug("connection %d: closing (%s)", action.conn_id, action.reason)
                if action.conn_id in self._dials:
                    self._end_dial(self._dials[action.conn_id])
                if action.conn_id in self._links:
                    self._unlink(self._links[action.conn_id])

    def _flush(self, link: _Link) -> None:
        """Write what the socket takes; wait for EVENT_WRITE only while bytes remain."""
        try:
            sent = link.sock.send(link.out) if link.out else 0
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            self._lose(link, str(exc))
            return
        del link.out[:sent]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if link.out else 0)
        if self._selector.get_key(link.sock).events != events:
            self._selector.modify(link.sock, events, link)

    def _read(self, link: _Link) -> None:
        try:
            data = link.sock.recv(_READ_SIZE)
        except BlockingIOError:
            return
        except OSError as exc:
            self._lose(link, str(exc))
            return
        if not data:
            self._lose(link, None)
        else:
            self._run(self._driver.received(link.conn_id, data))

    def _lose(self, link: _Link, error: str | None) -> None:
        self._unlink(link)
        self._run(self._driver.lost(link.conn_id, error))

    def _unlink(self, link: _Link) -> None:
        del self._links[link.conn_id]
        self._selector.unregister(link.sock)
        link.sock.close()

    # --- the I/O thread: the candidates' race ----------------------------------------------

    def _next_attempt(self, dial: _Dial) -> None:
        """Start the next candidate: after :data:`STAGGER`, or at once when one failed."""
        while dial.order:
            endpoint = dial.order.pop(0)
            dial.tried.append(endpoint)
            try:
                family, kind, proto, _, address = socket.getaddrinfo(
                    endpoint.host, endpoint.port, type=socket.SOCK_STREAM)[0]
                sock = socket.socket(family, kind, proto)
            except OSError as exc:
                log.debug("connection %d: %s failed: %r", dial.action.conn_id, endpoint, exc)
                continue
            sock.setblocking(False)
            error = sock.connect_ex(address)
            if error not in _IN_PROGRESS:
                log.debug("connection %d: %s:%d failed: %s", dial.action.conn_id,
                          endpoint.host, endpoint.port, os.strerror(error))
                sock.close()
                continue
            deadline = time.monotonic() + self._driver.connect_timeout
            dial.attempts[sock] = (endpoint, deadline)
            self._selector.register(sock, selectors.EVENT_WRITE, dial)
            break
        dial.next_at = time.monotonic() + STAGGER if dial.order else None
        if not dial.attempts:
            self._end_dial(dial)
            self._run(self._driver.failed(dial.action.conn_id, dial.tried))

    def _attempt_failed(self, dial: _Dial, sock: socket.socket, why: str) -> None:
        endpoint, _ = dial.attempts.pop(sock)
        log.debug("connection %d: %s:%d failed: %s", dial.action.conn_id, endpoint.host,
                  endpoint.port, why)
        self._selector.unregister(sock)
        sock.close()
        if dial.order or not dial.attempts:
            self._next_attempt(dial)

    def _won(self, dial: _Dial, sock: socket.socket) -> None:
        endpoint, _ = dial.attempts.pop(sock)
        self._selector.unregister(sock)
        self._end_dial(dial)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        link = self._links[dial.action.conn_id] = _Link(dial.action.conn_id, sock)
        self._selector.register(sock, selectors.EVENT_READ, link)
        self._run(self._driver.made(dial.action.conn_id, endpoint))

    def _end_dial(self, dial: _Dial) -> None:
        """Forget the race and close every attempt still running."""
        self._dials.pop(dial.action.conn_id, None)
        dial.order.clear()
        dial.next_at = None
        for sock in dial.attempts:
            self._selector.unregister(sock)
            sock.close()
        dial.attempts.clear()
