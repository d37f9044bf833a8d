"""Random request mixes under random faults: every request ends exactly once, and what
succeeded ran exactly once on the server."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sansio_mtdc.client.config import Limits
from sansio_mtdc.client.events import Failed, Result
from sansio_mtdc.errors import RequestError, RPCError
from sansio_mtdc.server.api.registry import METHODS, Method
from sansio_mtdc.tl import api

from .worlds import executed, file_request, phone_of, self_request, signed_in, single_ending

LIMITS = Limits(reconnect_base=0.2, max_reconnects=12, auth_repairs=2, export_retries=2,
                server_error_backoff=0.3, max_flood_retries=3)

requests = st.lists(st.tuples(
    st.sampled_from(["file", "file_dc", "self", "full_user", "nearest", "hashes"]),
    st.integers(1, 4)), min_size=1, max_size=8)
faults = st.lists(st.one_of(
    st.tuples(st.sampled_from(["cut", "split"]), st.sampled_from(["client", "server"]),
              st.integers(1, 30)),
    st.tuples(st.just("delay"), st.sampled_from(["client", "server"]), st.integers(1, 30)),
    st.tuples(st.sampled_from(["flood", "internal", "unregistered", "forget", "migrate",
                               "slow", "transfer_flood", "transfer_error", "bad_bytes",
                               "slow_transfer"]), st.just(""), st.integers(1, 4)),
), max_size=6)


#: file parts: every download asks for a different one, so each has its own counter
PART = 4096
PARTS = 16


@contextmanager
def downloads_counted() -> Iterator[Counter[tuple[int, int, int]]]:
    """Count the upload.getFile runs that served a part: (DC, document id, offset).  A run
    that only answered FILE_MIGRATE does not count."""
    runs: Counter[tuple[int, int, int]] = Counter()
    original = METHODS["upload.getFile"]

    def handler(request: Any, ctx: Any) -> Any:
        result = original.handler(request, ctx)
        runs[ctx.dc.id, request.location.id, request.offset] += 1
        return result

    METHODS["upload.getFile"] = Method(original.name, handler, original.needs_auth,
                                       original.home_only)
    try:
        yield runs
    finally:
        METHODS["upload.getFile"] = original


def start(world: Any, kind: str, dc_id: int, documents: dict[int, Any],
          index: int) -> tuple[int, str, int]:
    """Invoke one request; (rid, method, the DC whose counter counts it or 0 for any)."""
    document = documents[dc_id]
    if kind in ("file", "file_dc"):
        request = file_request(document, offset=index * PART, limit=PART)
        rid = world.invoke(request, dc=dc_id) if kind == "file_dc" else world.invoke(request)
        return rid, f"part {document.id} {index * PART}", dc_id
    if kind == "hashes":
        request = api.functions.upload.GetFileHashes(
            location=file_request(document).location, offset=0)
        return world.invoke(request, dc=dc_id), "upload.getFileHashes", dc_id
    if kind == "self":
        return world.invoke(self_request()), "users.getUsers", 0
    if kind == "full_user":
        request = api.functions.users.GetFullUser(id=api.types.InputUserSelf())
        return world.invoke(request), "users.getFullUser", 0
    return world.invoke(api.functions.help.GetNearestDc()), "help.getNearestDc", 0


def apply(world: Any, fault: tuple[str, str, int]) -> None:
    kind, side, number = fault
    cluster = world.cluster
    if kind in ("cut", "split"):
        getattr(world.net, kind)(side, number)
    elif kind == "delay":
        world.net.delay(side, number, 0.05 * number)
    elif kind == "flood":
        cluster.inject_flood_wait("upload.getFile", number, dc_id=number)
    elif kind == "internal":
        cluster.inject_error(500, "INTERNAL", method="users.getUsers", times=number % 3 + 1)
    elif kind == "unregistered" and number != 2:
        cluster.inject_error(401, "AUTH_KEY_UNREGISTERED", method="upload.getFile",
                             dc_id=number)
    elif kind == "forget" and number != 2:
        cluster.forget_auth_key(number)
    elif kind == "migrate":
        cluster.migrate_user(phone_of(2), number)
    elif kind == "slow":
        cluster.delay_answers(0.1 * number, method="upload.getFile")
    elif kind == "transfer_flood":
        method = "auth.importAuthorization" if number % 2 else "auth.exportAuthorization"
        cluster.inject_flood_wait(method, number)
    elif kind == "transfer_error":
        method = "auth.importAuthorization" if number % 2 else "auth.exportAuthorization"
        cluster.inject_error(500, "INTERNAL", method=method, times=number % 3 + 1)
    elif kind == "bad_bytes":
        cluster.inject_error(400, "AUTH_BYTES_INVALID", method="auth.importAuthorization",
                             times=number % 2 + 1)
    elif kind == "slow_transfer":
        cluster.delay_answers(0.3 * number, method="auth.exportAuthorization")


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(requests=requests, faults=faults, authorized=st.sets(st.sampled_from([1, 3, 4])))
def test_random_mix_ends_exactly_once(requests: list[tuple[str, int]],
                                      faults: list[tuple[str, str, int]],
                                      authorized: set[int]) -> None:
    with downloads_counted() as parts:
        world = signed_in("random", authorized=tuple(sorted(authorized)), limits=LIMITS)
        documents = {dc: world.cluster.put_file(dc, bytes([dc]) * PART * PARTS, name=f"f{dc}",
                                                mime="a/b")
                     for dc in range(1, 5)}
        before = executed(world.cluster)
        for fault in faults:
            apply(world, fault)
        started = [start(world, kind, dc, documents, index)
                   for index, (kind, dc) in enumerate(requests)]
        assert world.run(*(rid for rid, _, _ in started), max_time=3600), "a request hangs"
    ran = executed(world.cluster) - before
    for (dc_id, document_id, offset), count in parts.items():
        ran[dc_id, f"part {document_id} {offset}"] = count
    calls: Counter[tuple[int, str]] = Counter()
    successes: Counter[tuple[int, str]] = Counter()
    for rid, method, dc_id in started:
        ending = single_ending(world.net, rid)
        calls[dc_id, method] += 1
        if isinstance(ending, Result):
            successes[dc_id, method] += 1
        else:
            assert isinstance(ending, Failed)
            assert isinstance(ending.error, RPCError | RequestError), ending
    for (dc_id, method), count in calls.items():
        runs = (ran[dc_id, method] if dc_id else
                sum(n for (_, name), n in ran.items() if name == method))
        assert successes[dc_id, method] <= runs <= count, (method, dc_id, runs, ran)
        if successes[dc_id, method] == count:
            assert runs == count, (method, dc_id, runs)
    assert world.client.pending == 0
    world.client.close(now=world.now)
