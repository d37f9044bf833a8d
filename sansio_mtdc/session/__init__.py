"""One encrypted MTProto session: msg_ids and seqnos, salts, containers, acks, gzip, results and
errors, every service message, resends and pings; the client side and the server side.

* :class:`ClientSession`: the client's side, for the multi-DC client machine.
* :class:`ServerSession` (+ :func:`auth_key_id_of`, :func:`decrypt_client_packet`,
  :func:`session_id_of`, :class:`SaltSchedule`): the server's side, for the reference cluster.
* :mod:`.events`: what both tell their callers; :mod:`.errors`: why a request failed.
* :class:`MsgIdClock`: msg_ids from the injected time (the handshake uses it too).
* :mod:`.wire`: the hand-written encodings both sides share.

Importing this package is cheap: the TL schemas are parsed when a message first needs them.
"""

from __future__ import annotations

from .client import ClientSession
from .config import InitConnectionParams, ServerLimits, SessionLimits
from .errors import (
    ChainBroken,
    LimitExceeded,
    MessageRejected,
    PingTimeout,
    RequestCancelled,
    ResultUndecodable,
    SessionRequestError,
    TooManyResends,
)
from .events import (
    Acked,
    Answer,
    ClockCorrected,
    ConnectionFailed,
    Failed,
    IncomingRequest,
    SaltChanged,
    ServerEvent,
    SessionEvent,
    SessionReset,
    Update,
)
from .msgid import MsgIdClock
from .salts import SaltSchedule
from .server import ServerSession, auth_key_id_of, decrypt_client_packet, session_id_of

__all__ = [
    "Acked",
    "Answer",
    "ChainBroken",
    "ClientSession",
    "ClockCorrected",
    "ConnectionFailed",
    "Failed",
    "IncomingRequest",
    "InitConnectionParams",
    "LimitExceeded",
    "MessageRejected",
    "MsgIdClock",
    "PingTimeout",
    "RequestCancelled",
    "ResultUndecodable",
    "SaltChanged",
    "SaltSchedule",
    "ServerEvent",
    "ServerLimits",
    "ServerSession",
    "SessionEvent",
    "SessionLimits",
    "SessionRequestError",
    "SessionReset",
    "TooManyResends",
    "Update",
    "auth_key_id_of",
    "decrypt_client_packet",
    "session_id_of",
]
