"""The reference cluster on real sockets: one asyncio listener per DC, on loopback.

This module is also the example of putting a sans-I/O machine on asyncio.  There are three moves,
and each is a few lines below:

* bytes in: ``Protocol.data_received`` -> ``ServerConnection.receive_data(data, now=time.time())``;
* bytes out: ``ServerConnection.data_to_send()`` -> ``transport.write``, and a closed machine
  closes its socket;
* time: ``Cluster.get_timer()`` -> ``loop.call_later`` -> ``Cluster.handle_timer(time.time())``.

Everything the cluster needs from the world (``now`` from :func:`time.time`, randomness from
:func:`os.urandom`, sockets) comes from here; the cluster itself never touches any of it.

::

    async with serve_cluster(ClusterConfig(dc_count=3, test_mode=True)) as running:
        running.addresses       # {1: ("127.0.0.1", 40001), ...}
        running.config_json()   # what ``python -m sansio_mtdc serve --config-out`` writes

:class:`ClusterThread` runs the same on a thread of its own, for synchronous callers.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import errno
import functools
import json
import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

from sansio_mtdc.errors import UsageError
from sansio_mtdc.server import Cluster, ClusterConfig, DcAddress, ServerConnection, StoredFile
from sansio_mtdc.server.files import sample_data

__all__ = [
    "SAMPLE_FILE_SIZE",
    "ClusterThread",
    "RunningCluster",
    "serve_cluster",
]

log = logging.getLogger("sansio_mtdc.serve")

#: the size of the file placed on each DC: over 1 MiB, so a download spans two 1 MiB chunks, and
#: not a multiple of 4 KiB, so the last part is a short one
SAMPLE_FILE_SIZE = 1_300_000
#: how long a shutdown lets clients take their last bytes before sockets are cut
_CLOSE_GRACE = 1.0
#: free-port draws when IPv4 and IPv6 listeners must share a port
_PORT_ATTEMPTS = 20
#: how many bytes of each chunk the DEBUG log shows
_LOGGED_BYTES = 32

T = TypeVar("T")


class _Narrator:
    """Turns what the cluster counted during one input into log lines.

    The cluster keeps :class:`~sansio_mtdc.server.Counters` but no event stream, so the
    difference before and after each input is what happened: keys made, authorizations
    exported and imported (the steps of a migration), methods run."""

    def __init__(self, cluster: Cluster) -> None:
        self._counters = cluster.counters
        self._seen = self._snapshot()

    def _snapshot(self) -> tuple[Counter[Any], ...]:
        c = self._counters
        return (Counter(c.handshakes), Counter(c.exports), Counter(c.imports),
                Counter(c.executed))

    def tell(self) -> None:
        now = self._snapshot()
        if now == self._seen:
            return
        (keys, exports, imports, executed) = (after - before
                                              for after, before in zip(now, self._seen))
        self._seen = now
        for (dc_id, method), count in sorted(executed.items()):
            level = logging.INFO if method.startswith("auth.") else logging.DEBUG
            log.log(level, "DC %d: ran %s%s", dc_id, method, f" x{count}" if count > 1 else "")
        for dc_id in sorted(keys):
            log.info("DC %d: auth key made", dc_id)
        for dc_id in sorted(exports):
            log.info("DC %d: authorization exported", dc_id)
        for dc_id in sorted(imports):
            log.info("DC %d: authorization imported", dc_id)


class _DcProtocol(asyncio.Protocol):
    """One accepted TCP connection, joined to one :class:`ServerConnection`."""

    def __init__(self, running: RunningCluster, dc_id: int) -> None:
        self._running = running
        self._dc_id = dc_id
        self._transport: asyncio.Transport | None = None
        self._conn: ServerConnection | None = None
        self._told_transport = False
        self._peer = "?"
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def __repr__(self) -> str:
        return f"<DC {self._dc_id} connection {self._conn.id if self._conn else '-'}>"

    # --- asyncio's side ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        peer = transport.get_extra_info("peername")
        if peer:
            self._peer = _show(peer[0], peer[1])
        self._conn = self._running.cluster.connect(self._dc_id, now=time.time())
        self._running._opened(self)
        log.info("DC %d: connection %d from %s opened", self._dc_id, self._conn.id, self._peer)
        self.flush()

    def data_received(self, data: bytes) -> None:
        conn = self._conn
        assert conn is not None
        if log.isEnabledFor(logging.DEBUG):
            log.debug("DC %d: connection %d <- %d bytes %s", self._dc_id, conn.id, len(data),
                      data[:_LOGGED_BYTES].hex())
        conn.receive_data(data, now=time.time())
        if not self._told_transport and conn.transport is not None:
            self._told_transport = True
            via = ("" if conn.obfuscated_dc_id is None
                   else f" (preamble DC {conn.obfuscated_dc_id})")
            log.info("DC %d: connection %d speaks %s%s", self._dc_id, conn.id, conn.transport,
                     via)
        self._running._after_input()

    def connection_lost(self, exc: Exception | None) -> None:
        conn = self._conn
        assert conn is not None
        conn.connection_lost(now=time.time())
        log.info("DC %d: connection %d from %s closed (%s)%s", self._dc_id, conn.id,
                 self._peer, conn.close_reason, f" after {exc!r}" if exc else "")
        self._running._lost(self)
        if not self.lost.done():
            self.lost.set_result(None)

    def pause_writing(self) -> None:
        # the client does not read: stop taking requests whose answers would pile up here
        if self._transport is not None:
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.resume_reading()

    # --- the machine's side ------------------------------------------------------------------

    def flush(self) -> None:
        """Write what the connection has to send; close the socket once the machine closed."""
        conn, transport = self._conn, self._transport
        if conn is None or transport is None or transport.is_closing():
            return
        data = conn.data_to_send()
        if data:
            if log.isEnabledFor(logging.DEBUG):
                log.debug("DC %d: connection %d -> %d bytes %s", self._dc_id, conn.id,
                          len(data), data[:_LOGGED_BYTES].hex())
            transport.write(data)
        if conn.closed:
            transport.close()  # asyncio writes what is buffered first

    def shut(self) -> None:
        """Server shutdown: close the machine, send what it still has, close the socket."""
        if self._conn is not None:
            self._conn.close()
        self.flush()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()


class RunningCluster:
    """A :class:`Cluster` served on sockets; made by :func:`serve_cluster`.

    ``addresses`` maps each DC to its IPv4 ``(host, port)``, ``ipv6_addresses`` to its IPv6 one
    (empty unless asked for); ``files`` maps each DC to the sample file placed on it.  Use
    the cluster's knobs on :attr:`cluster` from the event loop's thread, then call
    :meth:`wake` so that timers and output follow the change at once.
    """

    def __init__(self, cluster: Cluster, addresses: dict[int, tuple[str, int]],
                 ipv6_addresses: dict[int, tuple[str, int]]) -> None:
        self.cluster = cluster
        self.addresses = addresses
        self.ipv6_addresses = ipv6_addresses
        self.files: dict[int, StoredFile] = {}
        self._servers: list[asyncio.Server] = []
        self._protocols: dict[_DcProtocol, None] = {}
        self._narrator = _Narrator(cluster)
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due: float | None = None
        self._closing = False

    def __repr__(self) -> str:
        return f"<RunningCluster {self.addresses} with {len(self._protocols)} connections>"

    @property
    def open_connections(self) -> int:
        """Sockets accepted and not yet closed."""
        return len(self._protocols)

    def config_json(self) -> dict[str, Any]:
        """What a client needs to reach this cluster: addresses, RSA key, mode, sample files."""
        public = self.cluster.config.private_key.public
        out: dict[str, Any] = {
            "dcs": {str(dc): [host, port] for dc, (host, port) in self.addresses.items()},
            "rsa_public_pem": public.to_pem(),
            "rsa_fingerprint": public.fingerprint,
            "test_mode": self.cluster.config.test_mode,
            "files": [{
                "dc": stored.dc_id, "id": stored.id, "access_hash": stored.access_hash,
                "file_reference_hex": stored.file_reference.hex(), "size": stored.size,
                "sha256": stored.sha256, "name": _file_name(stored),
                "mime_type": stored.document.mime_type,
            } for stored in self.files.values()],
        }
        if self.ipv6_addresses:
            out["dcs_ipv6"] = {str(dc): [host, port]
                               for dc, (host, port) in self.ipv6_addresses.items()}
        return out

    def write_config(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`config_json` to ``path`` at once (a reader never sees half of it)."""
        target = Path(path)
        partial = target.with_name(target.name + ".partial")
        partial.write_text(json.dumps(self.config_json(), indent=2) + "\n")
        os.replace(partial, target)

    def wake(self) -> None:
        """Send what the cluster has to send and re-arm its timer (after a knob changed it)."""
        for protocol in list(self._protocols):
            protocol.flush()
        self._arm_timer()

    # --- for the protocols -----------------------------------------------------------------

    def _opened(self, protocol: _DcProtocol) -> None:
        self._protocols[protocol] = None

    def _lost(self, protocol: _DcProtocol) -> None:
        self._protocols.pop(protocol, None)
        self._arm_timer()

    def _after_input(self) -> None:
        # an input may produce output on another connection of the same session: flush all
        self._narrator.tell()
        self.wake()

    # --- time ------------------------------------------------------------------------------

    def _arm_timer(self) -> None:
        if self._closing:
            return
        due = self.cluster.get_timer()
        if due == self._timer_due:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_due = due
        if due is not None:
            # the cluster's times are wall-clock; call_later counts on the loop's clock
            delay = max(due - time.time(), 0.001)
            self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_due = None
        self.cluster.handle_timer(time.time())
        self._narrator.tell()
        self.wake()

    # --- shutdown --------------------------------------------------------------------------

    async def _close(self) -> None:
        self._closing = True
        for server in self._servers:
            server.close()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        protocols = list(self._protocols)
        for protocol in protocols:
            protocol.shut()
        if protocols:
            _, slow = await asyncio.wait([p.lost for p in protocols], timeout=_CLOSE_GRACE)
            for protocol in protocols:
                if not protocol.lost.done():
                    protocol.abort()
            if slow:
                await asyncio.wait(slow)
        for server in self._servers:
            await server.wait_closed()


