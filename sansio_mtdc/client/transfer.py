"""The user's authorization: signing in, logging out, and carrying it to other DCs.

When the user is signed in and a request that needs authorization goes to a DC that is not
authorized, the authorization is transferred first, the way TDLib's DcAuthManager does it:

1. ``auth.exportAuthorization(dc_id=X)`` leaves for the home DC at once, **while** X's
   connection and handshake run (no waiting for the key first);
2. when both the exported bytes and X's key are there, ``auth.importAuthorization`` and the
   waiting requests leave together, in one container, each request wrapped in invokeAfterMsg on
   the import, so they cost one round trip;
3. a request the server could not run because the import failed (MSG_WAIT_FAILED) waits for
   the next transfer; AUTH_BYTES_INVALID gets ``limits.export_retries`` new exports.

One export per DC at a time (the DC layer's lifecycle has no state for a second one).  Right
after a USER_MIGRATE the authorization is exported from the former home DC, the only one that
holds it.
"""

from __future__ import annotations

from typing import Any

from ..errors import MTDCError, RPCError
from .call import EXPORT, IMPORT, USER, Call
from .core import ClientCore
from .datacenter import DcRecord
from .events import AuthorizationImported, ExportingAuthorization, LoggedOut
from .policy import AuthBytesInvalid, classify

__all__ = ["Transfers", "authorization_of"]


def authorization_of(value: object) -> Any | None:
    """The ``auth.authorization`` in a sign-in method's result (auth.sentCodeSuccess wraps one),
    or None when the result does not sign the user in (auth.authorizationSignUpRequired...)."""
    name = getattr(value, "TL_NAME", None)
    if name == "auth.sentCodeSuccess":
        value = getattr(value, "authorization", None)
        name = getattr(value, "TL_NAME", None)
    if name == "auth.authorization" and getattr(value, "user", None) is not None:
        return value
    return None


class Transfers(ClientCore):
    __slots__ = ()

    def _needs_transfer(self, record: DcRecord) -> bool:
        source = self._auth_source()
        return source is not None and source != record.dc_id and not record.authorized

    def _start_transfer(self, record: DcRecord, *, fresh: bool = True) -> None:
        source = self._auth_source()
        auth = record.auth
        if (source is None or source == record.dc_id or auth.export_in_flight
                or auth.export_in_hand or record.import_call is not None
                or not auth.can("begin_export")):
            return
        if fresh:
            record.exports_left = self._limits.export_retries
        from ..tl import api

        auth.begin_export()
        export = self._internal(EXPORT, api.functions.auth.ExportAuthorization(
            dc_id=record.dc_id), "auth.exportAuthorization", dc=source, needs_auth=True,
            for_dc=record.dc_id)
        self._events.put(ExportingAuthorization(record.dc_id, source))
        self._enqueue(export)

    def _on_exported(self, call: Call, value: Any) -> None:
        record = self._record(call.for_dc)
        if not record.auth.can("exported"):
            return  # the transfer was abandoned meanwhile (a logout, a reset)
        record.exported = value
        record.auth.exported()
        self._key_ready(record)

    def _key_ready(self, record: DcRecord) -> None:
        """Send the import once both the export's answer and the key are there."""
        from ..dc.authorization import IMPORTING

        if record.auth.state != IMPORTING or record.import_call is not None:
            return
        value: Any = record.exported
        record.exported = None
        if value is None:  # a restored or repaired state without bytes: export again
            record.auth.import_failed()
            self._start_transfer(record, fresh=False)
            return
        from ..tl import api

        first = next((c for c in record.waiting() if c.needs_auth and c.kind == USER), None)
        purpose = first.purpose if first is not None else "main"
        imported = self._internal(IMPORT, api.functions.auth.ImportAuthorization(
            id=value.id, bytes=value.bytes), "auth.importAuthorization", dc=record.dc_id,
            purpose=purpose, for_dc=record.dc_id)
        record.import_call = imported
        record.line(purpose).put_first(imported)
        self._touch(record)

    def _on_imported(self, call: Call, value: Any) -> None:
        record = self._record(call.for_dc)
        if record.import_call is call:
            record.import_call = None
        if not record.auth.can("imported"):
            return
        record.auth.imported()
        record.epoch += 1
        self._dirty = True
        self._events.put(AuthorizationImported(record.dc_id))
        if record.dc_id == self._home:
            self._former_home = None
        user = getattr(authorization_of(value), "user", None)
        if self._user_id is None and user is not None:
            self._user_id = user.id
        self._touch(record)

    def _on_export_failed(self, call: Call, error: MTDCError) -> None:
        record = self._record(call.for_dc)
        if record.auth.can("export_failed") and (record.auth.export_in_flight
                                                 or record.auth.export_in_hand):
            record.auth.export_failed()
        self._transfer_failed(record, error)

    def _on_import_failed(self, call: Call, error: MTDCError) -> None:
        record = self._record(call.for_dc)
        if record.import_call is call:
            record.import_call = None
        if record.auth.can("import_failed"):
            record.auth.import_failed()
        if (isinstance(error, RPCError) and isinstance(classify(error), AuthBytesInvalid)
                and record.exports_left > 0):
            record.exports_left -= 1
            self._start_transfer(record, fresh=False)
            return
        self._transfer_failed(record, error)

    def _transfer_failed(self, record: DcRecord, error: MTDCError) -> None:
        """The transfer to ``record`` ended without an authorization: the requests that waited
        for it fail with ``error``."""
        victims = [call for link in record.links() for call in link.calls.values()
                   if call.after_import]
        if self._needs_transfer(record):
            victims += [call for call in record.waiting()
                        if call.needs_auth and call.kind == USER]
        for call in victims:
            if call.rid in self._calls:
                self._final(call, error)
        self._touch(record)

    # --- signing in and out ------------------------------------------------------------------

    def _signed_in_at(self, dc_id: int, user_id: int) -> None:
        """A sign-in method succeeded on ``dc_id``: the user lives there now."""
        if self._user_id is not None and self._user_id != user_id:
            self._logged_out(self._home, None)
        if dc_id != self._home:
            self._set_home(dc_id, "sign_in")
        self._settled = True
        record = self._record(dc_id)
        auth = record.auth
        if not auth.is_authorized:
            if not auth.can("signed_in") and auth.can("logged_out"):
                auth.logged_out()
            if auth.can("signed_in"):
                auth.signed_in()
        self._user_id = user_id
        self._former_home = None
        self._dirty = True
        for other in self._records.values():
            self._touch(other)

    def _logged_out(self, dc_id: int, error: MTDCError | None) -> None:
        """The user's authorization is gone: every DC forgets it, transfers are abandoned."""
        for record in self._records.values():
            if record.auth.can("logged_out"):
                record.auth.logged_out()
            record.exported = None
            record.import_call = None
            self._touch(record)
        for call in [c for c in self._calls.values() if c.kind in (EXPORT, IMPORT)]:
            self._end(call, None)
        for call in self._calls.values():
            call.after_import = False
        self._user_id = None
        self._former_home = None
        self._dirty = True
        self._events.put(LoggedOut(dc_id, error))
