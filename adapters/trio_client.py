"""The client on trio: a nursery holds one task per connection and one timer task.

::

    async with open_trio_client(config, store=SQLiteStore("me.session")) as client:
        config = await client.invoke(tl.api.functions.help.GetConfig())

Cancelling the scope around :meth:`TrioClient.invoke` cancels the request in the machine.

Each connection task races the machine's candidates itself (``trio.open_tcp_stream`` orders
addresses its own way; the machine's order, interleaved by :func:`dial_order`, is the one to
keep), then reads in one loop while a send task beside it writes what a memory channel brings:
trio forbids two ``send_all`` at once on one stream, and the machine's actions are executed
synchronously, so they cannot await the write themselves.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import trio

from sansio_mtdc.client import Action, ClientConfig, ClientState, Close, Connect, Send
from sansio_mtdc.client.events import Event
from sansio_mtdc.dc.endpoint import Endpoint
from sansio_mtdc.errors import MTDCError, UsageError

from ._driver import STAGGER, Driver, DriverOwner, dial_order
from .storage import StateStore

__all__ = ["TrioClient", "open_trio_client"]

log = logging.getLogger("sansio_mtdc.client")

#: Bytes asked of the socket per read: a 1 MiB file part arrives in a few reads, not sixteen.
_READ_SIZE = 1 << 18


class _Link:
    """One connection of the machine: the scope that ends its task, the queue of its writes."""

    def __init__(self, conn_id: int) -> None:
        self.conn_id = conn_id
        self.scope = trio.CancelScope()  # cancelled on the machine's Close
        self.outbox, self.inbox = trio.open_memory_channel[bytes](math.inf)


class TrioClient(DriverOwner):
    """A Telegram client for trio; made by :func:`open_trio_client`, which owns its nursery.

    Call :meth:`invoke` from any task of the same ``trio.run``, as many at once as needed."""

    def __init__(self, driver: Driver, nursery: trio.Nursery) -> None:
        self._driver = driver
        self._nursery = nursery
        self._links: dict[int, _Link] = {}  # the connections the machine knows of
        self._timer_at: float | None = None  # the due time the timer task sleeps towards
        self._timer_moved = trio.Event()
        self._closed = False


    async def invoke(self, request: object, *, dc: int | None = None,
                     timeout: float | None = None) -> Any:
        """Send ``request`` (to the home DC, or to ``dc``) and return its result; raise the
        :class:`~sansio_mtdc.errors.RPCError` or :class:`~sansio_mtdc.errors.RequestError`
        it ended with."""
        if self._closed:
            raise UsageError("invoke after close")
        ended = trio.Event()
        outcome: list[tuple[object, MTDCError | None]] = []

        def done(value: object, error: MTDCError | None) -> None:
            outcome.append((value, error))
            ended.set()

        rid, actions = self._driver.invoke(request, done, dc=dc, timeout=timeout)
        self._run(actions)
        try:
            await ended.wait()
        finally:  # cancelled (or interrupted) while the request runs: end it in the machine
            if not ended.is_set() and not self._closed:
                self._run(self._driver.cancel(rid))
        value, error = outcome[0]
        if error is not None:
            raise error
        return value

    def _shut(self) -> None:
        """End every pending request (RequestCancelled) and every task; sockets close as
        the tasks unwind, which the nursery of :func:`open_trio_client` waits for."""
        if not self._closed:
            self._run(self._driver.close())
            self._closed = True
        self._nursery.cancel_scope.cancel()

    # --- executing the machine's actions ---------------------------------------------------

    def _run(self, actions: list[Action]) -> None:
        for action in actions:
            if type(action) is Send:
                link = self._links.get(action.conn_id)
                if link is not None:
                    link.outbox.send_nowait(action.data)
            elif type(action) is Connect:
                link = self._links[action.conn_id] = _Link(action.conn_id)
                self._nursery.start_soon(self._connection, action, link)
            elif type(action) is Close:
                log.debug("connection %d: closing (%s)", action.conn_id, action.reason)
                link = self._links.pop(action.conn_id, None)
                if link is not None:
                    link.scope.cancel()
        at = self._driver.timer()
        if at is not None and (self._timer_at is None or at < self._timer_at):
            self._timer_moved.set()  # the timer task sleeps too long: wake it to re-read

    async def _timer(self) -> None:
        """Sleep until the machine's deadline, fire it, repeat; woken early when it moves."""
        while True:
            self._timer_moved = trio.Event()
            self._timer_at = at = self._driver.timer()
            delay = math.inf if at is None else max(0.0, at - self._driver.clock())
            with trio.move_on_after(delay) as sleep:
                await self._timer_moved.wait()
            if sleep.cancelled_caught and not self._closed:
                self._timer_at = None
                self._run(self._driver.fire_timer())

    async def _connection(self, action: Connect, link: _Link) -> None:
        """Dial, report, then carry bytes both ways until the socket or the machine ends it."""
        conn_id = action.conn_id
        sock: trio.socket.SocketType | None = None
        try:
            with link.scope:
                sock, endpoint, tried, errors = await _race(action,
                                                            self._driver.connect_timeout)
                if sock is None or endpoint is None:
                    if self._forget(link):
                        self._run(self._driver.failed(conn_id, tried, errors))
                    return
                if self._links.get(conn_id) is link:
                    self._run(self._driver.made(conn_id, endpoint))
                error = await _carry(trio.SocketStream(sock), link, self._received)
                if self._forget(link):
                    self._run(self._driver.lost(conn_id, error))
        finally:
            if sock is not None:
                sock.close()

    def _forget(self, link: _Link) -> bool:
        """Drop ``link`` if the machine still knows it (it has not sent Close for it), so that
        its end is reported once."""
        if self._links.get(link.conn_id) is link:
            del self._links[link.conn_id]
            return True
        return False

    def _received(self, link: _Link, data: bytes) -> None:
        if self._links.get(link.conn_id) is link:
            self._run(self._driver.received(link.conn_id, data))


