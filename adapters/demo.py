"""``python -m sansio_mtdc demo``: the library's data-center handling, shown on real sockets.

The reference cluster runs in this process on free loopback ports; a real :class:`AsyncClient`
with a session file talks to it.  Five steps each print what the client reported (keys made,
home DC changes, authorization transfers, connections, retries), what the server ran, and how
many round trips the step took next to the protocol's minimum.  Every step checks what its
header claims: the demo exits 0 only if all five did, 1 otherwise (naming the step).

:func:`run` takes ``before_step``, a hook that may turn a cluster knob before a step; the tests
use it to prove that a broken step is reported as broken.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from sansio_mtdc.client.events import (
    AuthKeyCreated,
    AuthorizationImported,
    ConnectionStateChanged,
    Event,
    ExportingAuthorization,
    HomeDcChanged,
    LoggedOut,
    Retrying,
)
from sansio_mtdc.server import ClusterConfig
from sansio_mtdc.sim import scenarios
from sansio_mtdc.sim.addresses import client_config
from sansio_mtdc.sim.scenarios import (
    file_request,
    phone_of,
    self_request,
    send_code_request,
    sign_in_request,
)
from sansio_mtdc.tl import api

from .asyncio_client import AsyncClient
from .serve import RunningCluster, serve_cluster
from .storage import SQLiteStore

__all__ = ["STEPS", "BeforeStep", "Step", "StepFailed", "StepReport", "main", "run"]

#: where the client starts, the DC of the test number it signs in with, the DC of the second
#: account that downloads the uploaded file, and where the cluster then moves the user
FIRST_DC, SIGN_IN_DC, READER_DC, MOVED_TO_DC = 2, 3, 4, 5
#: the uploaded file: 1.25 MiB of bytes that are the same on every run (two download chunks)
UPLOAD_SIZE = 1_310_720
UPLOAD_PART = 256 * 1024
UPLOAD_FILE_ID = 0x5EED
#: a download asks for whole 1 MiB chunks (``api_files.txt``: limit divides 1 MiB)
CHUNK = 1 << 20
#: a step that takes longer than this is reported as failed, not waited for
STEP_TIMEOUT = 5.0
SESSION_FILE = "demo.session"


def _minimum(run: Callable[[object], Any]) -> int:
    """The protocol minimum the simulated scenarios are measured by, for one of them."""
    return next(s.minimum for s in scenarios.SCENARIOS if s.run is run)


# The fewest round trips each part can take, counting a TCP connect as one and the handshake
# as three.  Those the simulated scenarios measure are taken from there.
COLD_START = _minimum(scenarios.cold_start)  # connect, handshake, the requests in one container
#: the redirect's answer, then connect to X, handshake on X and the request again there
PHONE_MIGRATE_WARM = 1 + 1 + 3 + 1
ONE_REQUEST = 1  # on a connection that is ready (the upload's parts all go out at once)
FILE_MIGRATE = _minimum(scenarios.file_migrate)
USER_MIGRATE = _minimum(scenarios.user_migrate)
RESUME = _minimum(scenarios.resume)


class StepFailed(Exception):
    """A step did not do what its header says."""


def expect(condition: object, message: str) -> None:
    if not condition:
        raise StepFailed(message)


@dataclass
class StepReport:
    """One row of the final table."""

    number: int
    name: str
    minimum: int
    round_trips: int | None = None
    seconds: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class Step:
    """One step of the demo: its number, short name, the claim it prints, its round-trip
    minimum, and its body (which raises :class:`StepFailed` when the claim is false)."""

    number: int
    name: str
    header: str
    minimum: int  # the protocol's fewest round trips for what the step does
    body: Callable[[Demo], Awaitable[None]]


#: called with the step and the running cluster just before the step runs
BeforeStep = Callable[[Step, RunningCluster], None]


class Narrator:
    """Turns the client's events into indented trace lines, and keeps them per step so that
    the step's checks read what really happened."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self.events: list[Event] = []
        self._closed: list[str] = []

    def on_event(self, event: Event) -> None:
        self.events.append(event)
        line = self._describe(event)
        if line is not None:
            self._write(line)

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def take_closed(self) -> list[str]:
        """The connections the client closed on purpose since the last call (told in one line:
        they are the expected end of a client, not news)."""
        closed, self._closed = self._closed, []
        return closed

    def _describe(self, event: Event) -> str | None:
        if isinstance(event, AuthKeyCreated):
            kind = "temporary" if event.temporary else "permanent"
            return f"DC {event.dc_id}: {kind} auth key {event.key_id & (2**64 - 1):016x} made"
        if isinstance(event, HomeDcChanged):
            return f"home DC {event.old} -> {event.new} ({event.reason})"
        if isinstance(event, ExportingAuthorization):
            return (f"DC {event.home}: auth.exportAuthorization for DC {event.dc_id} "
                    f"(the home DC vouches for the user)")
        if isinstance(event, AuthorizationImported):
            return f"DC {event.dc_id}: auth.importAuthorization accepted, requests run as the user"
        if isinstance(event, ConnectionStateChanged):
            where = f"connection {event.conn_id} to DC {event.dc_id} ({event.purpose})"
            if event.state == "closed" and event.reason == "client closed":
                self._closed.append(f"#{event.conn_id} DC {event.dc_id} {event.purpose}")
                return None
            if event.state == "handshaking":
                return None
            reason = f" ({event.reason})" if event.reason else ""
            return f"{where}: {event.state}{reason}"
        if isinstance(event, Retrying):
            return (f"request {event.rid}: retry {event.attempt} in {event.delay:.3g} s "
                    f"({event.reason})")
        if isinstance(event, LoggedOut):
            return f"DC {event.dc_id}: logged out ({event.error})"
        return None  # results, updates and state saves are told by the steps themselves


