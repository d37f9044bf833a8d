"""Fuzz the client half of the handshake: the exchange is run once with a real server half, and
for each input the client, copied at one of its three steps, is fed that step's server answer
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


def _prefix() -> tuple[list[ClientHandshake], list[bytes]]:
    """The client waiting at each step, and the server's valid answer for that step."""
    client = ClientHandshake(dc_id=2, keys=REFERENCE_CLUSTER_KEYS,
                             random=random.Random("fuzz-client").randbytes, now=NOW)
    server = ServerHandshake(private_key=reference_cluster_key(), dc_id=2,
                             random=random.Random("fuzz-server").randbytes, now=NOW)
    steps, answers = [], []
    while not client.done:
        for payload in client.data_to_send():
            server.receive(payload, now=NOW)
        steps.append(copy.copy(client))
        (answer,) = server.data_to_send()
        answers.append(answer)
        client.receive(answer, now=NOW)
    return steps, answers


STEPS, ANSWERS = _prefix()


def mutate(answer: bytes, data: bytes) -> bytes:
    """One of: XOR the input into the answer at an offset, splice it in, replace the body, or
    use the input as the whole payload."""
    if len(data) < 3:
        return answer
    how, where, rest = data[0] % 4, int.from_bytes(data[1:3], "little"), data[3:]
    if how == 0:
        out = bytearray(answer)
        for i, b in enumerate(rest):
            out[(where + i) % len(out)] ^= b
        return bytes(out)
    if how == 1:
        cut = where % (len(answer) + 1)
        return answer[:cut] + rest
    if how == 2:
        body = answer[20:24] + rest
        return pack_plain(int.from_bytes(answer[8:16], "little"), body + bytes(-len(body) & 3))
    return rest


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    step = data[0] % len(STEPS)
    client = copy.copy(STEPS[step])
    try:
        client.receive(mutate(ANSWERS[step], data[1:]), now=NOW)
    except RemoteProtocolError:
        return


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
