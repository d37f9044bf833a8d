"""The client on asyncio: one :class:`asyncio.Protocol` per connection, one timer handle.

::

    async with AsyncClient(config, store=SQLiteStore("me.session")) as client:
        config = await client.invoke(tl.api.functions.help.GetConfig())

Cancelling the task that awaits :meth:`AsyncClient.invoke` cancels the request in the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

from sansio_mtdc.client import Action, ClientConfig, ClientState, Close, Connect, Send
from sansio_mtdc.client.errors import RequestCancelled
from sansio_mtdc.client.events import Event
from sansio_mtdc.dc.endpoint import Endpoint
from sansio_mtdc.errors import MTDCError, UsageError

from ._driver import STAGGER, Done, Driver, DriverOwner, dial_order
from .storage import StateStore

__all__ = ["AsyncClient"]

log = logging.getLogger("sansio_mtdc.client")


class _Link(asyncio.Protocol):
    """One TCP connection: bytes in go to the client, a loss is reported once."""

    def __init__(self, owner: AsyncClient) -> None:
        self.owner = owner
        self.conn_id = 0  # set when this attempt won its Connect
        self.transport: asyncio.Transport | None = None
        self.closing = False  # closed on the machine's word: nothing to report

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.conn_id and not self.closing:
            self.owner._run(self.owner._driver.received(self.conn_id, data))

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner._gone(self)
        if self.conn_id and not self.closing:
            self.closing = True
            self.owner._run(self.owner._driver.lost(self.conn_id, str(exc) if exc else None))


class _Queued:
    """A request waiting for the end of the loop iteration to start (``rid`` once started)."""

    __slots__ = ("dc", "done", "request", "rid", "timeout", "withdrawn")

    def __init__(self, request: object, done: Done, dc: int | None,
                 timeout: float | None) -> None:
        self.request, self.done, self.dc, self.timeout = request, done, dc, timeout
        self.rid = 0
        self.withdrawn = False


class AsyncClient(DriverOwner):
    """A Telegram client for asyncio (see :class:`~sansio_mtdc.adapters._driver.Driver` for
    ``store``, ``state``, ``on_update``, ``on_event`` and ``random``).

    Use it as ``async with``; :meth:`aclose` ends every pending request with
    :class:`~sansio_mtdc.client.errors.RequestCancelled` and waits for the sockets to close.
    """

    def __init__(self, config: ClientConfig, *, store: StateStore | None = None,
                 state: ClientState | None = None,
                 on_update: Callable[[object, int], None] | None = None,
                 on_event: Callable[[Event], None] | None = None,
                 random: Callable[[int], bytes] = os.urandom) -> None:
        self._driver = Driver(config, store=store, state=state, on_update=on_update,
                              on_event=on_event, random=random)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._links: dict[int, _Link] = {}
        self._dials: dict[int, asyncio.Task[None]] = {}
        self._open: set[_Link] = set()  # transports not yet closed, winners or not
        self._all_gone: asyncio.Event | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._on_close: Callable[[], None] | None = None
        self._queued: list[_Queued] = []  # invoked in this loop iteration, not yet started
        self._window: asyncio.Handle | None = None  # ends this iteration's batch
        self._closed = False


    async def __aenter__(self) -> AsyncClient:
        self._bind()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # --- the caller's side -----------------------------------------------------------------

    async def invoke(self, request: object, *, dc: int | None = None,
                     timeout: float | None = None) -> Any:
        """Send ``request`` (to the home DC, or to ``dc``) and return its result; raise the
        :class:`~sansio_mtdc.errors.RPCError` or :class:`~sansio_mtdc.errors.RequestError`
        it ended with."""
        loop = self._bind()
        if self._closed:
            raise UsageError("invoke after close")
        future: asyncio.Future[Any] = loop.create_future()
        ended = False

        def done(value: object, error: MTDCError | None) -> None:
            nonlocal ended
            ended = True
            if not future.done():
                if error is None:
                    future.set_result(value)
                else:
                    future.set_exception(error)

        call = _Queued(request, done, dc, timeout)
        if self._window is None:  # the first request of this loop iteration starts at once
            call.rid, actions = self._driver.invoke(request, done, dc=dc, timeout=timeout)
            self._window = loop.call_soon(self._submit)
            self._run(actions)
        else:  # the others of this iteration start together at its end
            self._queued.append(call)
        try:
            return await future
        except asyncio.CancelledError:
            if not ended and not self._closed:  # the awaiting task was cancelled
                if call.rid:
                    self._run(self._driver.cancel(call.rid))
                else:
                    call.withdrawn = True
            raise

    def _submit(self) -> None:
        """Start the requests of this loop iteration together: they leave in one packet."""
        self._window = None
        queued = [call for call in self._queued if not call.withdrawn]
        self._queued.clear()
        if not queued:
            return
        if self._closed:
            for call in queued:
                call.done(None, RequestCancelled("the client was closed"))
            return
        rids, actions = self._driver.invoke_many(
            [(call.request, call.done, call.dc, call.timeout) for call in queued])
        for call, rid in zip(queued, rids, strict=True):
            call.rid = rid
        self._run(actions)

    async def updates(self) -> AsyncIterator[tuple[object, int]]:
        """``(update, dc_id)`` as they come, until the client closes (replaces ``on_update``)."""
        queue: asyncio.Queue[tuple[object, int] | None] = asyncio.Queue()
        self._driver._on_update = lambda value, dc_id: queue.put_nowait((value, dc_id))
        self._on_close = lambda: queue.put_nowait(None)
        while (item := await queue.get()) is not None:
            yield item

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            for call in self._queued:
                if not call.withdrawn:
                    call.done(None, RequestCancelled("the client was closed"))
            self._queued.clear()
            if self._loop is not None:
                self._run(self._driver.close())
            else:
                self._driver.close()
            if self._on_close is not None:
                self._on_close()
        for task in list(self._dials.values()):
            task.cancel()
        if self._dials:
            await asyncio.gather(*self._dials.values(), return_exceptions=True)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = self._timer_at = None
        for link in list(self._open):
            if link.transport is not None:
                link.closing = True
                link.transport.abort()
        if self._open:
            self._all_gone = asyncio.Event()
            await self._all_gone.wait()
        if self._driver.store is not None:
            self._driver.store.close()

    # --- executing the machine's actions ---------------------------------------------------

    def _bind(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise UsageError("an AsyncClient belongs to the event loop it was first used on")
        return loop

    def _run(self, actions: list[Action]) -> None:
        for action in actions:
            if type(action) is Send:
                link = self._links.get(action.conn_id)
                if link is not None and link.transport is not None:
                    link.transport.write(action.data)
            elif type(action) is Connect:
                self._dials[action.conn_id] = asyncio.ensure_future(self._dial(action))
            elif type(action) is Close:
                self._drop(action.conn_id, action.reason)
        self._arm()

    def _drop(self, conn_id: int, reason: str) -> None:
        log.debug("connection %d: closing (%s)", conn_id, reason)
        task = self._dials.pop(conn_id, None)
        if task is not None:
            task.cancel()
        link = self._links.pop(conn_id, None)
        if link is not None and link.transport is not None:
            link.closing = True
            link.transport.close()

    def _arm(self) -> None:
        """Keep one timer handle, due no later than the machine's next deadline.  A handle
        that is due earlier stays (firing early is harmless: it re-arms), so the loop's heap
        does not fill with cancelled handles at every input."""
        at = None if self._closed else self._driver.timer()
        if at is None or (self._timer_at is not None and self._timer_at <= at):
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        assert self._loop is not None
        self._timer = self._loop.call_later(max(0.0, at - self._driver.clock()), self._fire)

    def _fire(self) -> None:
        self._timer = self._timer_at = None
        self._run(self._driver.fire_timer())

    def _gone(self, link: _Link) -> None:
        self._open.discard(link)
        if not self._open and self._all_gone is not None:
            self._all_gone.set()

    def _new_link(self) -> _Link:
        link = _Link(self)
        self._open.add(link)
        return link

    async def _dial(self, action: Connect) -> None:
        """Try the candidates in :func:`dial_order`, starting the next one after
        :data:`STAGGER` or at once when one fails; the first to connect wins."""
        loop = asyncio.get_running_loop()
        order = dial_order(action.candidates)
        tried: list[Endpoint] = []
        errors: list[BaseException] = []
        attempts: dict[asyncio.Future[Any], Endpoint] = {}
        winner: tuple[Endpoint, _Link] | None = None
        try:
            while winner is None and (order or attempts):
                if order:
                    endpoint = order.pop(0)
                    tried.append(endpoint)
                    attempts[asyncio.ensure_future(asyncio.wait_for(
                        loop.create_connection(self._new_link, endpoint.host, endpoint.port),
                        self._driver.connect_timeout))] = endpoint
                done, _ = await asyncio.wait(attempts, timeout=STAGGER if order else None,
                                             return_when=asyncio.FIRST_COMPLETED)
                for future in done:
                    endpoint = attempts.pop(future)
                    error = future.exception()
                    if error is not None:
                        errors.append(error)
                        log.debug("connection %d: %s:%d failed: %r", action.conn_id,
                                  endpoint.host, endpoint.port, error)
                    elif winner is None:
                        winner = (endpoint, future.result()[1])
                    else:
                        future.result()[0].abort()
        finally:
            for future in attempts:
                future.cancel()
            for future in attempts:
                with contextlib.suppress(BaseException):
                    (await future)[0].abort()
            self._dials.pop(action.conn_id, None)
        if winner is None:
            self._run(self._driver.failed(action.conn_id, tried, errors))
            return
        endpoint, link = winner
        if link.transport is None or link.transport.is_closing():
            self._run(self._driver.failed(action.conn_id, tried))
            return
        link.conn_id = action.conn_id
        self._links[action.conn_id] = link
        self._run(self._driver.made(action.conn_id, endpoint))