class _ServerView:
    """What the cluster counted during a step: keys made and methods run, per DC."""

    def __init__(self, running: RunningCluster) -> None:
        self._counters = running.cluster.counters
        self._keys = Counter(self._counters.handshakes)
        self._executed = Counter(self._counters.executed)

    def keys(self) -> Counter[int]:
        return Counter(self._counters.handshakes) - self._keys

    def executed(self, method: str, dc_id: int) -> int:
        return self._counters.executed[(dc_id, method)] - self._executed[(dc_id, method)]

    def lines(self) -> list[str]:
        keys = self.keys()
        ran = Counter(self._counters.executed) - self._executed
        out = []
        for dc_id in sorted({*keys, *(dc for dc, _ in ran)}):
            parts = ["auth key made"] * bool(keys[dc_id])
            methods = [f"{m}{f' x{n}' if n > 1 else ''}"
                       for (dc, m), n in sorted(ran.items()) if dc == dc_id]
            if methods:
                parts.append("ran " + ", ".join(methods))
            out.append(f"server DC {dc_id}: {'; '.join(parts)}")
        return out


@dataclass
class Demo:
    """The state the steps share: the cluster, the client, the session file, the trace."""

    running: RunningCluster
    workdir: str
    out: TextIO
    quiet: bool = False
    narrator: Narrator = field(init=False)
    client: AsyncClient | None = None
    phone: str = phone_of(SIGN_IN_DC)
    user_id: int = 0
    #: round trips of the current step: the sum of its parts, which run one after the other
    trips: int = 0
    server: _ServerView | None = None

    def __post_init__(self) -> None:
        self.narrator = Narrator(self.tell)

    @property
    def session_path(self) -> str:
        return os.path.join(self.workdir, SESSION_FILE)

    def tell(self, line: str) -> None:
        if not self.quiet:
            print(f"    {line}", file=self.out, flush=True)

    def open_client(self) -> AsyncClient:
        config = client_config(self.running.cluster, dc=FIRST_DC)
        self.client = AsyncClient(config, store=SQLiteStore(self.session_path),
                                  on_event=self.narrator.on_event)
        return self.client

    @property
    def live(self) -> AsyncClient:
        assert self.client is not None
        return self.client

    async def measured(self, what: str, minimum: int, call: Awaitable[Any], *,
                       client: AsyncClient | None = None) -> Any:
        """Await ``call`` and tell its round trips (one part of a step) on ``client`` (the
        demo's own by default)."""
        counted = client if client is not None else self.live
        before = counted.round_trips
        value = await call
        taken = counted.round_trips - before
        self.trips += taken
        self.tell(f"{what}: {_trips(taken)} (minimum {minimum})")
        return value


