"""The flows the fault tests cut at every step: each sets up its world without faults, then
starts its requests and says how each must end and where it must run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sansio_mtdc.client.config import Limits
from sansio_mtdc.client.errors import FloodWaitError, RedirectLoopError, RequestCancelled
from sansio_mtdc.sim.scenarios import send_code_request
from sansio_mtdc.tl import api

from .worlds import World, file_request, phone_of, self_request, signed_in

#: generous limits: a flow must survive one cut anywhere without running out of budget
LIMITS = Limits(reconnect_base=0.2, max_reconnects=8)


@dataclass(frozen=True)
class Expect:
    """Request ``rid`` must end with a result (``ok``), or with an error of type ``error``, or
    either (both None); when it succeeds, ``method`` must have run exactly once on ``dc_id``."""

    rid: int
    method: str
    dc_id: int
    ok: bool | None = True
    error: type[BaseException] | None = None


@dataclass(frozen=True)
class Flow:
    name: str
    setup: Callable[[object], World]
    act: Callable[[World], list[Expect]]


def _cold(seed: object) -> World:
    return World.make(seed=seed, limits=LIMITS)


def _signed(seed: object) -> World:
    return signed_in(seed, limits=LIMITS)


def _media_ready(seed: object) -> World:
    world = signed_in(seed, authorized=(4,), limits=LIMITS)
    document = world.cluster.put_file(4, b"m" * 100, name="f", mime="a/b")
    world.call(file_request(document), dc=4)
    return world


def _restarted(seed: object) -> World:
    world = _signed(seed)
    world.restart()
    return world


def cold_start(world: World) -> list[Expect]:
    rid = world.invoke(send_code_request(phone_of(2)))
    return [Expect(rid, "auth.sendCode", 2)]


def resume(world: World) -> list[Expect]:
    return [Expect(world.invoke(self_request()), "users.getUsers", 2)]


def phone_migrate(world: World) -> list[Expect]:
    return [Expect(world.invoke(send_code_request(phone_of(3))), "auth.sendCode", 3)]


def network_migrate(world: World) -> list[Expect]:
    world.cluster.inject_error(303, "NETWORK_MIGRATE_3", method="auth.sendCode", dc_id=2)
    return [Expect(world.invoke(send_code_request(phone_of(3))), "auth.sendCode", 3)]


def file_migrate(world: World) -> list[Expect]:
    document = world.cluster.put_file(4, b"f" * 100, name="f", mime="a/b")
    return [Expect(world.invoke(file_request(document)), "upload.getFile", 4)]


def file_dc_given(world: World) -> list[Expect]:
    document = world.cluster.put_file(4, b"f" * 100, name="f", mime="a/b")
    return [Expect(world.invoke(file_request(document), dc=4), "upload.getFile", 4),
            Expect(world.invoke(file_request(document), dc=4), "upload.getFile", 4)]


def stats_migrate(world: World) -> list[Expect]:
    document = world.cluster.put_file(3, b"s" * 100, name="f", mime="a/b")
    world.cluster.inject_error(303, "STATS_MIGRATE_3", method="upload.getFileHashes", dc_id=2)
    request = api.functions.upload.GetFileHashes(location=file_request(document).location,
                                                  offset=0)
    return [Expect(world.invoke(request), "upload.getFileHashes", 3)]


def user_migrate(world: World) -> list[Expect]:
    world.cluster.migrate_user(phone_of(2), 4)
    return [Expect(world.invoke(self_request()), "users.getUsers", 4)]


def auth_key_unregistered(world: World) -> list[Expect]:
    world.cluster.inject_error(401, "AUTH_KEY_UNREGISTERED", method="upload.getFile", dc_id=4)
    document = world.cluster.files(4)[0].document
    return [Expect(world.invoke(file_request(document), dc=4), "upload.getFile", 4)]


def forgotten_key(world: World) -> list[Expect]:
    world.cluster.forget_auth_key(4)
    document = world.cluster.files(4)[0].document
    return [Expect(world.invoke(file_request(document), dc=4), "upload.getFile", 4)]


def flood_wait(world: World) -> list[Expect]:
    world.cluster.inject_flood_wait("users.getUsers", 2)
    return [Expect(world.invoke(self_request()), "users.getUsers", 2)]


def server_error(world: World) -> list[Expect]:
    world.cluster.inject_error(500, "INTERNAL", method="users.getUsers")
    return [Expect(world.invoke(self_request()), "users.getUsers", 2)]


def redirect_loop(world: World) -> list[Expect]:
    world.cluster.inject_error(303, "FILE_MIGRATE_3", method="upload.getFileHashes", dc_id=2)
    world.cluster.inject_error(303, "FILE_MIGRATE_2", method="upload.getFileHashes", dc_id=3)
    document = world.cluster.put_file(3, b"s" * 100, name="f", mime="a/b")
    request = api.functions.upload.GetFileHashes(location=file_request(document).location,
                                                  offset=0)
    return [Expect(world.invoke(request), "upload.getFileHashes", 3, ok=False,
                   error=RedirectLoopError)]


def flood_above_ceiling(world: World) -> list[Expect]:
    world.cluster.inject_flood_wait("users.getUsers", 3600)
    return [Expect(world.invoke(self_request()), "users.getUsers", 2, ok=False,
                   error=FloodWaitError),
            Expect(world.invoke(api.functions.users.GetFullUser(id=api.types.InputUserSelf())),
                   "users.getFullUser", 2)]


def timeout_and_cancel(world: World) -> list[Expect]:
    world.cluster.delay_answers(3.0, method="users.getFullUser")
    slow = world.invoke(api.functions.users.GetFullUser(id=api.types.InputUserSelf()),
                        timeout=1.0)
    cancelled = world.invoke(self_request())
    world.client.cancel(cancelled, now=world.now)
    fine = world.invoke(self_request())
    return [Expect(slow, "users.getFullUser", 2, ok=None),
            Expect(cancelled, "users.getUsers", 2, ok=False, error=RequestCancelled),
            Expect(fine, "users.getUsers", 2)]


FLOWS = (
    Flow("cold start", _cold, cold_start),
    Flow("resume", _restarted, resume),
    Flow("PHONE_MIGRATE", _cold, phone_migrate),
    Flow("NETWORK_MIGRATE", _cold, network_migrate),
    Flow("FILE_MIGRATE", _signed, file_migrate),
    Flow("file dc given", _signed, file_dc_given),
    Flow("STATS_MIGRATE", _signed, stats_migrate),
    Flow("USER_MIGRATE", _signed, user_migrate),
    Flow("AUTH_KEY_UNREGISTERED", _media_ready, auth_key_unregistered),
    Flow("-404", _media_ready, forgotten_key),
    Flow("FLOOD_WAIT", _signed, flood_wait),
    Flow("FLOOD_WAIT above the ceiling", _signed, flood_above_ceiling),
    Flow("redirect loop", _signed, redirect_loop),
    Flow("5xx", _signed, server_error),
    Flow("timeout and cancel", _signed, timeout_and_cancel),
)
