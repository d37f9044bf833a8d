"""Why a request ended at the session level without a result or an rpc_error.

Each is a :class:`~sansio_mtdc.errors.RequestError` carried by a ``Failed`` event, and keeps the
numbers that explain it.
"""

from __future__ import annotations

from ..errors import RemoteProtocolError, RequestError, TLDecodeError

__all__ = [
    "BAD_MSG_CODES",
    "ChainBroken",
    "LimitExceeded",
    "MessageRejected",
    "PingTimeout",
    "RequestCancelled",
    "ResultUndecodable",
    "SessionRequestError",
    "TooManyResends",
]

#: bad_msg_notification codes and what they say (service_messages_about_messages.txt)
BAD_MSG_CODES: dict[int, str] = {
    16: "msg_id too low",
    17: "msg_id too high",
    18: "incorrect two lower order msg_id bits",
    19: "container msg_id is the same as msg_id of a previously received message",
    20: "message too old to tell whether the server received it",
    32: "msg_seqno too low",
    33: "msg_seqno too high",
    34: "an even msg_seqno expected, but odd received",
    35: "odd msg_seqno expected, but even received",
    48: "incorrect server salt",
    64: "invalid container",
}


class SessionRequestError(RequestError):
    """A request ended for a reason the session found."""


class RequestCancelled(SessionRequestError):
    """The caller cancelled the request; if it had been sent, the server was asked to drop its
    answer (rpc_drop_answer)."""

    def __init__(self) -> None:
        super().__init__("cancelled")


class TooManyResends(SessionRequestError):
    """The server kept ignoring the request (bad_msg_notification, bad_server_salt, "not
    received") more times than the limit allows."""

    def __init__(self, resends: int, last_code: int) -> None:
        why = BAD_MSG_CODES.get(last_code, f"code {last_code}")
        super().__init__(f"sent again {resends} times; last reason: {why}")
        self.resends = resends
        self.last_code = last_code


class MessageRejected(SessionRequestError):
    """The server ignored the message for a reason that re-sending cannot fix (a local bug:
    bad_msg_notification 18, 19, 34, 35, 64 or a code this library does not know)."""

    def __init__(self, code: int) -> None:
        why = BAD_MSG_CODES.get(code, "unknown code")
        super().__init__(f"bad_msg_notification {code}: {why}")
        self.code = code


class ResultUndecodable(SessionRequestError):
    """The answer arrived but its result could not be decoded with the request's result type.
    ``data`` is the raw result, ``error`` the decoder's complaint."""

    def __init__(self, error: BaseException, data: bytes) -> None:
        super().__init__(f"the result cannot be decoded: {error}")
        self.error = error
        self.data = data
        self.reason = error.reason if isinstance(error, TLDecodeError) else "decode"


class LimitExceeded(SessionRequestError):
    """A session limit refused the request (``what``: ``"pending requests"``,
    ``"message bytes"``)."""

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"more {what} than the limit of {limit}")
        self.what = what
        self.limit = limit


class ChainBroken(SessionRequestError):
    """The request was to run after another (invokeAfterMsg) that ended before it was ever
    sent, so there is no message to wait for."""

    def __init__(self, after: object) -> None:
        super().__init__(f"the request it follows ({after!r}) ended without being sent")
        self.after = after


class PingTimeout(RemoteProtocolError):
    """Nothing came back from the server for too long after a ping: the connection is dead."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no message from the server {seconds:g} s after a ping",
                         reason="ping_timeout")
        self.seconds = seconds
