"""What an ``rpc_error`` asks the client to do, and the arithmetic of waiting: plain functions,
testable alone.

:func:`classify` sorts an error into one of a few verdicts; the machine applies them.  Redirects
are checked against a request's history by :func:`check_redirect`; delays come from
:func:`backoff` and :func:`reconnect_delay`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import RPCError
from .errors import RedirectLoopError, TooManyRedirects, UnknownDcError

__all__ = [
    "AUTH_LOST_ERRORS",
    "HOME_LOGOUT_ERRORS",
    "AuthBytesInvalid",
    "AuthLost",
    "FloodWait",
    "Redirect",
    "ServerError",
    "Verdict",
    "WaitFailed",
    "backoff",
    "check_redirect",
    "classify",
    "reconnect_delay",
]

#: 401 errors that mean "this key is not (or no longer) authorized": on a DC that is not home
#: the authorization is transferred again; on the home DC the user is logged out.
AUTH_LOST_ERRORS = frozenset({"AUTH_KEY_UNREGISTERED", "SESSION_REVOKED"})
#: 401 errors that log the user out when the home DC sends them.
HOME_LOGOUT_ERRORS = AUTH_LOST_ERRORS | {"SESSION_EXPIRED", "USER_DEACTIVATED",
                                         "USER_DEACTIVATED_BAN", "AUTH_KEY_INVALID"}
#: redirects that move the user's home DC
_HOME_REDIRECTS = frozenset({"PHONE_MIGRATE_X", "NETWORK_MIGRATE_X", "USER_MIGRATE_X"})
#: redirects of one request to another DC, on a media connection
_OTHER_REDIRECTS = frozenset({"FILE_MIGRATE_X", "STATS_MIGRATE_X"})
_FLOOD_WAITS = frozenset({"FLOOD_WAIT_X", "FLOOD_PREMIUM_WAIT_X"})
_WAIT_ERRORS = frozenset({"MSG_WAIT_FAILED", "MSG_WAIT_TIMEOUT"})


@dataclass(frozen=True, slots=True)
class Redirect:
    """Send the request again to DC ``dc_id``; ``moves_home`` for PHONE/NETWORK/USER_MIGRATE."""

    dc_id: int
    moves_home: bool


@dataclass(frozen=True, slots=True)
class FloodWait:
    """Wait ``seconds``, then send again (FLOOD_WAIT_X, FLOOD_PREMIUM_WAIT_X)."""

    seconds: int


@dataclass(frozen=True, slots=True)
class ServerError:
    """An internal server error (5xx, -500): worth a few retries with backoff."""


@dataclass(frozen=True, slots=True)
class AuthLost:
    """The DC does not recognise the authorization (AUTH_KEY_UNREGISTERED, SESSION_REVOKED...);
    ``logs_out`` when that means the user is logged out if it comes from the home DC."""

    logs_out: bool
    repairable: bool


@dataclass(frozen=True, slots=True)
class AuthBytesInvalid:
    """auth.importAuthorization refused the exported bytes: export again."""


@dataclass(frozen=True, slots=True)
class WaitFailed:
    """invokeAfterMsg could not run the request (MSG_WAIT_FAILED / MSG_WAIT_TIMEOUT): the
    request was not executed and goes again once what it waited for is sorted out."""


Verdict = Redirect | FloodWait | ServerError | AuthLost | AuthBytesInvalid | WaitFailed


def classify(error: RPCError) -> Verdict | None:
    """What ``error`` asks for; None when it is the request's final answer."""
    name = error.name
    code = error.code
    if code == 303 and error.value is not None and error.value > 0:
        if name in _HOME_REDIRECTS:
            return Redirect(error.value, moves_home=True)
        if name in _OTHER_REDIRECTS:
            return Redirect(error.value, moves_home=False)
        return None
    if code == 420 and name in _FLOOD_WAITS and error.value is not None:
        return FloodWait(error.value)
    if code >= 500 or code == -500:
        return ServerError()
    if code == 401 and name in HOME_LOGOUT_ERRORS:
        return AuthLost(logs_out=True, repairable=name in AUTH_LOST_ERRORS)
    if code == 400 and name == "AUTH_BYTES_INVALID":
        return AuthBytesInvalid()
    if code == 400 and name in _WAIT_ERRORS:
        return WaitFailed()
    return None


RedirectProblem = RedirectLoopError | TooManyRedirects | UnknownDcError


def check_redirect(error: RPCError, target: int, visited: Sequence[int], redirects: int, *,
                   budget: int, known: bool) -> RedirectProblem | None:
    """Why following ``error`` to DC ``target`` must not happen, or None when it may.

    ``visited`` are the DCs the request went to so far (the current one last), ``redirects``
    the redirects it followed, ``budget`` the most it may follow, ``known`` whether the DC
    table has the target."""
    if not known:
        return UnknownDcError(target, error)
    if target in visited:
        return RedirectLoopError(error, (*visited, target))
    if redirects >= budget:
        return TooManyRedirects(error, (*visited, target), budget)
    return None


def backoff(attempt: int, base: float, cap: float = float("inf")) -> float:
    """``base * 2**(attempt - 1)`` seconds before retry number ``attempt`` (from 1), at most
    ``cap``."""
    if attempt < 1:
        return 0.0
    return min(cap, base * 2.0 ** min(attempt - 1, 62))


def reconnect_delay(failures: int, base: float, cap: float) -> float:
    """Seconds before reconnecting after ``failures`` failures in a row: at once after the
    first (a connection that worked and dropped), then ``base * 2**n`` up to ``cap``."""
    if failures <= 1:
        return 0.0
    return backoff(failures - 1, base, cap)