def _file_name(stored: StoredFile) -> str:
    for attribute in stored.document.attributes:
        name = getattr(attribute, "file_name", None)
        if isinstance(name, str):
            return name
    return ""


def _bind(dc_ids: range, host: str, port_base: int,
          ipv6_host: str | None) -> list[tuple[int, socket.socket]]:
    """Listening sockets, one per DC (two with ``ipv6_host``, on the same port):
    ``port_base + dc_id``, or free ports when ``port_base`` is 0.  Bound before the cluster is
    made, because its config must name the ports."""
    bound: list[tuple[int, socket.socket]] = []
    try:
        for dc_id in dc_ids:
            for attempt in range(_PORT_ATTEMPTS):
                v4 = socket.create_server((host, port_base + dc_id if port_base else 0))
                if ipv6_host is None:
                    bound.append((dc_id, v4))
                    break
                try:
                    v6 = socket.create_server((ipv6_host, v4.getsockname()[1]),
                                              family=socket.AF_INET6)
                except OSError as exc:
                    v4.close()
                    if exc.errno != errno.EADDRINUSE or port_base or \
                            attempt == _PORT_ATTEMPTS - 1:
                        raise
                    continue  # a free IPv4 port that is taken on IPv6: draw another
                bound += [(dc_id, v4), (dc_id, v6)]
                break
    except BaseException:
        for _, sock in bound:
            sock.close()
        raise
    return bound


