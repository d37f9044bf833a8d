"""What a call's answer or error means, and what happens next.

A result ends the call (and may teach the client something: a config, a sign-in, a logout).  An
error is sorted by :func:`~.policy.classify`:

* PHONE/NETWORK/USER_MIGRATE_X: the home DC becomes X; the call goes there (the authorization
  follows it when the user was signed in).  FILE/STATS_MIGRATE_X: the call goes to X on a media
  link; the home DC stays.  Each call has a redirect budget and remembers the DCs it visited.
* FLOOD_WAIT_X up to the ceiling, 5xx and -500 a few times: a ``Retrying`` event, a timer,
  the call again.
* AUTH_KEY_UNREGISTERED / SESSION_REVOKED from a DC that is not home: that DC's authorization
  is repaired by a new transfer and the call goes again (``limits.auth_repairs``); from the home
  DC while signed in: ``LoggedOut``, and the call fails with :class:`LoggedOutError` (which keeps
  the server's error): the caller learns both what happened and why.
* MSG_WAIT_FAILED / MSG_WAIT_TIMEOUT behind an import: the call waits for the authorization
  again.
* Anything else is the call's answer: ``Failed`` with the :class:`RPCError`.
"""

from __future__ import annotations

from typing import Any

from ..errors import MTDCError, RPCError
from ..session.errors import ChainBroken
from .call import CONFIG, EXPORT, IMPORT, NEAREST, USER, Call
from .core import ClientCore
from .errors import FloodWaitError, LoggedOutError, RetriesExhausted
from .events import Result
from .link import Link
from .methods import LOGIN_STEP_METHODS, SIGN_IN_METHODS
from .policy import (
    AuthLost,
    FloodWait,
    Redirect,
    ServerError,
    WaitFailed,
    backoff,
    check_redirect,
    classify,
)
from .transfer import authorization_of

__all__ = ["Outcomes"]


