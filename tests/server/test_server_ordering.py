"""invokeAfterMsg(s) against a model: any set of requests naming each other (or messages never
sent), arriving in any order, ends with each request run at most once, and only after
everything it names succeeded."""

from __future__ import annotations

import struct
from functools import cache
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sansio_mtdc.crypto.mtproto2 import AuthKey
from sansio_mtdc.tl import api

from .wiring import NOW, Client, cluster, installed_key

F = api.functions
SESSION_ID = 77
BASE = (int(NOW * 2**32) & ~3) + (1 << 20)
#: a request that succeeds, and one whose handler runs and fails (PHONE_CODE_HASH_EMPTY)
SUCCEEDS = F.help.GetConfig()
FAILS = F.auth.SignIn(phone_number="9996621234", phone_code_hash="", phone_code="1")


def packet(key: AuthKey, salt: int, msg_id: int, seqno: int, body: bytes) -> bytes:
    plaintext = struct.pack("<qqqii", salt, SESSION_ID, msg_id, seqno, len(body)) + body
    return key.encrypt(plaintext, bytes(12 + (-(len(plaintext) + 12) & 15)), 0)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[bool], list[list[int]], list[int]]:
    """``ok[i]``: whether request i succeeds when it runs; ``deps[i]``: what it waits for
    (indices; ``n`` and above are messages never sent); ``order``: the arrival order."""
    n = draw(st.integers(1, 5))
    ok = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    deps = draw(st.lists(st.lists(st.integers(0, n + 1), max_size=3, unique=True),
                         min_size=n, max_size=n))
    order = draw(st.permutations(range(n)))
    return ok, deps, list(order)


def expected(ok: list[bool], deps: list[list[int]]) -> tuple[list[bool], list[bool]]:
    """``ran[i]``, ``succeeded[i]`` of the model: a request runs when everything it names
    succeeded; a cycle or a message never sent never succeeds."""
    n = len(ok)

    @cache
    def succeeded(i: int, seen: frozenset[int]) -> bool:
        return ran(i, seen) and ok[i]

    @cache
    def ran(i: int, seen: frozenset[int]) -> bool:
        return all(j < n and j not in seen and succeeded(j, seen | {i}) for j in deps[i])

    return ([ran(i, frozenset()) for i in range(n)],
            [succeeded(i, frozenset()) for i in range(n)])


@settings(max_examples=60, deadline=None)
@given(scenario=scenarios())
def test_any_dependency_graph_in_any_order(
        scenario: tuple[list[bool], list[list[int]], list[int]]) -> None:
    ok, deps, order = scenario
    c = cluster(require_init_connection=False)
    client = Client(c, 2)
    key, salt = installed_key(c, 2)
    for i in order:
        query: Any = SUCCEEDS if ok[i] else FAILS
        if deps[i]:
            query = F.InvokeAfterMsgs(msg_ids=[BASE + 4 * j for j in deps[i]], query=query)
        client.send_raw(client.codec.encode(packet(key, salt, BASE + 4 * i, 2 * i + 1,
                                                   bytes(query))))
    c.handle_timer(NOW + 1)  # what still waits times out
    assert c.get_timer() is None
    ran, succeeded = expected(ok, deps)
    slot = c.state.dc(2).sessions[(key.id, SESSION_ID)]
    assert [slot.outcomes[BASE + 4 * i] for i in range(len(ok))] == succeeded
    assert not slot.waiting
    assert c.counters.executions("help.getConfig") == sum(r and o for r, o in zip(ran, ok))
    assert c.counters.executions("auth.signIn") == sum(r and not o for r, o in zip(ran, ok))
    assert not client.conn.closed
