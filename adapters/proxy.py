"""A TCP proxy on loopback that breaks the network on purpose, for the adapter tests.

:class:`FaultProxy` listens on one port per upstream address and forwards bytes both ways,
unchanged, until the test arms a fault::

    with ClusterThread(config) as running, FaultProxy(running.addresses) as proxy:
        ...  # point the client at proxy.addresses instead of running.addresses
        proxy.cut_after(300, direction="down", key=2)  # the next DC 2 answer breaks off
        proxy.split_writes(direction="up", pause=0.2)  # the next packet arrives in two halves
        ...
        assert proxy.stats(2).cut == 1

``"up"`` is client to upstream, ``"down"`` the way back.  Faults act on *chunks*: what the
proxy reads from a socket at once, on loopback usually one write of the sender.  A byte count
starts when the fault is armed (for a connection opened later, when it opens) and is kept per
connection.

The proxy runs its own asyncio loop on its own thread, as :class:`~.serve.ClusterThread` does,
so that a client on asyncio, threads, gevent or trio sees the same proxy.  Faults are armed
under a lock: a fault armed before a byte is sent applies to that byte.  A connection that ends
badly ends with a reset (``SO_LINGER`` 0), as a dropped route looks to a client; one that ends
well (both sides sent EOF) closes cleanly, and a half-close is forwarded.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import functools
import itertools
import logging
import socket
import struct
import sys
import threading
from collections import Counter, deque
from typing import Literal, TypeAlias

from sansio_mtdc.errors import UsageError

__all__ = ["Direction", "FaultProxy", "ProxyStats"]

log = logging.getLogger("sansio_mtdc.proxy")

Direction: TypeAlias = Literal["up", "down"]

#: bytes one direction may hold back (delayed or between split halves) before the proxy stops
#: reading from that direction's sender, so a slow fault never buffers without bound
_HOLD_LIMIT = 1 << 20
#: how long a cut waits for the bytes it lets through to reach the receiver before the reset
#: (a reset throws away whatever the kernel has not sent yet)
_RESET_GRACE = 2.0
_RESET_POLL = 0.002
#: how long stopping waits for the event loop to release every socket
_CLOSE_WAIT = 5.0
_LINGER_ZERO = struct.pack("ii", 1, 0)
_LOGGED_BYTES = 32


@dataclasses.dataclass(frozen=True)
class ProxyStats:
    """What the proxy saw, for one upstream or for all."""

    accepted: int = 0
    """Connections accepted, refused ones included."""
    refused: int = 0
    """Connections closed at once because of :meth:`FaultProxy.refuse`."""
    cut: int = 0
    """Connections ended by :meth:`FaultProxy.cut_after`."""
    dropped: int = 0
    """Connections ended by :meth:`FaultProxy.drop_all`."""
    live: int = 0
    """Connections accepted and not ended yet."""
    bytes_up: int = 0
    """Bytes delivered to the upstream."""
    bytes_down: int = 0
    """Bytes delivered to the client."""


_STAT_NAMES = tuple(field.name for field in dataclasses.fields(ProxyStats))


class _Mark(enum.Enum):
    """What a direction carries besides bytes, in order with them."""

    EOF = "eof"
    RESET = "reset"


@dataclasses.dataclass
class _Cut:
    nbytes: int
    direction: Direction
    key: int | None
    times: int
    seen: dict[int, int] = dataclasses.field(default_factory=dict)  # link -> bytes since armed


@dataclasses.dataclass
class _Split:
    at: int | None
    pause: float
    direction: Direction
    key: int | None
    times: int


@dataclasses.dataclass(frozen=True)
class _Plan:
    """What to do with one chunk, decided under the fault lock."""

    keep: int | None  # forward this many bytes, then cut the connection
    split: int | None  # deliver the first this many bytes, then the rest after ``pause``
    pause: float
    delay: float


def _other(direction: Direction) -> Direction:
    return "down" if direction == "up" else "up"


def _show(address: object) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        host, port = address[0], address[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return "?"


def _unsent(transport: asyncio.Transport) -> int:
    """Bytes the kernel still holds for the peer (Linux; elsewhere 0, and a cut may lose some)."""
    count = transport.get_write_buffer_size()
    sock = transport.get_extra_info("socket")
    if sys.platform == "linux" and sock is not None:
        import fcntl
        import termios
        with contextlib.suppress(OSError):
            raw = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
            count += struct.unpack("i", raw)[0]
    return count


def _reset(transport: asyncio.Transport | None) -> None:
    """Close with a RST, dropping whatever is still buffered, as a broken route would."""
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
    transport.abort()


class _Side(asyncio.Protocol):
    """One of a link's two sockets; ``feeds`` is the direction whose bytes it reads."""

    def __init__(self, link: _Link, feeds: Direction) -> None:
        self.link = link
        self.feeds = feeds
        self.transport: asyncio.Transport | None = None
        self.lost: asyncio.Future[None] = link.loop.create_future()
        self.reading = True
        self.eof = False
        self.write_paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.link.proxy._sides.add(self)
        self.link.made(self)

    def data_received(self, data: bytes) -> None:
        self.link.chunk(self.feeds, data)

    def eof_received(self) -> bool:
        self.eof = True
        self.link.eof_received(self.feeds)
        return True  # keep the socket open: the other way may still carry bytes

    def connection_lost(self, exc: Exception | None) -> None:
        self.link.proxy._sides.discard(self)
        if not self.lost.done():
            self.lost.set_result(None)
        self.link.lost(self, exc)

    def pause_writing(self) -> None:
        self.write_paused = True
        self.link.update_reading(_other(self.feeds))

    def resume_writing(self) -> None:
        self.write_paused = False
        self.link.update_reading(_other(self.feeds))

    def set_reading(self, reading: bool) -> None:
        transport = self.transport
        if transport is None or transport.is_closing() or self.eof or reading == self.reading:
            return  # (a resumed reader after EOF would report the EOF again)
        self.reading = reading
        if reading:
            transport.resume_reading()
        else:
            transport.pause_reading()

    def reset_when_sent(self, deadline: float) -> None:
        """The receiving side of a cut: reset once the bytes it was given have left."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        loop = self.link.loop
        if _unsent(transport) and loop.time() < deadline:
            loop.call_later(_RESET_POLL, self.reset_when_sent, deadline)
            return
        _reset(transport)


class _Pipe:
    """One direction of one link: chunks and marks in order, each with the time it may leave."""

    def __init__(self, link: _Link, direction: Direction) -> None:
        self.link = link
        self.direction = direction
        self.items: deque[tuple[float, bytes | _Mark]] = deque()
        self.held = 0
        self.timer: asyncio.TimerHandle | None = None

    def push(self, item: bytes | _Mark, due: float) -> None:
        if isinstance(item, bytes):
            if not item:
                return
            self.held += len(item)
        self.items.append((due, item))
        if self.timer is None:
            self.pump()

    def clear(self) -> None:
        self.items.clear()
        self.held = 0
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def pump(self) -> None:
        """Send what is due; wake again when the next item is."""
        self.timer = None
        link = self.link
        dest = link.dest(self.direction)
        transport = dest.transport
        if transport is None:
            return  # the upstream is still connecting: :meth:`_Link.made` pumps again
        now = link.loop.time()
        while self.items:
            due, item = self.items[0]
            if due > now:
                self.timer = link.loop.call_at(due, self.pump)
                break
            self.items.popleft()
            if item is _Mark.EOF:
                link.eof_sent(self.direction)
            elif item is _Mark.RESET:
                dest.reset_when_sent(now + _RESET_GRACE)
            else:
                assert isinstance(item, bytes)
                self.held -= len(item)
                if not transport.is_closing():
                    # counted first: a reader that has the bytes finds them counted
                    link.proxy._count(link.key, f"bytes_{self.direction}", len(item))
                    transport.write(item)
        link.update_reading(self.direction)


class _Link:
    """One accepted connection and the connection the proxy opened upstream for it."""

    def __init__(self, proxy: FaultProxy, key: int, number: int) -> None:
        self.proxy = proxy
        self.key = key
        self.id = number
        self.loop = asyncio.get_running_loop()
        self.client = _Side(self, "up")
        self.upstream = _Side(self, "down")
        self.pipes: dict[Direction, _Pipe] = {"up": _Pipe(self, "up"), "down": _Pipe(self, "down")}
        self.connecting: asyncio.Task[None] | None = None
        self.sides_open = 0
        self.ending = False  # nothing more is read or forwarded, except a cut's last bytes
        self.eofs: set[Direction] = set()
        self.finished = False

    def __repr__(self) -> str:
        return f"key {self.key} connection {self.id}"

    def source(self, direction: Direction) -> _Side:
        return self.client if direction == "up" else self.upstream

    def dest(self, direction: Direction) -> _Side:
        return self.upstream if direction == "up" else self.client

    # --- the sockets' side ---------------------------------------------------------------

    def made(self, side: _Side) -> None:
        self.sides_open += 1
        proxy = self.proxy
        assert side.transport is not None
        if side is self.upstream:
            if self.ending:
                _reset(side.transport)
                return
            self.pipes["up"].pump()
            self.update_reading("up")
            self.update_reading("down")
            return
        proxy._links[self.id] = self
        proxy._count(self.key, "accepted", 1)
        proxy._count(self.key, "live", 1)
        peer = _show(side.transport.get_extra_info("peername"))
        if proxy._stopping:
            self.ending = True
            _reset(side.transport)
            return
        if proxy._is_refused(self.key):
            log.info("%r from %s refused", self, peer)
            proxy._count(self.key, "refused", 1)
            self.ending = True
            side.transport.close()
            return
        log.info("%r from %s opened", self, peer)
        self.update_reading("up")  # held until the upstream answers
        self.connecting = self.loop.create_task(self._connect())
        self.connecting.add_done_callback(lambda _: self.maybe_finish())

    async def _connect(self) -> None:
        host, port = self.proxy._upstreams[self.key]
        try:
            await self.loop.create_connection(lambda: self.upstream, host, port)
        except OSError as exc:
            log.info("%r: upstream %s unreachable (%s)", self, _show((host, port)), exc)
            self.ending = True
            _reset(self.client.transport)

    def chunk(self, direction: Direction, data: bytes) -> None:
        if self.ending:
            return
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%r %s %d bytes %s", self, direction, len(data),
                      data[:_LOGGED_BYTES].hex())
        plan = self.proxy._plan(self, direction, len(data))
        if plan.keep is not None:
            data = data[:plan.keep]
        pipe = self.pipes[direction]
        due = self.loop.time() + plan.delay
        if plan.split is None:
            pipe.push(data, due)
        else:
            pipe.push(data[:plan.split], due)
            pipe.push(data[plan.split:], due + plan.pause)
        if plan.keep is not None:
            self.cut(direction, plan.keep)
        else:
            self.update_reading(direction)

    def eof_received(self, direction: Direction) -> None:
        if not self.ending:
            self.pipes[direction].push(_Mark.EOF, self.loop.time())

    def eof_sent(self, direction: Direction) -> None:
        transport = self.dest(direction).transport
        if transport is not None and not transport.is_closing() and transport.can_write_eof():
            transport.write_eof()
        self.eofs.add(direction)
        if len(self.eofs) == 2 and not self.ending:
            log.info("%r closed by both peers", self)
            self.ending = True
            for side in (self.client, self.upstream):
                if side.transport is not None:
                    side.transport.close()

    def lost(self, side: _Side, exc: Exception | None) -> None:
        self.sides_open -= 1
        if not self.ending:
            # a peer went away without EOF: the other one sees it vanish too
            self.ending = True
            log.info("%r: %s side lost (%r); resetting the other", self,
                     "client" if side is self.client else "upstream", exc)
            _reset((self.upstream if side is self.client else self.client).transport)
            if self.connecting is not None:
                self.connecting.cancel()
        self.maybe_finish()

    def update_reading(self, direction: Direction) -> None:
        """Read from a direction's sender only while its receiver keeps up (backpressure)."""
        dest = self.dest(direction)
        hold = (self.ending or dest.transport is None or dest.write_paused
                or self.pipes[direction].held > _HOLD_LIMIT)
        self.source(direction).set_reading(not hold)

    # --- the faults' side ----------------------------------------------------------------

    def cut(self, direction: Direction, kept: int) -> None:
        """Reset the sender now and the receiver once ``kept`` bytes have reached it."""
        log.info("%r cut %s after %d more bytes", self, direction, kept)
        self.proxy._count(self.key, "cut", 1)
        self.ending = True
        _reset(self.source(direction).transport)
        self.pipes[_other(direction)].clear()
        self.pipes[direction].push(_Mark.RESET, self.loop.time())
        self.update_reading(_other(direction))

    def drop(self, counted: bool) -> None:
        if counted and not self.ending:
            log.info("%r dropped", self)
            self.proxy._count(self.key, "dropped", 1)
        self.ending = True
        for pipe in self.pipes.values():
            pipe.clear()
        _reset(self.client.transport)
        _reset(self.upstream.transport)
        if self.connecting is not None:
            self.connecting.cancel()

    def maybe_finish(self) -> None:
        if self.finished or self.sides_open or (
                self.connecting is not None and not self.connecting.done()):
            return
        self.finished = True
        for pipe in self.pipes.values():
            pipe.clear()
        self.proxy._forget(self)
        log.debug("%r ended", self)


