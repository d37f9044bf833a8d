"""Random bytes into each half at each step raise only RemoteProtocolError subclasses.

The machines are brought to each step once and copied (``copy.copy``) for every example.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any, TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

from sansio_mtdc.errors import RemoteProtocolError
from sansio_mtdc.handshake import ClientHandshake, ServerHandshake, pack_plain
from sansio_mtdc.tl import mtproto

from .peers import NOW, new_pair

M = TypeVar("M", ClientHandshake, ServerHandshake)

SETTINGS = settings(max_examples=300, deadline=None)


def fork(machine: M) -> M:
    return copy.copy(machine)


@cache
def client_steps() -> tuple[list[ClientHandshake], list[bytes]]:
    """The client at each of its three waiting steps, and the valid answer for each."""
    client, server = new_pair("garbage")
    steps, answers = [], []
    for _ in range(3):
        for payload in client.data_to_send():
            server.receive(payload, now=NOW)
        steps.append(fork(client))
        (answer,) = server.data_to_send()
        answers.append(answer)
        client.receive(answer, now=NOW)
    assert client.done
    return steps, answers


@cache
def server_steps() -> tuple[list[ServerHandshake], list[bytes]]:
    """The server at each of its three waiting steps, and the valid request for each."""
    client, server = new_pair("garbage-server")
    steps, requests = [], []
    for _ in range(3):
        steps.append(fork(server))
        (request,) = client.data_to_send()
        requests.append(request)
        server.receive(request, now=NOW)
        for payload in server.data_to_send():
            client.receive(payload, now=NOW)
    assert server.done
    return steps, requests


def constructor_ids(kind: str) -> list[int]:
    t, f = mtproto.types, mtproto.functions
    if kind == "client":
        classes: list[Any] = [t.ResPQ, t.ServerDHParamsOk, t.ServerDHParamsFail, t.DhGenOk,
                              t.DhGenRetry, t.DhGenFail]
    else:
        classes = [f.ReqPqMulti, f.ReqPq, f.ReqDHParams, f.SetClientDHParams]
    return [c.CONSTRUCTOR_ID for c in classes]


def feed(machine: ClientHandshake | ServerHandshake, payload: bytes) -> None:
    try:
        machine.receive(payload, now=NOW)
    except RemoteProtocolError:
        pass


@SETTINGS
@given(st.integers(0, 2), st.binary(max_size=700))
def test_client_raw_bytes(step: int, data: bytes) -> None:
    feed(fork(client_steps()[0][step]), data)


@SETTINGS
@given(st.integers(0, 2), st.integers(0, 5), st.binary(max_size=700),
       st.integers(0, 7).map(lambda n: 4 * n + 1))
def test_client_enveloped_answers(step: int, which: int, tail: bytes, msg_id: int) -> None:
    body = constructor_ids("client")[which].to_bytes(4, "little") + tail
    body += bytes(-len(body) & 3)
    feed(fork(client_steps()[0][step]), pack_plain(msg_id, body))


@SETTINGS
@given(st.integers(0, 2), st.data())
def test_client_mutated_answers(step: int, data: st.DataObject) -> None:
    steps, answers = client_steps()
    answer = bytearray(answers[step])
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(answer) - 1))
        answer[position] ^= data.draw(st.integers(1, 255))
    feed(fork(steps[step]), bytes(answer))


@SETTINGS
@given(st.integers(0, 2), st.binary(max_size=700))
def test_server_raw_bytes(step: int, data: bytes) -> None:
    feed(fork(server_steps()[0][step]), data)


@SETTINGS
@given(st.integers(0, 2), st.integers(0, 3), st.binary(max_size=400))
def test_server_enveloped_requests(step: int, which: int, tail: bytes) -> None:
    body = constructor_ids("server")[which].to_bytes(4, "little") + tail
    body += bytes(-len(body) & 3)
    feed(fork(server_steps()[0][step]), pack_plain(1 << 40, body))


@SETTINGS
@given(st.integers(0, 2), st.data())
def test_server_mutated_requests(step: int, data: st.DataObject) -> None:
    steps, requests = server_steps()
    request = bytearray(requests[step])
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(request) - 1))
        request[position] ^= data.draw(st.integers(1, 255))
    feed(fork(steps[step]), bytes(request))


def test_the_forks_are_independent() -> None:
    steps, answers = client_steps()
    one, two = fork(steps[1]), fork(steps[1])
    assert one.state is two.state is steps[1].state
    one.receive(answers[1], now=NOW)
    assert one.data_to_send() and two.data_to_send() == []
    assert two.state is steps[1].state is not one.state
    two.receive(answers[1], now=NOW)
    assert two.data_to_send()
    with_outbox = fork(new_pair("outbox")[0])
    copied = fork(with_outbox)
    assert with_outbox.data_to_send() == copied.data_to_send() != []
