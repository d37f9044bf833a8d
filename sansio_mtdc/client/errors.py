"""Why a request ended without a result, when the reason is not an ``rpc_error`` value.

Every one of these is a :class:`~sansio_mtdc.errors.RequestError` carried by a ``Failed`` event;
adapters raise it to the caller.  Each says what happened in words and keeps the numbers.
"""

from __future__ import annotations

from ..errors import RequestError, RPCError

__all__ = [
    "ConnectionFailedError",
    "FloodWaitError",
    "LoggedOutError",
    "RedirectLoopError",
    "RequestCancelled",
    "RequestTimeout",
    "RetriesExhausted",
    "TooManyPendingRequests",
    "TooManyRedirects",
    "UnknownDcError",
]


class RequestCancelled(RequestError):
    """The caller cancelled the request (or the client was closed) before it ended."""


class RequestTimeout(RequestError):
    """The request's deadline passed before it ended."""

    def __init__(self, timeout: float) -> None:
        super().__init__(f"no result within {timeout:g} s")
        self.timeout = timeout


class RedirectLoopError(RequestError):
    """A *_MIGRATE_X sent the request to a DC it had already visited."""

    def __init__(self, error: RPCError, visited: tuple[int, ...]) -> None:
        path = " -> ".join(str(dc) for dc in visited)
        super().__init__(f"{error.message} after visiting DCs {path}: a redirect loop")
        self.error = error
        self.visited = visited


class TooManyRedirects(RequestError):
    """The request used up its redirect budget."""

    def __init__(self, error: RPCError, visited: tuple[int, ...], budget: int) -> None:
        path = " -> ".join(str(dc) for dc in visited)
        super().__init__(f"{error.message}: more than {budget} redirects (DCs {path})")
        self.error = error
        self.visited = visited
        self.budget = budget


class UnknownDcError(RequestError):
    """The request was sent (or redirected) to a DC the DC table does not know."""

    def __init__(self, dc_id: int, cause: RPCError | None = None) -> None:
        why = f" ({cause.message})" if cause is not None else ""
        super().__init__(f"DC {dc_id} is not in the DC table{why}")
        self.dc_id = dc_id
        self.cause = cause


class FloodWaitError(RequestError):
    """The server asked to wait ``seconds`` before retrying, more than the client's ceiling."""

    def __init__(self, error: RPCError, seconds: int, ceiling: float) -> None:
        super().__init__(f"{error.message}: the server asks to wait {seconds} s, "
                         f"above the {ceiling:g} s ceiling")
        self.error = error
        self.seconds = seconds
        self.ceiling = ceiling


class RetriesExhausted(RequestError):
    """A retryable failure (5xx, -500, MSG_WAIT_*, a lost authorization...) kept happening."""

    def __init__(self, last: BaseException, attempts: int) -> None:
        super().__init__(f"gave up after {attempts} attempts; last error: {last}")
        self.last = last
        self.attempts = attempts


class ConnectionFailedError(RequestError):
    """The client could not reach the request's DC and gave up reconnecting."""

    def __init__(self, dc_id: int, reason: str, attempts: int) -> None:
        super().__init__(f"cannot reach DC {dc_id} after {attempts} attempts: {reason}")
        self.dc_id = dc_id
        self.reason = reason
        self.attempts = attempts


class LoggedOutError(RequestError):
    """The home DC no longer recognises the authorization (the request cannot succeed)."""

    def __init__(self, dc_id: int, error: RPCError | None) -> None:
        why = error.message if error is not None else "authorization key dropped"
        super().__init__(f"logged out on home DC {dc_id}: {why}")
        self.dc_id = dc_id
        self.error = error


class TooManyPendingRequests(RequestError):
    """The client already holds its maximum of unfinished requests."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} unfinished requests")
        self.limit = limit
