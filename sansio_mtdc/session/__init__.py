"""One encrypted MTProto session: msg_ids and seqnos, salts, containers, acks, gzip, results and
errors, every service message, resends and pings; the client side and the server side.

Importing this package is cheap: the TL schemas are parsed when a message first needs them.
"""

from __future__ import annotations

from .msgid import MsgIdClock

__all__ = ["MsgIdClock"]