class Outcomes(ClientCore):
    __slots__ = ()

    # hooks of the transfer part
    def _on_exported(self, call: Call, value: Any) -> None:
        raise NotImplementedError

    def _on_imported(self, call: Call, value: Any) -> None:
        raise NotImplementedError

    def _on_export_failed(self, call: Call, error: MTDCError) -> None:
        raise NotImplementedError

    def _on_import_failed(self, call: Call, error: MTDCError) -> None:
        raise NotImplementedError

    def _signed_in_at(self, dc_id: int, user_id: int) -> None:
        raise NotImplementedError

    # --- answers -------------------------------------------------------------------------------

    def _answer(self, call: Call, value: Any, link: Link) -> None:
        kind = call.kind
        if kind == USER:
            self._learn(call, value, link.dc_id)
            self._end(call, Result(call.rid, value))
        elif kind == EXPORT:
            self._end(call, None)
            self._on_exported(call, value)
        elif kind == IMPORT:
            self._end(call, None)
            self._on_imported(call, value)
        elif kind == CONFIG:
            self._end(call, None)
            self._apply_config(value)
        elif kind == NEAREST:
            self._end(call, None)
            self._apply_nearest(value)

    def _learn(self, call: Call, value: Any, dc_id: int) -> None:
        """What a caller's result tells the client about the user and the DCs."""
        name = call.name
        if name is None:
            return
        if name in SIGN_IN_METHODS:
            authorization = authorization_of(value)
            if authorization is not None:
                self._signed_in_at(dc_id, authorization.user.id)
        if name in LOGIN_STEP_METHODS and dc_id == self._home:
            self._settled = True
        elif name == "auth.logOut":
            self._logged_out(dc_id, None)
        elif name == "help.getConfig":
            self._apply_config(value)

    def _apply_config(self, value: Any) -> None:
        from ..errors import UsageError

        try:
            self._table.apply_config(value, now=self._now)
        except UsageError:
            return  # not a config after all: keep the table as it is
        self._dirty = True  # the addresses, or at least the config's expiry

    def _apply_nearest(self, value: Any) -> None:
        """Keep help.getNearestDc's suggestion; :meth:`_follow_nearest` decides when."""
        from ..errors import UsageError

        try:
            self._table.apply_nearest(value)
        except UsageError:
            return
        self._dirty = True  # the table keeps the suggestion
        nearest = value.nearest_dc
        if self._config.follow_nearest_dc and self._table.knows(nearest):
            self._suggested = nearest

    def _follow_nearest(self) -> None:
        """The suggested nearest DC becomes home once no request of the caller is on its way
        to the current home (its answer may tie the user to it: a login step, a redirect),
        unless something already did."""
        suggested = self._suggested
        if suggested is None:
            return
        if self._settled or suggested == self._home:
            self._suggested = None
            return
        home = self._records.get(self._home)
        if home is not None and (
                any(call.kind == USER for call in home.waiting())
                or any(call.kind == USER for link in home.links()
                       for call in link.calls.values())):
            return
        self._suggested = None
        self._set_home(suggested, "nearest_dc", settle=False)

    # --- errors --------------------------------------------------------------------------------

    def _error(self, call: Call, error: MTDCError, link: Link) -> None:
        if isinstance(error, ChainBroken):
            self._again(call, error)  # what it followed ended unsent: send it on its own
            return
        if not isinstance(error, RPCError):
            self._final(call, error)
            return
        verdict = classify(error)
        if isinstance(verdict, Redirect) and call.kind == USER:
            self._redirect(call, error, verdict)
        elif isinstance(verdict, FloodWait):
            self._flood_wait(call, error, verdict.seconds)
        elif isinstance(verdict, ServerError):
            self._server_error(call, error)
        elif isinstance(verdict, AuthLost) and self._auth_lost(call, error, verdict, link.dc_id):
            return
        elif isinstance(verdict, WaitFailed):
            self._again(call, error)
        else:
            self._final(call, error)

    def _final(self, call: Call, error: MTDCError) -> None:
        kind = call.kind
        if kind == USER:
            self._fail(call, error)
            return
        self._end(call, None)
        if kind == EXPORT:
            self._on_export_failed(call, error)
        elif kind == IMPORT:
            self._on_import_failed(call, error)

    def _redirect(self, call: Call, error: RPCError, verdict: Redirect) -> None:
        target = verdict.dc_id
        problem = check_redirect(error, target, call.visited, call.redirects,
                                 budget=self._limits.max_redirects,
                                 known=self._table.knows(target))
        if problem is not None:
            self._final(call, problem)
            return
        call.redirects += 1
        if verdict.moves_home:
            self._set_home(target, error.name)
            call.follow_home = True
        else:
            call.follow_home = False
            call.purpose = "media"
        call.dc = target
        self._enqueue(call)

    def _flood_wait(self, call: Call, error: RPCError, seconds: int) -> None:
        ceiling = self._limits.flood_wait_ceiling
        if seconds > ceiling or call.flood_retries >= self._limits.max_flood_retries:
            self._final(call, FloodWaitError(error, seconds, ceiling))
            return
        call.flood_retries += 1
        self._retry_later(call, float(seconds), reason=error.message,
                          attempt=call.flood_retries)

    def _server_error(self, call: Call, error: RPCError) -> None:
        if call.server_retries >= self._limits.server_error_retries:
            self._final(call, RetriesExhausted(error, call.server_retries + 1))
            return
        call.server_retries += 1
        delay = backoff(call.server_retries, self._limits.server_error_backoff)
        self._retry_later(call, delay, reason=error.message, attempt=call.server_retries)

    def _auth_lost(self, call: Call, error: RPCError, verdict: AuthLost, dc_id: int) -> bool:
        """Act on a 401; False when it is simply the call's answer."""
        record = self._record(dc_id)
        source = self._auth_source()
        if dc_id == source:
            if not call.signed_in:
                return False
            self._logged_out(dc_id, error)
            self._final(call, LoggedOutError(dc_id, error))
            return True
        if not verdict.repairable or source is None or call.kind != USER:
            return False
        if call.epoch == record.epoch:  # not a report about an authorization repaired since
            if call.repairs >= self._limits.auth_repairs:
                self._final(call, RetriesExhausted(error, call.repairs + 1))
                return True
            call.repairs += 1
            if record.auth.can("authorization_lost"):
                record.auth.authorization_lost()
                self._dirty = True
        call.needs_auth = True
        call.after_import = False
        self._enqueue(call)
        return True

    def _again(self, call: Call, error: MTDCError) -> None:
        """The server did not run ``call`` (it waited for an import that failed, or what it
        followed never left): it goes back in line, a bounded number of times."""
        call.wait_failures += 1
        limits = self._limits
        if call.wait_failures > 2 + limits.export_retries + limits.auth_repairs:
            self._final(call, RetriesExhausted(error, call.wait_failures))
            return
        call.after_import = False
        self._enqueue(call)