class FaultProxy:
    """One listening port per upstream address, forwarding both ways, with faults armed from
    any thread::

        with FaultProxy({1: ("127.0.0.1", 40001)}) as proxy:
            sock = socket.create_connection(proxy.addresses[1])

    ``addresses`` maps each key of ``upstreams`` to the proxy's own ``(host, port)`` for it,
    once started.  Every connection to it gets a connection of its own to the upstream.
    """

    def __init__(self, upstreams: dict[int, tuple[str, int]], *, host: str = "127.0.0.1"
                 ) -> None:
        if not upstreams:
            raise UsageError("a FaultProxy needs at least one upstream")
        self._upstreams = dict(upstreams)
        self._host = host
        self.addresses: dict[int, tuple[str, int]] = {}
        self._lock = threading.Lock()
        self._cuts: list[_Cut] = []
        self._splits: list[_Split] = []
        self._delays: dict[tuple[int | None, Direction], float] = {}
        self._refused: set[int] = set()
        self._counts: dict[int, Counter[str]] = {key: Counter() for key in self._upstreams}
        self._ids = itertools.count(1)
        self._links: dict[int, _Link] = {}
        self._sides: set[_Side] = set()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def __repr__(self) -> str:
        return f"<FaultProxy {self.addresses} -> {self._upstreams}>"

    # --- life ----------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        """Listen and forward; returns once every port listens (or raises what binding did)."""
        if self._thread is not None:
            raise UsageError("a FaultProxy starts once")
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        listeners: list[tuple[int, socket.socket]] = []
        try:
            for key in self._upstreams:
                listeners.append((key, socket.create_server((self._host, 0), family=family)))
        except BaseException:
            for _, sock in listeners:
                sock.close()
            raise
        self.addresses = {key: sock.getsockname()[:2] for key, sock in listeners}
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(listeners),),
                                        name="sansio_mtdc proxy", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            raise self._error
        return self

    def stop(self) -> None:
        """Reset every connection, close every socket and wait for the thread to end."""
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None:
            return
        if thread.is_alive() and loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stop.set)
        thread.join()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- faults (any thread) -------------------------------------------------------------

    def cut_after(self, nbytes: int, *, direction: Direction, key: int | None = None,
                  times: int = 1) -> None:
        """Drop a connection mid-flow: the next ``times`` connections (of ``key``, or any)
        that carry more than ``nbytes`` in ``direction``, counted from this call, get exactly
        ``nbytes`` through, then both sides are reset: the sender at once, the receiver once
        those bytes reached it (a reset would throw away what the kernel still held)."""
        self._check(direction, key)
        if type(nbytes) is not int or nbytes < 0:
            raise UsageError("nbytes is an int >= 0")
        with self._lock:
            self._cuts.append(_Cut(nbytes, direction, key, self._times(times)))

    def split_writes(self, *, direction: Direction, pause: float, key: int | None = None,
                     times: int = 1, at: int | None = None) -> None:
        """Cut a packet in two: the next ``times`` chunks in ``direction`` longer than ``at``
        bytes (default: their middle) leave in two writes, ``pause`` seconds apart; what
        follows waits behind the second half."""
        self._check(direction, key)
        if at is not None and (type(at) is not int or at < 1):
            raise UsageError("at is an int >= 1")
        with self._lock:
            self._splits.append(_Split(at, self._seconds(pause), direction, key,
                                       self._times(times)))

    def delay(self, seconds: float, *, direction: Direction, key: int | None = None) -> None:
        """Hold every later chunk in ``direction`` that long (a slow route), until changed or
        :meth:`clear`; a key's own delay overrides the one for all keys."""
        self._check(direction, key)
        with self._lock:
            self._delays[key, direction] = self._seconds(seconds)

    def refuse(self, key: int, refused: bool = True) -> None:
        """Accept new connections to ``key`` and close them at once, before any byte (a
        server that is going away); connections already open are left alone."""
        self._check("up", key)
        with self._lock:
            if refused:
                self._refused.add(key)
            else:
                self._refused.discard(key)

    def clear(self) -> None:
        """Forget every fault not fired yet; chunks already held still leave on time."""
        with self._lock:
            self._cuts.clear()
            self._splits.clear()
            self._delays.clear()
            self._refused.clear()

    def drop_all(self) -> None:
        """Reset every live connection now; returns once their sockets are closed."""
        loop = self._loop
        if loop is None or self._thread is None or not self._thread.is_alive():
            raise UsageError("the proxy is not running")
        asyncio.run_coroutine_threadsafe(self._end_all(counted=True), loop).result()

    def stats(self, key: int | None = None) -> ProxyStats:
        """Counts so far, for one upstream or (``None``) all of them."""
        self._check("up", key)
        with self._lock:
            counts = [self._counts[key]] if key is not None else list(self._counts.values())
            return ProxyStats(**{name: sum(c[name] for c in counts) for name in _STAT_NAMES})

    def _check(self, direction: str, key: int | None) -> None:
        if direction not in ("up", "down"):
            raise UsageError(f"direction is 'up' or 'down', not {direction!r}")
        if key is not None and key not in self._upstreams:
            raise UsageError(f"no upstream {key!r}")

    @staticmethod
    def _times(times: int) -> int:
        if type(times) is not int or times < 1:
            raise UsageError("times is an int >= 1")
        return times

    @staticmethod
    def _seconds(seconds: float) -> float:
        if not isinstance(seconds, int | float) or not 0 <= seconds < float("inf"):
            raise UsageError("a time is a finite number of seconds >= 0")
        return float(seconds)

    # --- for the links (the loop's thread) -----------------------------------------------

    def _count(self, key: int, name: str, amount: int) -> None:
        with self._lock:
            self._counts[key][name] += amount

    def _is_refused(self, key: int) -> bool:
        with self._lock:
            return key in self._refused

    def _plan(self, link: _Link, direction: Direction, size: int) -> _Plan:
        with self._lock:
            cuts = [cut for cut in self._cuts
                    if cut.direction == direction and cut.key in (None, link.key)]
            keep: int | None = None
            fired: _Cut | None = None
            for cut in cuts:
                room = cut.nbytes - cut.seen.get(link.id, 0)
                if size > room and (keep is None or room < keep):
                    keep, fired = room, cut
            if fired is None:
                for cut in cuts:
                    cut.seen[link.id] = cut.seen.get(link.id, 0) + size
            else:
                fired.times -= 1
                if not fired.times:
                    self._cuts.remove(fired)
            forwarded = size if keep is None else keep
            split: int | None = None
            pause = 0.0
            for candidate in self._splits:
                if candidate.direction != direction or candidate.key not in (None, link.key):
                    continue
                at = forwarded // 2 if candidate.at is None else candidate.at
                if 0 < at < forwarded:
                    split, pause = at, candidate.pause
                    candidate.times -= 1
                    if not candidate.times:
                        self._splits.remove(candidate)
                    break
            delay = self._delays.get((link.key, direction),
                                     self._delays.get((None, direction), 0.0))
            return _Plan(keep, split, pause, delay)

    def _forget(self, link: _Link) -> None:
        self._links.pop(link.id, None)
        with self._lock:
            self._counts[link.key]["live"] -= 1
            for cut in self._cuts:
                cut.seen.pop(link.id, None)

    def _accept(self, key: int) -> _Side:
        return _Link(self, key, next(self._ids)).client

    async def _end_all(self, counted: bool) -> None:
        """Reset every link and wait until every socket of theirs is closed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _CLOSE_WAIT
        while True:
            for link in list(self._links.values()):
                link.drop(counted)
            waits: set[asyncio.Future[None]] = {side.lost for side in self._sides}
            waits.update(link.connecting for link in self._links.values()
                         if link.connecting is not None and not link.connecting.done())
            if not waits or loop.time() >= deadline:
                return
            await asyncio.wait(waits, timeout=deadline - loop.time())

    async def _main(self, listeners: list[tuple[int, socket.socket]]) -> None:
        self._loop = loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        servers: list[asyncio.Server] = []
        try:
            try:
                for key, sock in listeners:
                    servers.append(await loop.create_server(
                        functools.partial(self._accept, key), sock=sock))
            except BaseException as exc:
                self._error = exc
                return
            finally:
                self._ready.set()
            for key, address in self.addresses.items():
                log.info("listening on %s for %s", _show(address),
                         _show(self._upstreams[key]))
            await self._stop.wait()
        finally:
            self._stopping = True
            for server in servers:
                server.close()
            for _, sock in listeners:  # those no server took over
                sock.close()
            for _ in range(3):  # connections accepted just now get their transports
                await asyncio.sleep(0)
            await self._end_all(counted=False)
            log.info("proxy closed")