async def _carry(stream: trio.SocketStream, link: _Link,
                 received: Callable[[_Link, bytes], None]) -> str | None:
    """Read into ``received`` while a send task drains the link's channel; return why the
    connection ended (None: the peer closed it)."""
    reason: list[str] = []

    async def send() -> None:
        try:
            async for data in link.inbox:
                await stream.send_all(data)
        except trio.BrokenResourceError as exc:
            reason.append(f"send failed: {exc.__cause__ or exc!r}")
        both.cancel_scope.cancel()

    async with trio.open_nursery() as both:
        both.start_soon(send)
        try:
            while data := await stream.receive_some(_READ_SIZE):
                received(link, data)
        except trio.BrokenResourceError as exc:
            reason.append(f"receive failed: {exc.__cause__ or exc!r}")
        both.cancel_scope.cancel()
    return reason[0] if reason else None


async def _race(action: Connect, connect_timeout: float,
                ) -> tuple[trio.socket.SocketType | None, Endpoint | None, list[Endpoint],
                           list[BaseException]]:
    """Try the candidates in :func:`dial_order`, starting the next one after :data:`STAGGER`
    or at once when one fails; the first to connect wins, the others are closed.  Returns the
    winner (or None), the candidates tried and the errors of those that failed."""
    won: list[tuple[trio.socket.SocketType, Endpoint]] = []
    tried: list[Endpoint] = []
    errors: list[BaseException] = []

    async def attempt(endpoint: Endpoint, failed: trio.Event) -> None:
        family = trio.socket.AF_INET6 if endpoint.ipv6 else trio.socket.AF_INET
        sock = None
        try:
            sock = trio.socket.socket(family, trio.socket.SOCK_STREAM)
            with trio.fail_after(connect_timeout):
                await sock.connect((endpoint.host, endpoint.port))
        except (OSError, trio.TooSlowError) as exc:
            error = exc if isinstance(exc, OSError) else TimeoutError(
                f"no answer in {connect_timeout} s")
            errors.append(error)
            log.debug("connection %d: %s:%d failed: %r", action.conn_id, endpoint.host,
                      endpoint.port, error)
            if sock is not None:
                sock.close()
            failed.set()
            return
        except BaseException:
            if sock is not None:
                sock.close()
            raise
        if won:
            sock.close()
        else:
            won.append((sock, endpoint))
            race.cancel_scope.cancel()

    try:
        async with trio.open_nursery() as race:
            for endpoint in dial_order(action.candidates):
                tried.append(endpoint)
                failed = trio.Event()
                race.start_soon(attempt, endpoint, failed)
                with trio.move_on_after(STAGGER):
                    await failed.wait()
    except BaseException:  # cancelled from outside after a winner was found
        for sock, _ in won:
            sock.close()
        raise
    return (won[0][0], won[0][1], tried, errors) if won else (None, None, tried, errors)


@contextlib.asynccontextmanager
async def open_trio_client(config: ClientConfig, *, store: StateStore | None = None,
                           state: ClientState | None = None,
                           on_update: Callable[[object, int], None] | None = None,
                           on_event: Callable[[Event], None] | None = None,
                           random: Callable[[int], bytes] = os.urandom,
                           ) -> AsyncIterator[TrioClient]:
    """A :class:`TrioClient` for the block (see :class:`~sansio_mtdc.adapters._driver.Driver`
    for ``store``, ``state``, ``on_update``, ``on_event`` and ``random``).

    On exit every pending request ends with
    :class:`~sansio_mtdc.client.errors.RequestCancelled`, every connection closes, and the
    block ends once every socket is released; the store is closed.  An exception of the
    block comes out as it is, not wrapped in the nursery's ExceptionGroup."""
    driver = Driver(config, store=store, state=state, on_update=on_update,
                    on_event=on_event, random=random)
    raised: BaseException | None = None
    try:
        async with trio.open_nursery() as nursery:
            client = TrioClient(driver, nursery)
            nursery.start_soon(client._timer)
            try:
                yield client
            except BaseException as exc:
                raised = exc
            finally:
                client._shut()
    finally:
        if store is not None:
            store.close()
    if raised is not None:
        raise raised
