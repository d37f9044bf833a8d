"""Which waiting call goes on which link, and when.

Every change that may let calls move marks their DC (``_touch``); :meth:`Dispatch._settle`
then places what it can, in order, until nothing moves, before the input method returns.
Calls wait in one line per DC and purpose, first come first served: a call that needs the
transfer holds up the calls behind it in its line (on a DC being authorized nearly all do).  A
call that needs the user's authorization on a DC that does not have it waits for the transfer
and then leaves right behind the import (invokeAfterMsg).  The first call on a main link goes
with help.getConfig when the DC table needs a fresh config (and, on a new state, with
help.getNearestDc): the session wraps the first of them in initConnection, and they share the
container, so the config costs no round trip.
"""

from __future__ import annotations

from ..errors import UsageError
from .call import CONFIG, IMPORT, NEAREST, Call
from .core import ClientCore
from .datacenter import DcRecord
from .link import Link

__all__ = ["Dispatch"]

#: settle passes before giving up on a loop (each pass moves at least one call or event)
_MAX_PASSES = 10_000


class Dispatch(ClientCore):
    __slots__ = ()

    def _drain_all(self) -> bool:  # provided by the connections part
        raise NotImplementedError

    def _settle(self) -> None:
        """Dispatch every touched DC and act on every session event, until nothing moves."""
        for _ in range(_MAX_PASSES):
            moved = False
            while self._dirty_records:
                self._dispatch(self._dirty_records.pop(0))
                moved = True
            if self._drain_all():
                moved = True
            if not moved:
                return

    def _dispatch(self, record: DcRecord) -> None:
        """Place ``record``'s waiting calls, each line in order, until one cannot go: the calls
        behind it wait for the same link (or transfer), so a pass costs what it places."""
        record.gave_up = None
        imported = record.import_call
        if imported is not None and imported.line is not None:
            line = imported.line  # the import goes first: the calls in line wait for it
            line.discard(imported)
            if not self._place(record, imported):
                line.put_first(imported)
        for line in (record.main_line, record.media_line):
            while (call := line.first()) is not None:
                line.discard(call)
                if not self._place(record, call):
                    line.put_first(call)
                    break
        record.gave_up = None

    def _place(self, record: DcRecord, call: Call) -> bool:
        """Send ``call`` if it can go now; else make sure what it waits for is on its way."""
        if call.needs_auth and self._needs_transfer(record):
            imported = record.import_call
            if imported is not None and imported.link is not None and imported.link.ready:
                self._send(imported.link, call, after=imported)
                return True
            self._start_transfer(record)
            self._pick_link(record, imported.purpose if imported is not None else call.purpose)
            return False
        link = self._pick_link(record, call.purpose)
        if link is None:
            gave_up = record.gave_up
            if gave_up is not None and gave_up[0] == call.purpose:
                self._final(call, gave_up[1])  # no address to reach the DC for this purpose
                return True
            return False
        self._send(link, call)
        return True

    def _send(self, link: Link, call: Call, *, after: Call | None = None) -> None:
        session = link.session
        assert session is not None
        if link.purpose == "main" and call.kind not in (CONFIG, NEAREST, IMPORT):
            self._with_config(link)
        token = self._next_token
        self._next_token += 1
        try:
            session.invoke(call.request, token=token, now=self._now,
                           after=after.token if after is not None else None)
        except UsageError as exc:
            self._final(call, exc)  # a request the session cannot take (say, a service message)
            return
        call.link = link
        call.token = token
        call.after_import = after is not None
        call.signed_in = self._auth_source() is not None
        call.epoch = self._record(link.dc_id).epoch
        if not call.visited or call.visited[-1] != link.dc_id:
            call.visited.append(link.dc_id)
        link.calls[token] = call
        link.idle_since = None

    def _with_config(self, link: Link) -> None:
        """help.getConfig (and help.getNearestDc, once) ahead of a call on a main link, when
        the DC table wants a fresh config."""
        table = self._table
        if self._config_call is not None or not table.needs_refresh(self._now):
            return
        from ..tl import api

        config = self._internal(CONFIG, api.functions.help.GetConfig(), "help.getConfig",
                                dc=link.dc_id)
        self._config_call = config
        table.refresh_started(now=self._now)
        self._send(link, config)
        if self._want_nearest and link.dc_id == self._home:
            self._want_nearest = False
            nearest = self._internal(NEAREST, api.functions.help.GetNearestDc(),
                                     "help.getNearestDc", dc=link.dc_id)
            self._send(link, nearest)

    def _refresh_config(self) -> None:
        """The config expired while the client was idle: refresh it on the home DC's main
        link if that one is ready (no connection is opened only for this)."""
        record = self._records.get(self._home)
        link = record.main if record is not None else None
        if link is not None and link.ready:
            self._with_config(link)