def _trips(n: int) -> str:
    return f"{n} round trip{'' if n == 1 else 's'}"


def _show_phone(phone: str) -> str:
    return f"+{phone}"


# --- the steps ---------------------------------------------------------------------------------

async def cold_start(demo: Demo) -> None:
    client = demo.open_client()
    await client.__aenter__()
    config, nearest = await demo.measured(
        "help.getConfig and help.getNearestDc, sent together", COLD_START,
        asyncio.gather(client.invoke(api.functions.help.GetConfig()),
                       client.invoke(api.functions.help.GetNearestDc())))
    dcs = sorted({option.id for option in config.dc_options})
    demo.tell(f"help.getConfig: this_dc {config.this_dc}, DCs {', '.join(map(str, dcs))}; "
              f"help.getNearestDc: nearest DC {nearest.nearest_dc} ({nearest.country})")
    keys = demo.narrator.of(AuthKeyCreated)
    expect([k.dc_id for k in keys] == [FIRST_DC],
           f"expected one new auth key, on DC {FIRST_DC}; got {[k.dc_id for k in keys]}")
    expect(config.this_dc == FIRST_DC, f"help.getConfig ran on DC {config.this_dc}")
    expect(dcs == list(demo.running.cluster.config.dc_ids),
           f"the config lists DCs {dcs}, the cluster runs {list(demo.running.addresses)}")
    expect(client.client.home_dc == FIRST_DC, f"the home DC is {client.client.home_dc}")


async def phone_migrate(demo: Demo) -> None:
    client = demo.live
    sent = await demo.measured(
        f"auth.sendCode {_show_phone(demo.phone)}", PHONE_MIGRATE_WARM,
        client.invoke(send_code_request(demo.phone)))
    moves = demo.narrator.of(HomeDcChanged)
    expect([(m.old, m.new, m.reason) for m in moves] == [(FIRST_DC, SIGN_IN_DC,
                                                          "PHONE_MIGRATE_X")],
           f"expected the home DC to move {FIRST_DC} -> {SIGN_IN_DC} on PHONE_MIGRATE_X, "
           f"saw {[(m.old, m.new, m.reason) for m in moves]}")
    expect(sent.phone_code_hash, "auth.sendCode gave no phone_code_hash")
    signed = await demo.measured("auth.signIn with the test code", ONE_REQUEST,
                                 client.invoke(sign_in_request(demo.phone,
                                                               sent.phone_code_hash)))
    user = signed.user
    demo.user_id = int(user.id)
    demo.tell(f"signed in as user {user.id} ({user.first_name} {user.last_name}), "
              f"home DC {client.client.home_dc}")
    expect(user.phone == demo.phone, f"signed in as {user.phone}, not {demo.phone}")
    expect(client.client.home_dc == SIGN_IN_DC, f"the home DC is {client.client.home_dc}")
    expect([k.dc_id for k in demo.narrator.of(AuthKeyCreated)] == [SIGN_IN_DC],
           f"expected one new auth key, on DC {SIGN_IN_DC}")


