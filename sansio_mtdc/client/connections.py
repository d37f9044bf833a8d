"""Links: opening them, handshaking on them, carrying sessions, losing and reopening them.

Rules kept here:

* One main link per DC; media links up to ``limits.media_connections`` per DC.  A file request
  for a DC whose media link is not ready yet rides the DC's main link when that one is ready
  (no request waits a round trip for a connection another link could spare), and a media link
  opens for the requests that follow.
* One auth key per DC, one handshake per DC at a time: the first link of the DC to connect runs
  it, the others wait for its key and then each starts its own session.
* A link reconnects only when it has work (requests in its session or waiting for its DC):
  at once after a connection that worked, then with backoff; after ``limits.max_reconnects``
  attempts in a row that brought nothing, its requests fail with ``ConnectionFailedError``.
* Links other than the home DC's main link close after ``limits.idle_timeout`` without work.
* Transport -404: the DC's key is gone (new handshake; its requests go again in new sessions:
  the server never decrypted them); -429: close and back off; -444: the DC's requests fail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import FramingError, RemoteProtocolError, UsageError
from ..session.events import Answer, ClockCorrected, ConnectionFailed, Failed, SaltChanged
from ..session.events import Update as SessionUpdate
from ..transport.packets import TransportErrorCode
from .actions import Close, Connect, Send
from .call import IMPORT, Call
from .core import ClientCore
from .errors import ConnectionFailedError
from .events import AuthKeyCreated, ConnectionStateChanged, Update
from .link import CLOSED, CONNECTING, IDLE, OPEN, Link
from .policy import reconnect_delay

if TYPE_CHECKING:
    from ..dc.endpoint import Endpoint, Purpose
    from ..handshake.client import HandshakeResult
    from ..session.client import ClientSession
    from ..session.config import InitConnectionParams, SessionLimits
    from ..transport.codec import Codec
    from .config import ClientConfig
    from .datacenter import DcRecord

__all__ = ["Connections"]

_ZERO_KEY_ID = bytes(8)
#: a second media link opens once the least busy one carries this many requests
_MEDIA_PIPELINE = 1


class Connections(ClientCore):
    __slots__ = ()

    # --- choosing and opening links ------------------------------------------------------------

    def _pick_link(self, record: DcRecord, purpose: Purpose) -> Link | None:
        if purpose == "main":
            link = record.main
            if link is None:
                link = record.main = Link(record.dc_id, "main")
                link.idle_since = self._now
            self._wake(link)
            return link if _has_room(link) else None
        ready = [link for link in record.media if _has_room(link)]
        if ready:
            best = min(ready, key=lambda link: len(link.calls))
            if (len(best.calls) >= _MEDIA_PIPELINE
                    and len(record.media) < self._limits.media_connections):
                self._wake(self._new_media_link(record))
            return best
        if not record.media:
            self._new_media_link(record)
        for link in record.media:
            self._wake(link)
        main = record.main
        return main if main is not None and _has_room(main) else None

    def _new_media_link(self, record: DcRecord) -> Link:
        link = Link(record.dc_id, "media")
        link.idle_since = self._now
        record.media.append(link)
        return link

    def _wake(self, link: Link) -> None:
        """Open ``link`` if it is down and no backoff holds it."""
        if link.phase == IDLE and link.retry_at is None:
            self._open(link)

    def _open(self, link: Link) -> None:
        config = self._config
        candidates = self._table.candidates(link.dc_id, purpose=link.purpose, ipv6=config.ipv6,
                                            obfuscated=config.obfuscated, now=self._now)
        if not candidates:
            self._give_up(link, f"no {link.purpose} address of DC {link.dc_id} can be used "
                                f"(ipv6={config.ipv6!r}, obfuscated={config.obfuscated})")
            return
        conn_id = self._next_conn
        self._next_conn += 1
        self._conns[conn_id] = link
        offered = tuple(candidates)
        link.connecting(conn_id, offered)
        transport = f"obfuscated2/{config.transport}" if config.obfuscated else config.transport
        self._actions.put(Connect(conn_id, link.dc_id, link.purpose, offered, transport))
        self._report(link)

    def _report(self, link: Link, reason: str | None = None) -> None:
        self._events.put(ConnectionStateChanged(link.conn_id, link.dc_id, link.purpose,
                                                link.state, reason))

    def _codec_for(self, link: Link, address: Endpoint | None) -> Codec:
        from ..transport import (
            Abridged,
            Full,
            Intermediate,
            Obfuscated,
            PaddedIntermediate,
            obfuscation_dc_id,
        )

        config = self._config
        name = config.transport
        inner: Abridged | Intermediate | PaddedIntermediate | Full
        if name == "abridged":
            inner = Abridged("client")
        elif name == "padded_intermediate":
            inner = PaddedIntermediate("client", self._random)
        elif name == "full":
            inner = Full("client")
        else:
            inner = Intermediate("client")
        if not config.obfuscated or isinstance(inner, Full):
            return inner
        dc_id = obfuscation_dc_id(link.dc_id, test=config.test_mode,
                                  media=link.purpose == "media")
        secret = address.secret if address is not None else None
        return Obfuscated(inner, random=self._random, dc_id=dc_id, secret=secret)

    # --- a connection is up --------------------------------------------------------------------

    def _on_open(self, link: Link, address: Endpoint | None) -> None:
        if address is not None:
            # the adapter tries the candidates in order: those before the one that answered
            # did not
            if address in link.candidates:
                for failed in link.candidates[:link.candidates.index(address)]:
                    self._table.report_failure(failed, now=self._now)
            self._table.report_success(address)
        link.opened(self._codec_for(link, address), now=self._now)
        record = self._record(link.dc_id)
        if record.key is not None:
            if link.session is None:
                link.attach_session(self._new_session(record), now=self._now)
            self._report(link)
            self._touch(record)
        else:
            self._report(link)
            self._maybe_handshake(record)

    def _new_session(self, record: DcRecord) -> ClientSession:
        from ..session.client import ClientSession

        init = self._init
        if init is None:
            init = self._init = _init_params(self._config)
        if self._session_limits is None:
            self._session_limits = self._config.session_limits or _default_session_limits()
        assert record.key is not None
        return ClientSession(record.key, salt=record.salt, time_offset=self._time_offset,
                             random=self._random, init=init, limits=self._session_limits)

    def _maybe_handshake(self, record: DcRecord) -> None:
        """Start the DC's handshake on its first open link without a session, unless one
        runs already."""
        if record.key is not None or record.handshake_link is not None:
            return
        for link in record.links():
            if link.is_open and link.session is None:
                self._start_handshake(record, link)
                return

    def _start_handshake(self, record: DcRecord, link: Link) -> None:
        from ..handshake.client import ClientHandshake

        table = self._table
        link.handshake = ClientHandshake(
            dc_id=table.handshake_dc_id(record.dc_id, purpose=link.purpose),
            keys=table.keys_for(record.dc_id), random=self._random, now=self._now)
        link.handshake_due = self._now + self._limits.connect_timeout
        record.handshake_link = link
        if record.auth.can("start_handshake"):
            record.auth.start_handshake()

    def _handshake_packet(self, record: DcRecord, link: Link, payload: bytes) -> None:
        handshake = link.handshake
        assert handshake is not None
        try:
            handshake.receive(payload, now=self._now)
        except RemoteProtocolError as exc:
            self._close_link(link, f"handshake: {_tag(exc)}", failure=True)
            return
        except UsageError:
            return  # an answer after the exchange ended: nothing to do with it
        self._progress(link)
        link.handshake_due = self._now + self._limits.connect_timeout
        result = handshake.result
        if result is not None:
            self._key_made(record, result)

    def _key_made(self, record: DcRecord, result: HandshakeResult) -> None:
        record.key = result.auth_key
        record.salt = result.server_salt
        record.handshake_link = None
        self._time_offset = result.time_offset
        self._dirty = True
        if record.auth.can("key_created"):
            record.auth.key_created()
        self._events.put(AuthKeyCreated(record.dc_id, result.auth_key.id, result.temporary))
        for link in record.links():
            link.handshake = None
            link.handshake_due = None
            if link.is_open and link.session is None:
                link.attach_session(self._new_session(record), now=self._now)
                self._report(link)
        self._key_ready(record)
        self._touch(record)

    # --- bytes from the server -----------------------------------------------------------------

    def _on_data(self, link: Link, data: bytes) -> None:
        try:
            packets = link.feed(data)
        except FramingError as exc:
            self._close_link(link, f"framing: {exc.reason}", failure=True)
            return
        record = self._record(link.dc_id)
        for packet in packets:
            if link.phase != OPEN:
                return
            if type(packet) is bytes:
                if link.handshake is not None:
                    self._handshake_packet(record, link, packet)
                elif link.session is not None and packet[:8] != _ZERO_KEY_ID:
                    link.session.receive(packet, now=self._now)
                    self._drain(link)
                    if link.phase == OPEN:
                        self._progress(link)
            elif isinstance(packet, TransportErrorCode):
                self._transport_error(record, link, packet.code)

    def _progress(self, link: Link) -> None:
        link.progress = True
        link.failures = 0

    def _drain(self, link: Link) -> bool:
        """Act on what ``link``'s session reports; whether it reported anything."""
        session = link.session
        if session is None:
            return False
        found = False
        while (event := session.next_event()) is not None:
            found = True
            if isinstance(event, Answer | Failed):
                call = link.calls.pop(event.token, None)  # type: ignore[call-overload]
                if call is None:
                    continue
                call.link = None
                call.token = 0
                if not link.calls:
                    link.idle_since = self._now
                record = self._record(link.dc_id)
                if record.waiting_count:
                    self._touch(record)  # a full session may take one more
                if isinstance(event, Answer):
                    self._answer(call, event.value, link)
                else:
                    self._error(call, event.error, link)
            elif isinstance(event, SessionUpdate):
                self._events.put(Update(event.value, link.dc_id))
            elif isinstance(event, SaltChanged):
                self._record(link.dc_id).salt = event.salt
                self._dirty = True
            elif isinstance(event, ClockCorrected):
                self._time_offset = event.offset
                self._dirty = True
            elif isinstance(event, ConnectionFailed) and link.phase == OPEN:
                self._close_link(link, f"session: {_tag(event.error)}", failure=True)
        return found

    def _drain_all(self) -> bool:
        """Drain every session; whether anything was reported."""
        found = False
        for record in list(self._records.values()):
            for link in record.links():
                found = self._drain(link) or found
        return found

    def _transport_error(self, record: DcRecord, link: Link, code: int) -> None:
        if code == -404 and link.handshake is None and record.key is not None:
            self._key_lost(record)
        elif code == -444:
            self._dc_refused(record)
        elif code == -429:
            self._close_link(link, "transport flood (-429)", failure=True,
                             at_least=self._limits.reconnect_base)
        else:
            what = "the server refused the handshake" if code == -404 else "transport error"
            self._close_link(link, f"{what} ({code})", failure=True)

    def _key_lost(self, record: DcRecord) -> None:
        """-404: the server does not know the DC's key.  The requests its sessions carry were
        never decrypted, so they go again in new sessions once a new key is made."""
        home_signed_in = record.dc_id == self._home and record.authorized
        record.key = None
        record.exported = None
        if record.auth.can("key_dropped"):
            record.auth.key_dropped()
        self._dirty = True
        again: list[Call] = []
        for link in record.links():
            calls = sorted(link.calls.values(), key=lambda call: call.token)
            link.calls.clear()
            link.session = None
            link.idle_since = self._now
            for call in calls:
                call.link = None
                call.token = 0
                call.after_import = False
                if call.kind == IMPORT:
                    self._calls.pop(call.rid, None)
                else:
                    again.append(call)
            if link.is_open:
                self._report(link, "auth key unknown to the server (-404)")
        if record.import_call is not None:
            self._calls.pop(record.import_call.rid, None)
            self._unplace(record.import_call, cancel=False)
            record.import_call = None
        for call in reversed(again):
            record.line(call.purpose).put_first(call)
        if home_signed_in:
            self._logged_out(record.dc_id, None)
        self._maybe_handshake(record)
        self._touch(record)

    def _dc_refused(self, record: DcRecord) -> None:
        """-444: the server says the DC id is not valid; everything bound for it fails."""
        error = ConnectionFailedError(record.dc_id, "the server says this DC is not valid "
                                                    "(transport error -444)", 1)
        if record.handshake_link is not None and record.auth.can("handshake_failed"):
            record.auth.handshake_failed()
        for link in record.links():
            self._shut(link, "transport error -444")
            for call in list(link.calls.values()):
                self._final(call, error)
            record.remove_link(link)
            link.phase = CLOSED
        for call in record.waiting():
            self._final(call, error)

    # --- a connection is gone ------------------------------------------------------------------

    def _shut(self, link: Link, reason: str) -> None:
        """Close ``link``'s TCP connection (if any) and forget its conn_id."""
        if link.phase in (OPEN, CONNECTING):
            self._actions.put(Close(link.conn_id, reason))
            self._conns.pop(link.conn_id, None)
            link.lost(now=self._now)
            self._report(link, reason)

    def _close_link(self, link: Link, reason: str, *, failure: bool,
                    at_least: float = 0.0) -> None:
        """Close ``link``'s connection because of ``reason`` and decide when to reopen it."""
        if link.phase in (OPEN, CONNECTING):
            self._actions.put(Close(link.conn_id, reason))
        self._link_down(link, reason, failure=failure, at_least=at_least)

    def _link_down(self, link: Link, reason: str, *, failure: bool,
                   at_least: float = 0.0) -> None:
        """``link`` lost its connection (or never got one); it reconnects no sooner than
        ``at_least`` seconds from now."""
        record = self._record(link.dc_id)
        self._conns.pop(link.conn_id, None)
        link.lost(now=self._now)
        self._report(link, reason)
        if record.handshake_link is link:
            record.handshake_link = None
            if record.auth.can("handshake_failed"):
                record.auth.handshake_failed()
            self._maybe_handshake(record)
        if failure or not link.progress:
            link.failures += 1
        else:
            link.failures = 1
        if link.failures > self._limits.max_reconnects:
            self._give_up(link, reason)
            return
        if self._has_work(record, link):
            delay = max(at_least, reconnect_delay(link.failures, self._limits.reconnect_base,
                                                  self._limits.reconnect_cap))
            if delay <= 0:
                self._open(link)
            else:
                link.retry_at = self._now + delay
        elif not link.calls:
            record.remove_link(link)
            link.phase = CLOSED
        self._touch(record)

    def _has_work(self, record: DcRecord, link: Link) -> bool:
        return bool(link.calls) or bool(record.line(link.purpose))

    def _give_up(self, link: Link, reason: str) -> None:
        """Stop trying ``link``: its requests, and those of its DC waiting for its purpose,
        fail with :class:`ConnectionFailedError`."""
        record = self._record(link.dc_id)
        error = ConnectionFailedError(link.dc_id, reason, link.failures)
        record.gave_up = (link.purpose, error)
        self._touch(record)
        victims = [*link.calls.values(), *record.line(link.purpose)]
        record.remove_link(link)
        self._conns.pop(link.conn_id, None)
        link.phase = CLOSED
        link.calls.clear()
        for call in victims:
            call.link = None
            call.token = 0
            if call.rid in self._calls:
                self._final(call, error)

    def _close_stalled_handshakes(self) -> None:
        """A handshake whose server stopped answering for ``limits.connect_timeout`` seconds
        is a dead connection: close it and try again."""
        for link in self._all_links():
            due = link.handshake_due
            if due is not None and self._now >= due and link.phase == OPEN:
                self._close_link(link, "handshake: no answer", failure=True)

    def _close_idle(self) -> None:
        """Close the links that had no work for ``limits.idle_timeout`` seconds."""
        for record in list(self._records.values()):
            for link in record.links():
                deadline = self._idle_deadline(record, link)
                if deadline is not None and self._now >= deadline:
                    self._shut(link, "idle")
                    record.remove_link(link)
                    link.phase = CLOSED

    def _idle_deadline(self, record: DcRecord, link: Link) -> float | None:
        if (link.idle_since is None or link.calls or link.handshake is not None
                or (link is record.main and record.dc_id == self._home)
                or self._has_work(record, link)):
            return None
        return link.idle_since + self._limits.idle_timeout

    def _all_links(self) -> list[Link]:
        return [link for record in self._records.values() for link in record.links()]

    def _flush(self) -> None:
        """Everything the open links have to write, one Send per link."""
        for record in self._records.values():
            for link in record.links():
                if link.phase == OPEN:
                    data = link.output(now=self._now)
                    if data:
                        self._actions.put(Send(link.conn_id, data))


