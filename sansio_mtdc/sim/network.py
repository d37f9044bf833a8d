"""A simulated network between one :class:`~sansio_mtdc.client.Client` and a reference
:class:`~sansio_mtdc.server.Cluster`, on a virtual clock.

Every packet takes the one-way latency of its DC; a TCP connect costs one round trip (SYN,
SYN-ACK) per address tried.  The client's actions are carried out, its timers and the cluster's
fire in time order, and nothing runs in real time, so a scenario of minutes takes milliseconds
and gives the same result every time.  :meth:`SimNetwork.round_trips` turns virtual time into
round trips, the measure of a DC scenario.

::

    cluster = Cluster(cluster_config(), random=seeded)
    net = SimNetwork(cluster, latency=0.05)
    client = Client(net.client_config(), random=seeded_client)
    rid = client.invoke(request, now=net.now)
    net.run(client, until=lambda: net.ended(rid))
    net.result(rid); net.round_trips(t0, net.now)
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from ..client.actions import Close, Connect, Send
from ..client.events import Event, Failed, Result
from ..errors import UsageError
from .addresses import client_config
from .faults import FaultAction, PacketFault, Side

if TYPE_CHECKING:
    from ..client.config import ClientConfig
    from ..client.machine import Client
    from ..dc.endpoint import Endpoint
    from ..server import Cluster, ServerConnection

__all__ = ["DEFAULT_START", "Hop", "SimNetwork"]

#: the virtual clock starts here (a Unix time msg_ids can carry)
DEFAULT_START = 1_700_000_000.0
#: steps of one run before it is declared stuck
_MAX_STEPS = 5_000_000


@dataclass(frozen=True, slots=True)
class Hop:
    """One line of the network log: at ``time``, ``what`` happened on connection ``conn_id``
    to DC ``dc_id`` (``size`` bytes, for data)."""

    time: float
    what: str
    conn_id: int
    dc_id: int
    size: int = 0


class _Conn:
    """One simulated TCP connection: the client's ``conn_id`` and the cluster's end."""

    __slots__ = ("client_open", "conn_id", "dc_id", "generation", "last_down", "last_up",
                 "latency", "server", "server_gone", "up")

    def __init__(self, generation: int, conn_id: int, dc_id: int, latency: float) -> None:
        self.generation = generation  # which client (conn_ids are per client)
        self.conn_id = conn_id
        self.dc_id = dc_id
        self.latency = latency
        self.server: ServerConnection | None = None
        self.up = True             # the path works (a cut ends it)
        self.client_open = True    # the client has not closed it
        self.server_gone = False   # the client was told the server closed it
        self.last_up = 0.0         # arrival time of the last packet to the server
        self.last_down = 0.0       # ... and to the client


class SimNetwork:
    """``SimNetwork(cluster, latency=0.05, dc_latency=None, start=DEFAULT_START)``.

    ``latency`` is the one-way delay in seconds (``dc_latency`` overrides it per DC).  Read
    :attr:`now`, :attr:`events` (every event of the client last run, in order), :attr:`log`,
    :attr:`packets` (sent by each side); inject faults with
    :meth:`cut`, :meth:`split`, :meth:`delay`, :meth:`refuse`, :meth:`unreachable`.
    """

    def __init__(self, cluster: Cluster, *, latency: float = 0.05,
                 dc_latency: Mapping[int, float] | None = None,
                 start: float = DEFAULT_START) -> None:
        if not latency > 0:
            raise UsageError("latency is a positive number of seconds")
        self.cluster = cluster
        self.latency = float(latency)
        self.dc_latency = dict(dc_latency or {})
        self.now = float(start)
        self.events: list[Event] = []
        self.log: list[Hop] = []
        self.faults: list[PacketFault] = []
        self.packets = {"client": 0, "server": 0}
        self._unreachable: set[tuple[str, int]] = set()
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._conns: dict[tuple[int, int], _Conn] = {}
        self._generation = 0
        self._client: Client | None = None
        self._ended: dict[int, Result | Failed] = {}
        self._addresses: dict[tuple[str, int], tuple[int, bool]] = {
            (a.ip_address, a.port): (a.dc_id, a.media_only) for a in cluster.config.addresses}

    def __repr__(self) -> str:
        return f"<SimNetwork t={self.now:.3f} connections={len(self._conns)}>"

    # --- set-up ------------------------------------------------------------------------------

    def client_config(self, **options: Any) -> ClientConfig:
        """The :class:`ClientConfig` of this cluster (see :func:`.client_config`)."""
        return client_config(self.cluster, **options)

    def latency_of(self, dc_id: int) -> float:
        return self.dc_latency.get(dc_id, self.latency)

    def cut(self, side: Side, at: int, *, dc_id: int | None = None) -> PacketFault:
        """Cut the connection at the ``at``-th packet ``side`` sends from now on."""
        return self._fault(side, at, "cut", 0.0, dc_id)

    def split(self, side: Side, at: int, *, dc_id: int | None = None) -> PacketFault:
        """Deliver the ``at``-th packet of ``side`` in two halves."""
        return self._fault(side, at, "split", 0.0, dc_id)

    def delay(self, side: Side, at: int, seconds: float, *,
              dc_id: int | None = None) -> PacketFault:
        """Hold the ``at``-th packet of ``side`` back for ``seconds`` more."""
        return self._fault(side, at, "delay", seconds, dc_id)

    def _fault(self, side: Side, at: int, action: FaultAction, seconds: float,
               dc_id: int | None) -> PacketFault:
        fault = PacketFault(side, at, action, seconds, dc_id)
        self.faults.append(fault)
        return fault

    def transport_error(self, code: int, *, dc_id: int | None = None) -> int:
        """Make the server end of every open connection (to ``dc_id``, or any) send the
        transport error ``code`` (-404, -429, -444) now; returns how many did."""
        count = 0
        for conn in list(self._conns.values()):
            server = conn.server
            if (server is not None and not server.closed and conn.up
                    and (dc_id is None or conn.dc_id == dc_id)):
                server.send_error(code)
                count += 1
        self.pump_servers()
        return count

    def refuse(self, dc_id: int, refused: bool = True) -> None:
        """Make DC ``dc_id`` refuse new connections (the cluster's knob)."""
        self.cluster.refuse_connections(dc_id, refused)

    def unreachable(self, endpoint: Endpoint, unreachable: bool = True) -> None:
        """Connecting to ``endpoint``'s address fails (after a round trip)."""
        if unreachable:
            self._unreachable.add(endpoint.address)
        else:
            self._unreachable.discard(endpoint.address)

    # --- running -----------------------------------------------------------------------------

    def run(self, client: Client, *, until: Callable[[], bool] | None = None,
            max_time: float = 600.0) -> bool:
        """Run until ``until()`` is true (True is returned), nothing is left to happen, or
        ``max_time`` virtual seconds passed (False; the clock then reads the deadline).
        Running another client than last time starts :attr:`events` afresh (request ids are
        per client)."""
        if client is not self._client:
            self.events = []
            self._ended = {}
            self._generation += 1
        self._client = client
        deadline = self.now + max_time
        self.pump_servers()
        self._pump_client()
        for _ in range(_MAX_STEPS):
            if until is not None and until():
                return True
            step = self._next_step()
            if step is None:
                return until is None
            at, run_step = step
            if at > deadline:
                self.now = max(self.now, deadline)
                return False
            if at > self.now:
                self.now = at
            run_step()
            self._pump_client()
        raise RuntimeError("the simulation made no progress in time")

    def settle(self, client: Client, *, max_time: float = 600.0) -> bool:
        """Run until ``client`` has no pending request."""
        return self.run(client, until=lambda: client.pending == 0, max_time=max_time)

    def _next_step(self) -> tuple[float, Callable[[], None]] | None:
        client = self._client
        assert client is not None
        best: tuple[float, Callable[[], None]] | None = None
        if self._queue:
            at = self._queue[0][0]
            best = (at, self._pop_event)
        timer = client.get_timer()
        if timer is not None:
            timer = max(timer, self.now)
            if best is None or timer < best[0]:
                best = (timer, self._client_timer)
        cluster_timer = self.cluster.get_timer()
        if cluster_timer is not None:
            cluster_timer = max(cluster_timer, self.now)
            if best is None or cluster_timer < best[0]:
                best = (cluster_timer, self._cluster_timer)
        return best

    def _pop_event(self) -> None:
        _, _, action = heapq.heappop(self._queue)
        action()

    def _client_timer(self) -> None:
        assert self._client is not None
        self._client.handle_timer(now=self.now)

    def _cluster_timer(self) -> None:
        self.cluster.handle_timer(self.now)
        self.pump_servers()

    def pump_servers(self) -> None:
        """Carry what the cluster's connections have to send (or their closing) onto the
        network: for a test that worked the cluster directly (``ServerConnection.close()``,
        a knob that writes).  :meth:`run` does it first thing."""
        for conn in list(self._conns.values()):
            self._pump_server(conn)

    def _at(self, when: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._queue, (when, next(self._order), action))

    # --- the client's side -------------------------------------------------------------------

    def _pump_client(self) -> None:
        client = self._client
        assert client is not None
        while True:
            action = client.next_action()
            if action is None:
                break
            if isinstance(action, Connect):
                self._connect(action)
            elif isinstance(action, Send):
                self._client_send(action)
            elif isinstance(action, Close):
                self._client_close(action)
        while (event := client.next_event()) is not None:
            self.events.append(event)
            if isinstance(event, Result | Failed):
                self._ended.setdefault(event.rid, event)

    def _connect(self, action: Connect) -> None:
        tried: list[Endpoint] = []
        when = self.now
        for endpoint in action.candidates:
            target = self._addresses.get(endpoint.address)
            latency = self.latency_of(target[0] if target is not None else action.dc_id)
            if (target is None or endpoint.address in self._unreachable
                    or not self.cluster.accepting(target[0])):
                tried.append(endpoint)
                when += 2 * latency
                continue
            dc_id, media = target
            conn = _Conn(self._generation, action.conn_id, dc_id, latency)
            self._conns[self._generation, action.conn_id] = conn
            self._note(when, "connect", conn, 0)

            def accept(conn: _Conn = conn, media: bool = media) -> None:
                if conn.up:
                    conn.server = self.cluster.connect(conn.dc_id, now=self.now, media=media)

            def made(conn: _Conn = conn, endpoint: Endpoint = endpoint) -> None:
                if conn.up and conn.client_open and self._mine(conn):
                    assert self._client is not None
                    self._client.connection_made(conn.conn_id, now=self.now, address=endpoint)

            self._at(when + latency, accept)
            self._at(when + 2 * latency, made)
            return

        def failed(conn_id: int = action.conn_id, tried: tuple[Endpoint, ...] = tuple(tried),
                   generation: int = self._generation) -> None:
            if self._client is not None and generation == self._generation:
                self._client.connection_failed(conn_id, now=self.now, failed=tried)

        self.log.append(Hop(self.now, "connect failed", action.conn_id, action.dc_id))
        self._at(when, failed)

    def _client_send(self, action: Send) -> None:
        conn = self._conns.get((self._generation, action.conn_id))
        if conn is None or not conn.up or not conn.client_open:
            return
        self.packets["client"] += 1
        fault = self._fault_for("client", conn.dc_id)
        if fault is not None and fault.action == "cut":
            self._note(self.now, "cut at client packet", conn, len(action.data))
            self._cut(conn)
            return
        extra = fault.seconds if fault is not None and fault.action == "delay" else 0.0
        when = max(self.now + conn.latency + extra, conn.last_up)
        conn.last_up = when
        self._note(self.now, "client sends", conn, len(action.data))
        pieces = _halves(action.data) if fault is not None and fault.action == "split" else [
            action.data]
        for piece in pieces:
            self._at(when, partial(self._to_server, conn, piece))

    def _client_close(self, action: Close) -> None:
        conn = self._conns.get((self._generation, action.conn_id))
        if conn is None:
            return
        conn.client_open = False
        self._note(self.now, f"client closes ({action.reason})", conn, 0)
        when = max(self.now + conn.latency, conn.last_up)

        def lost(conn: _Conn = conn) -> None:
            if conn.server is not None:
                conn.server.connection_lost(now=self.now)
            self._conns.pop((conn.generation, conn.conn_id), None)

        self._at(when, lost)

    # --- the server's side -------------------------------------------------------------------

    def _to_server(self, conn: _Conn, data: bytes) -> None:
        server = conn.server
        if not conn.up or server is None or server.closed:
            return
        server.receive_data(data, now=self.now)
        self._pump_server(conn)

    def _pump_server(self, conn: _Conn) -> None:
        server = conn.server
        if server is None or not conn.up:
            return
        data = server.data_to_send()
        if data and conn.client_open:
            self.packets["server"] += 1
            fault = self._fault_for("server", conn.dc_id)
            if fault is not None and fault.action == "cut":
                self._note(self.now, "cut at server packet", conn, len(data))
                self._cut(conn)
                return
            extra = fault.seconds if fault is not None and fault.action == "delay" else 0.0
            when = max(self.now + conn.latency + extra, conn.last_down)
            conn.last_down = when
            self._note(self.now, "server sends", conn, len(data))
            pieces = _halves(data) if fault is not None and fault.action == "split" else [data]
            for piece in pieces:
                self._at(when, partial(self._to_client, conn, piece))
        if server.closed and not conn.server_gone:
            conn.server_gone = True
            reason = str(server.close_reason)
            self._note(self.now, f"server closes ({reason})", conn, 0)
            when = max(self.now + conn.latency, conn.last_down)
            self._at(when, partial(self._lost, conn, reason))

    def _mine(self, conn: _Conn) -> bool:
        """Whether ``conn`` belongs to the client being run."""
        return self._client is not None and conn.generation == self._generation

    def _to_client(self, conn: _Conn, data: bytes) -> None:
        if not conn.up or not conn.client_open or not self._mine(conn):
            return
        assert self._client is not None
        self._client.receive_data(conn.conn_id, data, now=self.now)

    def _lost(self, conn: _Conn, reason: str) -> None:
        conn.up = False
        self._conns.pop((conn.generation, conn.conn_id), None)
        if conn.client_open and self._mine(conn):
            assert self._client is not None
            self._client.connection_lost(conn.conn_id, now=self.now, error=reason)

    def _cut(self, conn: _Conn) -> None:
        """The path dies: what is in flight is lost; both ends learn it a latency later."""
        conn.up = False
        conn.server_gone = True

        def server_lost(conn: _Conn = conn) -> None:
            if conn.server is not None and not conn.server.closed:
                conn.server.connection_lost(now=self.now)

        def client_lost(conn: _Conn = conn) -> None:
            self._conns.pop((conn.generation, conn.conn_id), None)
            if conn.client_open and self._mine(conn):
                assert self._client is not None
                self._client.connection_lost(conn.conn_id, now=self.now, error="cut")

        self._at(self.now + conn.latency, server_lost)
        self._at(self.now + conn.latency, client_lost)

    def _fault_for(self, side: Side, dc_id: int) -> PacketFault | None:
        """Count the packet against every rule; the one to apply (a cut before a split
        before a delay) when several hit it."""
        hits = [fault for fault in self.faults if fault.matches(side, dc_id)]
        for fault in hits:
            fault.fired_at = self.now
        order = {"cut": 0, "split": 1, "delay": 2}
        return min(hits, key=lambda fault: order[fault.action]) if hits else None

    def _note(self, when: float, what: str, conn: _Conn, size: int) -> None:
        self.log.append(Hop(when, what, conn.conn_id, conn.dc_id, size))

    # --- reading the outcome -----------------------------------------------------------------

    def ended(self, *rids: int) -> bool:
        """Whether every request of ``rids`` has its Result or Failed."""
        return all(rid in self._ended for rid in rids)

    def outcome(self, rid: int) -> Result | Failed | None:
        """The first Result or Failed of ``rid`` (None while it runs)."""
        return self._ended.get(rid)

    def result(self, rid: int) -> Any:
        """The value of ``rid``'s Result; AssertionError with the failure otherwise."""
        outcome = self._ended.get(rid)
        if not isinstance(outcome, Result):
            raise AssertionError(f"request {rid} did not succeed: {outcome!r}")
        return outcome.value

    def endings(self, rid: int) -> list[Result | Failed]:
        """Every Result and Failed seen for ``rid`` (exactly one, if all is well)."""
        return [e for e in self.events if isinstance(e, Result | Failed) and e.rid == rid]

    def of_type(self, kind: type[Event]) -> list[Any]:
        """The client events of one type, in order."""
        return [e for e in self.events if isinstance(e, kind)]

    def round_trips(self, start: float, end: float | None = None) -> float:
        """Virtual time from ``start`` to ``end`` (default: now) in round trips of the base
        latency, rounded to 1e-3 (the clock is a float near 1.7e9)."""
        end = self.now if end is None else end
        return round((end - start) / (2 * self.latency), 3)


def _halves(data: bytes) -> list[bytes]:
    middle = max(1, len(data) // 2)
    return [data[:middle], data[middle:]] if len(data) > 1 else [data]