async def file_transfer(demo: Demo) -> None:
    client = demo.live
    home = client.client.home_dc
    data = hashlib.shake_256(b"sansio_mtdc demo upload").digest(UPLOAD_SIZE)
    parts = [data[i:i + UPLOAD_PART] for i in range(0, len(data), UPLOAD_PART)]
    saved = await demo.measured(
        f"upload.saveFilePart x{len(parts)} ({len(data)} bytes) to home DC {home}",
        ONE_REQUEST, asyncio.gather(*(
            client.invoke(api.functions.upload.SaveFilePart(
                file_id=UPLOAD_FILE_ID, file_part=n, bytes=part))
            for n, part in enumerate(parts))))
    expect(all(ok is True for ok in saved), f"upload.saveFilePart answered {saved}")
    media = await demo.measured(
        "messages.uploadMedia makes the parts a document", ONE_REQUEST,
        client.invoke(api.functions.messages.UploadMedia(
            peer=api.types.InputPeerSelf(),
            media=api.types.InputMediaUploadedDocument(
                file=api.types.InputFile(id=UPLOAD_FILE_ID, parts=len(parts),
                                         name="demo-upload.bin",
                                         md5_checksum=hashlib.md5(data).hexdigest()),
                mime_type="application/octet-stream", attributes=[]))))
    uploaded = media.document
    expect(uploaded.dc_id == home and uploaded.size == len(data),
           f"the document is {uploaded.size} bytes on DC {uploaded.dc_id}, expected "
           f"{len(data)} on DC {home}")
    demo.tell(f"document {uploaded.id}: {uploaded.size} bytes, lives on DC {uploaded.dc_id}")

    other_phone = phone_of(READER_DC)
    demo.tell(f"a second account, {_show_phone(other_phone)}, lives on DC {READER_DC} "
              f"(its own client and keys):")
    narrator = Narrator(lambda line: demo.tell(f"  [second account] {line}"))
    reader = AsyncClient(client_config(demo.running.cluster, dc=READER_DC),
                         on_event=narrator.on_event)
    async with reader:
        sent = await demo.measured(f"  auth.sendCode {_show_phone(other_phone)}, cold start",
                                   COLD_START, reader.invoke(send_code_request(other_phone)),
                                   client=reader)
        await demo.measured("  auth.signIn with the test code", ONE_REQUEST,
                            reader.invoke(sign_in_request(other_phone, sent.phone_code_hash)),
                            client=reader)
        before = len(narrator.events)
        chunks = await demo.measured(
            f"  upload.getFile x{-(-uploaded.size // CHUNK)} of the document, no dc_id given",
            FILE_MIGRATE, asyncio.gather(*(
                reader.invoke(file_request(uploaded, offset=offset, limit=CHUNK))
                for offset in range(0, uploaded.size, CHUNK))), client=reader)
        reader_home = reader.client.home_dc
    got = b"".join(bytes(chunk.bytes) for chunk in chunks)
    digest = hashlib.sha256(got).hexdigest()
    demo.tell(f"{len(got)} bytes from DC {uploaded.dc_id}, sha256 {digest[:16]}... "
              f"{'matches' if got == data else 'DIFFERS from'} the upload")
    events = narrator.events[before:]
    expect(reader_home == READER_DC, f"the second account's home DC is {reader_home}")
    expect(any(isinstance(e, ExportingAuthorization) and (e.dc_id, e.home) == (home, READER_DC)
               for e in events),
           f"no auth.exportAuthorization for DC {home} on DC {READER_DC}")
    expect(any(isinstance(e, AuthorizationImported) and e.dc_id == home for e in events),
           f"DC {home} never accepted the second account's authorization")
    expect(got == data, f"downloaded {len(got)} bytes with sha256 {digest}, uploaded "
                        f"{len(data)} with sha256 {hashlib.sha256(data).hexdigest()}")
    assert demo.server is not None
    redirected = demo.server.executed("upload.getFile", READER_DC)
    served = demo.server.executed("upload.getFile", home)
    expect(redirected == len(chunks) == served,
           f"upload.getFile ran {redirected} times on DC {READER_DC} (then FILE_MIGRATE_{home})"
           f" and {served} times on DC {home}, expected {len(chunks)} each")


async def user_migrate(demo: Demo) -> None:
    client = demo.live
    old = client.client.home_dc
    demo.running.cluster.migrate_user(demo.phone, MOVED_TO_DC)
    demo.running.wake()
    demo.tell(f"cluster: user {demo.user_id} moved to DC {MOVED_TO_DC} (migrate_user)")
    users = await demo.measured("users.getUsers([inputUserSelf])", USER_MIGRATE,
                                client.invoke(self_request()))
    moves = [(m.old, m.new, m.reason) for m in demo.narrator.of(HomeDcChanged)]
    expect(moves == [(old, MOVED_TO_DC, "USER_MIGRATE_X")],
           f"expected the home DC to move {old} -> {MOVED_TO_DC} on USER_MIGRATE_X, saw {moves}")
    expect(any(e.dc_id == MOVED_TO_DC and e.home == old
               for e in demo.narrator.of(ExportingAuthorization)),
           f"the authorization was not exported from DC {old} for DC {MOVED_TO_DC}")
    expect(users and users[0].self and users[0].id == demo.user_id,
           f"users.getUsers answered {users!r:.200}")
    demo.tell(f"users.getUsers: user {users[0].id}, home DC {client.client.home_dc}")


