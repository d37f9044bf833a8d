"""Fuzz the server half of the handshake: the exchange is run once with a real client, and for
each input the server, copied at one of its three steps, is fed that step's client request
mutated by the input.  Only RemoteProtocolError subclasses may come out."""

from __future__ import annotations

import copy
import sys

import atheris

with atheris.instrument_imports():
    from _handshake import NOW, exchange, mutate

    from sansio_mtdc.errors import RemoteProtocolError

_, _, STEPS, REQUESTS = exchange()


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
