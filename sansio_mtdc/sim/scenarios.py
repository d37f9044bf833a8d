"""Ready-made worlds and the DC scenarios whose round trips the library is measured by.

A :class:`World` is a cluster, a simulated network and a client, with methods to sign in with a
test number, fetch a file, restart from the saved state.  :data:`SCENARIOS` lists the standard
scenarios with the protocol's minimum round trips (counting a TCP connect as one and the
handshake as three) and, where known, Telethon's; each ``run(seed)`` builds its world, measures
the scenario alone and checks its outcome.  The test suite asserts the counts; the ``rtt``
benchmark prints them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..client.config import ClientConfig, Limits
from ..client.events import StateChanged
from ..client.machine import Client
from ..client.state import ClientState
from ..server import Cluster
from .addresses import cluster_config
from .network import SimNetwork

__all__ = [
    "SCENARIOS",
    "Measured",
    "Scenario",
    "World",
    "file_request",
    "phone_of",
    "seeded",
    "send_code_request",
    "sign_in_request",
]


def seeded(seed: object) -> Callable[[int], bytes]:
    """A deterministic ``random(n)`` for a seed: SHAKE-256 of the seed and a counter (the core
    draws no randomness of its own; never use this for real keys)."""
    key = str(seed).encode()
    counter = 0

    def draw(size: int) -> bytes:
        nonlocal counter
        counter += 1
        return hashlib.shake_256(key + counter.to_bytes(8, "little")).digest(size)

    return draw


def phone_of(dc_id: int, number: int = 1234) -> str:
    """The test phone number of a user living on ``dc_id`` (``99966XYYYY``)."""
    return f"99966{dc_id}{number:04d}"


def send_code_request(phone: str) -> Any:
    from ..tl import api

    return api.functions.auth.SendCode(phone_number=phone, api_id=1, api_hash="sim",
                                       settings=api.types.CodeSettings())


def sign_in_request(phone: str, phone_code_hash: str) -> Any:
    from ..tl import api

    return api.functions.auth.SignIn(phone_number=phone, phone_code_hash=phone_code_hash,
                                     phone_code=phone[5] * 5)


def file_request(document: Any, *, offset: int = 0, limit: int = 1 << 20) -> Any:
    """upload.getFile for a part of a document the cluster stores."""
    from ..tl import api

    location = api.types.InputDocumentFileLocation(
        id=document.id, access_hash=document.access_hash,
        file_reference=document.file_reference, thumb_size="")
    return api.functions.upload.GetFile(location=location, offset=offset, limit=limit)


def self_request() -> Any:
    """users.getUsers([inputUserSelf]): a request only the home DC serves."""
    from ..tl import api

    return api.functions.users.GetUsers(id=[api.types.InputUserSelf()])


@dataclass
class World:
    """A cluster, its network and one client (see :meth:`make`)."""

    cluster: Cluster
    net: SimNetwork
    client: Client
    seed: object = 0
    options: dict[str, Any] = field(default_factory=dict)
    restarts: int = 0

    @classmethod
    def make(cls, *, seed: object = 0, dc_count: int = 5, home: int = 2,
             nearest: int | None = None, latency: float = 0.05,
             limits: Limits | None = None, state: ClientState | None = None,
             cluster_options: dict[str, Any] | None = None, **options: Any) -> World:
        """A fresh cluster of ``dc_count`` DCs and a client starting on ``home`` (the
        cluster's nearest DC is ``home`` unless ``nearest`` says otherwise)."""
        config = cluster_config(dc_count, nearest_dc=nearest if nearest is not None else home,
                                **(cluster_options or {}))
        cluster = Cluster(config, random=seeded(f"cluster {seed}"))
        net = SimNetwork(cluster, latency=latency)
        settings: dict[str, Any] = {"dc": home, **options}
        if limits is not None:
            settings["limits"] = limits
        client = Client(net.client_config(**settings), state=state,
                        random=seeded(f"client {seed}"))
        return cls(cluster, net, client, seed, settings)

    @property
    def now(self) -> float:
        return self.net.now

    def invoke(self, request: Any, **options: Any) -> int:
        return self.client.invoke(request, now=self.net.now, **options)

    def run(self, *rids: int, max_time: float = 600.0) -> bool:
        """Run until every request of ``rids`` ended."""
        return self.net.run(self.client, until=lambda: self.net.ended(*rids),
                            max_time=max_time)

    def call(self, request: Any, **options: Any) -> Any:
        """Invoke, run until it ends, and return the result (AssertionError on failure)."""
        rid = self.invoke(request, **options)
        self.run(rid)
        return self.net.result(rid)

    def sign_in(self, phone: str) -> Any:
        """auth.sendCode and auth.signIn with the test code; the signed-in user."""
        sent = self.call(send_code_request(phone))
        return self.call(sign_in_request(phone, sent.phone_code_hash)).user

    def saved_state(self) -> ClientState:
        """The state of the last StateChanged event."""
        changes = self.net.of_type(StateChanged)
        return changes[-1].state if changes else self.client.state

    def restart(self, **options: Any) -> Client:
        """Close the client and start a new one from its saved state, on the same network."""
        state = self.saved_state()
        self.client.close(now=self.net.now)
        self.net.run(self.client, until=lambda: True)
        self.restarts += 1
        settings = {**self.options, **options}
        self.client = Client(self.net.client_config(**settings), state=state,
                             random=seeded(f"client {self.seed} after {self.restarts}"))
        return self.client


@dataclass(frozen=True)
class Measured:
    """What a scenario took, in round trips, and whether it ended as it should."""

    round_trips: float
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class Scenario:
    name: str
    minimum: int
    run: Callable[[object], Measured]
    telethon: int | None = None


def _measure(world: World, request: Any, check: Callable[[Any], bool] | None = None,
             **options: Any) -> Measured:
    start = world.now
    rid = world.invoke(request, **options)
    world.run(rid)
    outcome = world.net.outcome(rid)
    value = getattr(outcome, "value", None)
    ok = value is not None and (check is None or check(value))
    return Measured(world.net.round_trips(start), ok, repr(outcome)[:200])


def _signed_in(seed: object, *, dc_count: int = 5, home: int = 2) -> World:
    world = World.make(seed=seed, dc_count=dc_count, home=home)
    world.sign_in(phone_of(home))
    return world


def cold_start(seed: object = 0) -> Measured:
    """A new state; the first request on the home DC (connect, handshake, the request, with
    help.getConfig and help.getNearestDc in the same container)."""
    world = World.make(seed=seed)
    return _measure(world, send_code_request(phone_of(2)),
                    lambda value: bool(value.phone_code_hash))


def resume(seed: object = 0) -> Measured:
    """A signed-in user restarts from the saved state: connect, then the request."""
    world = _signed_in(seed)
    world.restart()
    return _measure(world, self_request(), lambda users: users[0].self)


def phone_migrate(seed: object = 0) -> Measured:
    """A new state; auth.sendCode for a number of DC 3 meets PHONE_MIGRATE_3 on DC 2."""
    world = World.make(seed=seed)
    measured = _measure(world, send_code_request(phone_of(3)),
                        lambda value: bool(value.phone_code_hash))
    return Measured(measured.round_trips, measured.ok and world.client.home_dc == 3,
                    measured.detail)


def _file_world(seed: object) -> tuple[World, Any]:
    world = _signed_in(seed)
    document = world.cluster.put_file(4, bytes(range(256)) * 64, name="f", mime="a/b")
    return world, document


def file_migrate(seed: object = 0) -> Measured:
    """Signed in on DC 2, no key on DC 4: upload.getFile of a file on DC 4 meets
    FILE_MIGRATE_4, then the export on DC 2 runs while DC 4's handshake does."""
    world, document = _file_world(seed)
    return _measure(world, file_request(document), lambda f: len(f.bytes) == 256 * 64)


def file_dc_given(seed: object = 0) -> Measured:
    """The same download with the file's dc_id given: no redirect."""
    world, document = _file_world(seed)
    return _measure(world, file_request(document), lambda f: len(f.bytes) == 256 * 64, dc=4)


def file_dc_ready(seed: object = 0) -> Measured:
    """The same, with DC 4 already authorized and its media connection up."""
    world, document = _file_world(seed)
    world.call(file_request(document, limit=4096), dc=4)
    return _measure(world, file_request(document), lambda f: len(f.bytes) == 256 * 64, dc=4)


def user_migrate(seed: object = 0) -> Measured:
    """Signed in on DC 2; the user moves to DC 4 (no key there): USER_MIGRATE_4, export on
    DC 2 during DC 4's handshake, import and the request together."""
    world = _signed_in(seed)
    world.cluster.migrate_user(phone_of(2), 4)
    measured = _measure(world, self_request(), lambda users: users[0].self)
    return Measured(measured.round_trips, measured.ok and world.client.home_dc == 4,
                    measured.detail)


def auth_key_unregistered(seed: object = 0) -> Measured:
    """DC 4 authorized and its media connection up, then AUTH_KEY_UNREGISTERED there: a new
    export on the home DC, then import and the request again together."""
    world, document = _file_world(seed)
    world.call(file_request(document, limit=4096), dc=4)
    world.cluster.inject_error(401, "AUTH_KEY_UNREGISTERED", method="upload.getFile", dc_id=4)
    return _measure(world, file_request(document), lambda f: len(f.bytes) == 256 * 64, dc=4)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("cold start, first request on the home DC", 5, cold_start),
    Scenario("resume from a saved state", 2, resume),
    Scenario("PHONE_MIGRATE_X at auth.sendCode, cold start", 10, phone_migrate),
    Scenario("FILE_MIGRATE_X, signed in, no key on X", 6, file_migrate, telethon=8),
    Scenario("file on X with its dc_id given, no key on X", 5, file_dc_given),
    Scenario("file on X with its dc_id, X authorized and connected", 1, file_dc_ready),
    Scenario("USER_MIGRATE_X, signed in, no key on X", 6, user_migrate),
    Scenario("AUTH_KEY_UNREGISTERED on a media DC, connection up", 3, auth_key_unregistered),
)


def new_config(world: World, **options: Any) -> ClientConfig:
    """The client configuration of ``world`` with some ``options`` changed."""
    return world.net.client_config(**{**world.options, **options})