async def resume(demo: Demo) -> None:
    home = demo.live.client.home_dc
    await demo.live.aclose()
    closed = demo.narrator.take_closed()
    demo.tell(f"client closed, and its {len(closed)} connections: {', '.join(closed)}")
    with SQLiteStore(demo.session_path) as store:
        state = store.load()
    expect(state is not None, f"{demo.session_path} holds no state")
    assert state is not None
    keyed = [dc.dc_id for dc in state.dcs if dc.auth_key is not None]
    signed = [dc.dc_id for dc in state.dcs if dc.authorized]
    demo.tell(f"{SESSION_FILE}: home DC {state.home_dc}, auth keys for DCs "
              f"{', '.join(map(str, keyed))}, authorized on {', '.join(map(str, signed))}")
    client = demo.open_client()
    await client.__aenter__()
    expect(client.client.home_dc == home,
           f"reopened with home DC {client.client.home_dc}, expected {home}")
    users = await demo.measured("users.getUsers([inputUserSelf])", RESUME,
                                client.invoke(self_request()))
    keys = demo.narrator.of(AuthKeyCreated)
    expect(not keys, f"the reopened client made {len(keys)} new auth key(s): "
                     f"{[k.dc_id for k in keys]}")
    assert demo.server is not None
    made = demo.server.keys()
    expect(not made, f"the cluster made new auth keys on DCs {sorted(made)}")
    expect(users and users[0].self and users[0].id == demo.user_id,
           f"users.getUsers answered {users!r:.200}")
    ran = demo.server.executed("users.getUsers", home)
    expect(ran == 1, f"users.getUsers ran {ran} times on home DC {home}")
    demo.tell(f"users.getUsers ran on DC {home}: user {users[0].id}")


STEPS: tuple[Step, ...] = (
    Step(1, "cold start",
         f"cold start on DC {FIRST_DC}: connect, make its auth key, "
         f"help.getConfig and help.getNearestDc", COLD_START, cold_start),
    Step(2, "phone migrate",
         f"sign in with {_show_phone(phone_of(SIGN_IN_DC))}, a number of DC {SIGN_IN_DC}: "
         f"PHONE_MIGRATE_{SIGN_IN_DC} at auth.sendCode, then auth.signIn",
         PHONE_MIGRATE_WARM + ONE_REQUEST, phone_migrate),
    Step(3, "file transfer",
         f"upload {UPLOAD_SIZE // 1024} KiB to the home DC; a second account on DC "
         f"{READER_DC} downloads it from there (FILE_MIGRATE, export and import)",
         2 * ONE_REQUEST + COLD_START + ONE_REQUEST + FILE_MIGRATE, file_transfer),
    Step(4, "user migrate",
         f"the cluster moves the user to DC {MOVED_TO_DC}: USER_MIGRATE_{MOVED_TO_DC} "
         f"at users.getUsers", USER_MIGRATE, user_migrate),
    Step(5, "resume",
         "close, reopen from the session file: no handshake, the request on the home DC",
         RESUME, resume),
)


# --- running -----------------------------------------------------------------------------------

async def _run_step(demo: Demo, step: Step, report: StepReport) -> None:
    """Run one step against a fresh view of the events and the server counters; raise
    :class:`StepFailed` with the reason if it did not do what it says."""
    demo.narrator.events.clear()
    demo.trips = 0
    demo.server = server = _ServerView(demo.running)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(STEP_TIMEOUT):
            await step.body(demo)
    except StepFailed:
        raise
    except TimeoutError:
        raise StepFailed(f"did not finish within {STEP_TIMEOUT:g} s") from None
    except Exception as exc:
        raise StepFailed(f"{type(exc).__name__}: {exc}") from exc
    finally:
        report.seconds = time.perf_counter() - started
        report.round_trips = demo.trips
        for line in server.lines():
            demo.tell(line)


