"""Fuzz the server half of the handshake: the exchange is run once with a real client, and for
each input the server, copied at one of its three steps, is fed that step's client request
mutated by the input.  Only RemoteProtocolError subclasses may come out."""

from __future__ import annotations

import copy
import random
import sys

import atheris

with atheris.instrument_imports():
    from sansio_mtdc.crypto import REFERENCE_CLUSTER_KEYS, reference_cluster_key
    from sansio_mtdc.errors import RemoteProtocolError
    from sansio_mtdc.handshake import ClientHandshake, ServerHandshake, pack_plain

NOW = 1_782_740_645.5


def _prefix() -> tuple[list[ServerHandshake], list[bytes]]:
    """The server waiting at each step, and the client's valid request for that step."""
    client = ClientHandshake(dc_id=2, keys=REFERENCE_CLUSTER_KEYS,
                             random=random.Random("fuzz-client").randbytes, now=NOW)
    server = ServerHandshake(private_key=reference_cluster_key(), dc_id=2,
                             random=random.Random("fuzz-server").randbytes, now=NOW)
    steps, requests = [], []
    while not client.done:
        steps.append(copy.copy(server))
        (request,) = client.data_to_send()
        requests.append(request)
        server.receive(request, now=NOW)
        for payload in server.data_to_send():
            client.receive(payload, now=NOW)
    return steps, requests


STEPS, REQUESTS = _prefix()


def mutate(request: bytes, data: bytes) -> bytes:
    """One of: XOR the input into the request at an offset, splice it in, replace the body, or
    use the input as the whole payload."""
    if len(data) < 3:
        return request
    how, where, rest = data[0] % 4, int.from_bytes(data[1:3], "little"), data[3:]
    if how == 0:
        out = bytearray(request)
        for i, b in enumerate(rest):
            out[(where + i) % len(out)] ^= b
        return bytes(out)
    if how == 1:
        cut = where % (len(request) + 1)
        return request[:cut] + rest
    if how == 2:
        body = request[20:24] + rest
        return pack_plain(int.from_bytes(request[8:16], "little"), body + bytes(-len(body) & 3))
    return rest


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    step = data[0] % len(STEPS)
    server = copy.copy(STEPS[step])
    try:
        server.receive(mutate(REQUESTS[step], data[1:]), now=NOW)
    except RemoteProtocolError:
        return


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