@contextlib.asynccontextmanager
async def serve_cluster(config: ClusterConfig | None = None, *, host: str = "127.0.0.1",
                        port_base: int = 0, ipv6_host: str | None = None,
                        sample_size: int | None = SAMPLE_FILE_SIZE,
                        random: Callable[[int], bytes] = os.urandom,
                        ) -> AsyncIterator[RunningCluster]:
    """Serve a cluster of ``config`` (default: five DCs in test mode) until the block ends.

    DC ``n`` listens on ``host:port_base + n`` (free ports when ``port_base`` is 0) and, with
    ``ipv6_host``, on the same port there too.  The addresses ``config`` advertises are
    replaced by the ones bound.  Unless ``sample_size`` is ``None``, each DC gets a file of
    :func:`~sansio_mtdc.server.files.sample_data` of that size.  On exit the listeners close,
    every connection is closed and every socket is released.
    """
    if config is None:
        config = ClusterConfig(test_mode=True)
    if type(port_base) is not int or not 0 <= port_base <= 65535 - config.dc_count:
        raise UsageError(f"port_base is an int in 0..{65535 - config.dc_count}")
    bound = _bind(config.dc_ids, host, port_base, ipv6_host)
    running: RunningCluster | None = None
    try:
        v4: dict[int, tuple[str, int]] = {}
        v6: dict[int, tuple[str, int]] = {}
        for dc_id, sock in bound:
            where, port = sock.getsockname()[:2]
            (v6 if sock.family == socket.AF_INET6 else v4)[dc_id] = (where, port)
        advertised = [DcAddress(dc_id, *v4[dc_id]) for dc_id in config.dc_ids]
        advertised += [DcAddress(dc_id, *v6[dc_id]) for dc_id in config.dc_ids if dc_id in v6]
        cluster = Cluster(dataclasses.replace(config, addresses=tuple(advertised)),
                          random=random)
        running = RunningCluster(cluster, v4, v6)
        loop = asyncio.get_running_loop()
        for dc_id, sock in bound:
            running._servers.append(await loop.create_server(
                functools.partial(_DcProtocol, running, dc_id), sock=sock))
        if sample_size is not None:
            for dc_id in config.dc_ids:
                cluster.put_file(dc_id, sample_data(dc_id, sample_size),
                                 name=f"sample-dc{dc_id}.bin", mime="application/octet-stream",
                                 now=time.time())
                running.files[dc_id] = cluster.files(dc_id)[-1]
        for dc_id in config.dc_ids:
            log.info("DC %d: listening on %s", dc_id, " and ".join(
                _show(*a) for a in [v4[dc_id], *([v6[dc_id]] if dc_id in v6 else [])]))
        yield running
    finally:
        if running is not None:
            await running._close()
        for _, sock in bound:  # those no listener took over yet
            sock.close()
        log.info("cluster closed")