def _has_room(link: Link) -> bool:
    """Ready, and its session can take one more request (a session holds a bounded number;
    the rest wait in the DC's line rather than fail)."""
    session = link.session
    return (link.phase == OPEN and session is not None
            and len(link.calls) < session.limits.max_pending)


def _tag(error: RemoteProtocolError) -> str:
    check = getattr(error, "check", None)
    return check if isinstance(check, str) else error.reason


_DEFAULT_SESSION_LIMITS: list[SessionLimits] = []
_INIT_PARAMS: dict[tuple[object, ...], InitConnectionParams] = {}


def _init_params(config: ClientConfig) -> InitConnectionParams:
    """The initConnection fields of ``config``: one value for every client that shares them
    (a process with many accounts of one application)."""
    from ..session.config import InitConnectionParams

    fields = (config.api_id, config.device_model, config.system_version, config.app_version,
              config.system_lang_code, config.lang_pack, config.lang_code, config.layer)
    params = _INIT_PARAMS.get(fields)
    if params is None:
        extra = {} if config.layer is None else {"layer": config.layer}
        params = InitConnectionParams(
            api_id=config.api_id, device_model=config.device_model,
            system_version=config.system_version, app_version=config.app_version,
            system_lang_code=config.system_lang_code, lang_pack=config.lang_pack,
            lang_code=config.lang_code, **extra)
        if len(_INIT_PARAMS) >= 64:
            _INIT_PARAMS.clear()
        _INIT_PARAMS[fields] = params
    return params


def _default_session_limits() -> SessionLimits:
    """One default :class:`SessionLimits` for every client (it is frozen)."""
    if not _DEFAULT_SESSION_LIMITS:
        from ..session.config import SessionLimits

        _DEFAULT_SESSION_LIMITS.append(SessionLimits())
    return _DEFAULT_SESSION_LIMITS[0]