async def run(out: TextIO = sys.stdout, *, quiet: bool = False,
              before_step: BeforeStep | None = None,
              err: TextIO = sys.stderr) -> int:
    """Run the demo, print its trace to ``out`` and a failure to ``err``; 0 if every step did
    what it says, 1 otherwise."""
    wall = time.perf_counter()
    reports = [StepReport(step.number, step.name, step.minimum) for step in STEPS]
    config = ClusterConfig(dc_count=5, test_mode=True, nearest_dc=FIRST_DC)
    failed: tuple[Step, str] | None = None
    with tempfile.TemporaryDirectory(prefix="sansio_mtdc-demo-") as workdir:
        async with serve_cluster(config) as running:
            demo = Demo(running, workdir, out, quiet=quiet)
            if not quiet:
                ports = ", ".join(f"{dc}: {port}" for dc, (_, port) in
                                  sorted(running.addresses.items()))
                host = next(iter(running.addresses.values()))[0]
                print(f"reference cluster: {config.dc_count} DCs on {host} (ports {ports}); "
                      f"session file {demo.session_path}", file=out)
            try:
                for step, report in zip(STEPS, reports):
                    if not quiet:
                        print(f"\n{step.number}. {step.header}", file=out, flush=True)
                    if before_step is not None:
                        before_step(step, running)
                        running.wake()
                    try:
                        await _run_step(demo, step, report)
                    except StepFailed as exc:
                        report.error = str(exc)
                        failed = (step, str(exc))
                        if not quiet:
                            print(f"  FAILED: {exc}", file=out)
                        break
                    if not quiet:
                        print(f"  ok: {_trips(report.round_trips or 0)} (minimum "
                              f"{report.minimum}), {report.seconds or 0:.3f} s", file=out)
            finally:
                if demo.client is not None:
                    await demo.client.aclose()
    _print_summary(out, reports, time.perf_counter() - wall, quiet=quiet)
    if failed is not None:
        step, reason = failed
        print(f"demo: step {step.number} ({step.name}) failed: {reason}", file=err)
        return 1
    return 0


def _print_summary(out: TextIO, reports: list[StepReport], wall: float, *,
                   quiet: bool) -> None:
    if not quiet:
        print(file=out)
    print(f"{'step':<18} {'round trips':>11} {'minimum':>8} {'time':>9}  result", file=out)
    for r in reports:
        trips = "-" if r.round_trips is None else str(r.round_trips)
        seconds = "-" if r.seconds is None else f"{r.seconds:.3f} s"
        if r.error is not None:
            result = "FAILED"
        elif r.seconds is None:
            result = "not run"
        else:
            result = "ok" + ("" if (r.round_trips or 0) <= r.minimum
                             else f" (+{(r.round_trips or 0) - r.minimum} over the minimum)")
        print(f"{r.number}. {r.name:<15} {trips:>11} {r.minimum:>8} {seconds:>9}  "
              f"{result}", file=out)
    done = [r for r in reports if r.round_trips is not None and r.error is None]
    print(f"{'total':<18} {sum(r.round_trips or 0 for r in done):>11} "
          f"{sum(r.minimum for r in done):>8} {wall:>7.3f} s  (wall time)", file=out)


@contextlib.contextmanager
def _logging_to_stderr(verbose: bool) -> Iterator[None]:
    if not verbose:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(relativeCreated)8.1f ms %(name)s: %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def main(*, verbose: bool = False, quiet: bool = False, out: TextIO | None = None,
         err: TextIO | None = None, before_step: BeforeStep | None = None) -> int:
    """The ``demo`` command: :func:`run` on a new event loop."""
    with _logging_to_stderr(verbose):
        return asyncio.run(run(out or sys.stdout, quiet=quiet, before_step=before_step,
                               err=err or sys.stderr))
