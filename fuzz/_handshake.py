"""What both handshake targets share: one real exchange, recorded step by step, and the
mutation of a recorded packet by the fuzzer's input."""

from __future__ import annotations

import copy
import random

from sansio_mtdc.crypto import REFERENCE_CLUSTER_KEYS, reference_cluster_key
from sansio_mtdc.handshake import ClientHandshake, ServerHandshake, pack_plain

NOW = 1_782_740_645.5


def exchange() -> tuple[list[ClientHandshake], list[bytes], list[ServerHandshake], list[bytes]]:
    """The client waiting at each step with the server's valid answer for that step, and the
    server waiting at each step with the client's valid request for that step."""
    client = ClientHandshake(dc_id=2, keys=REFERENCE_CLUSTER_KEYS,
                             random=random.Random("fuzz-client").randbytes, now=NOW)
    server = ServerHandshake(private_key=reference_cluster_key(), dc_id=2,
                             random=random.Random("fuzz-server").randbytes, now=NOW)
    clients, answers, servers, requests = [], [], [], []
    while not client.done:
        servers.append(copy.copy(server))
        (request,) = client.data_to_send()
        requests.append(request)
        server.receive(request, now=NOW)
        clients.append(copy.copy(client))
        (answer,) = server.data_to_send()
        answers.append(answer)
        client.receive(answer, now=NOW)
    return clients, answers, servers, requests


def mutate(packet: bytes, data: bytes) -> bytes:
    """One of: XOR the input into the packet at an offset, splice it in, replace the body, or
    use the input as the whole payload."""
    if len(data) < 3:
        return packet
    how, where, rest = data[0] % 4, int.from_bytes(data[1:3], "little"), data[3:]
    if how == 0:
        out = bytearray(packet)
        for i, b in enumerate(rest):
            out[(where + i) % len(out)] ^= b
        return bytes(out)
    if how == 1:
        cut = where % (len(packet) + 1)
        return packet[:cut] + rest
    if how == 2:
        body = packet[20:24] + rest
        return pack_plain(int.from_bytes(packet[8:16], "little"), body + bytes(-len(body) & 3))
    return rest