def _show(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class ClusterThread:
    """:func:`serve_cluster` on a thread with its own event loop, for synchronous callers::

        with ClusterThread(ClusterConfig(dc_count=3)) as running:
            sock = socket.create_connection(running.addresses[2])
            ...

    The cluster lives on that thread: reach it through :meth:`call`, never directly.
    """

    def __init__(self, config: ClusterConfig | None = None, *, host: str = "127.0.0.1",
                 port_base: int = 0, ipv6_host: str | None = None,
                 sample_size: int | None = SAMPLE_FILE_SIZE) -> None:
        self._arguments: dict[str, Any] = dict(config=config, host=host, port_base=port_base,
                                               ipv6_host=ipv6_host, sample_size=sample_size)
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._running: RunningCluster | None = None
        self._error: BaseException | None = None

    @property
    def running(self) -> RunningCluster:
        if self._running is None:
            raise UsageError("the cluster thread is not running")
        return self._running

    def start(self) -> RunningCluster:
        """Start serving; returns once every DC listens (or raises what binding raised)."""
        if self._thread is not None:
            raise UsageError("a ClusterThread starts once")
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),),
                                        name="sansio_mtdc cluster", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            raise self._error
        return self.running

    def stop(self) -> None:
        """Close everything and wait for the thread to end."""
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None or loop is None or stop is None:
            return
        if thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stop.set)
            thread.join()
        self._running = None

    def call(self, function: Callable[[Cluster], T]) -> T:
        """Run ``function(cluster)`` on the cluster's thread and return what it returned."""
        loop = self._loop
        if loop is None or self._running is None:
            raise UsageError("the cluster thread is not running")
        running = self._running
        done: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                done.set_result(function(running.cluster))
            except BaseException as exc:
                done.set_exception(exc)
            running.wake()

        loop.call_soon_threadsafe(run)
        return done.result()

    def __enter__(self) -> RunningCluster:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            async with serve_cluster(**self._arguments) as running:
                self._running = running
                self._ready.set()
                await self._stop.wait()
        except BaseException as exc:
            if self._ready.is_set():
                raise
            self._error = exc
        finally:
            self._ready.set()
