"""What a session is told at creation: who the client is (initConnection) and its limits."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from ..errors import UsageError
from ..tl.api import LAYER

__all__ = ["InitConnectionParams", "ServerLimits", "SessionLimits"]


@dataclass(frozen=True, slots=True)
class InitConnectionParams:
    """The fields of initConnection; the first request after each ``connection_made`` is sent
    as ``invokeWithLayer(layer, initConnection(..., query))``.  ``proxy`` (an
    InputClientProxy) and ``params`` (a JSONValue) are TL objects or None."""

    api_id: int
    device_model: str
    system_version: str
    app_version: str
    system_lang_code: str
    lang_pack: str
    lang_code: str
    layer: int = LAYER
    proxy: object | None = None
    params: object | None = None

    def prefix(self) -> bytes:
        """``invokeWithLayer`` and ``initConnection`` up to their query: the bytes that go in
        front of a serialized request (the query is the last field of both)."""
        from ..tl import api

        try:
            init = api.functions.InitConnection(
                api_id=self.api_id, device_model=self.device_model,
                system_version=self.system_version, app_version=self.app_version,
                system_lang_code=self.system_lang_code, lang_pack=self.lang_pack,
                lang_code=self.lang_code, proxy=self.proxy, params=self.params, query=b"")
            return bytes(api.functions.InvokeWithLayer(layer=self.layer, query=init))
        except UsageError as exc:
            raise UsageError(f"bad InitConnectionParams: {exc}") from None


def _check(limits: object, positive_ints: tuple[str, ...], positive_floats: tuple[str, ...]
           ) -> None:
    for name in positive_ints:
        value = getattr(limits, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UsageError(f"{type(limits).__name__}.{name} must be a positive int, "
                             f"not {value!r}")
    for name in positive_floats:
        value = getattr(limits, name)
        if value is None and name in ("ping_interval",):
            continue
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not math.isfinite(value) or value <= 0):
            raise UsageError(f"{type(limits).__name__}.{name} must be a positive number, "
                             f"not {value!r}")


@dataclass(frozen=True, slots=True)
class SessionLimits:
    """Every bound of a :class:`~sansio_mtdc.session.ClientSession` (and its timings).

    * ``max_pending``: requests not yet ended; more fail with ``LimitExceeded``.
    * ``max_resends``: times one request is sent again because the server ignored it
      (bad_msg_notification, bad_server_salt, "not received"); re-sending after a reconnect does
      not count.
    * ``dedup_window``: msg_ids of received messages remembered against replays.
    * ``sent_window``: our own recent msg_ids, to check that a notification is about one.
    * ``ack_batch``, ``ack_delay``: acks wait for the next outgoing message, or go alone once
      ``ack_batch`` are waiting or the oldest has waited ``ack_delay`` seconds.
    * ``max_pending_acks``: acks held while disconnected (the oldest are dropped: the server
      sends those messages again and they are acknowledged then).
    * ``container_max_messages``, ``container_max_bytes``: container bounds (1024, 1 MiB); a
      message too big for a container goes alone.  ``max_message_bytes``: the largest request.
    * ``gzip_min_size``, ``gzip_level``: requests at least this big are compressed when that
      makes them smaller (never file parts).  ``max_inflated``: the most bytes one gzip_packed
      may inflate to.
    * ``ping_interval`` (None: no keep-alive), ``ping_disconnect_delay``: ping_delay_disconnect
      every interval, asking the server to close the connection after the delay without one;
      ``ping_timeout``: no message at all that long after a ping fails the connection.
    * ``resend_max_age``: after a reconnect, an unacknowledged request younger than this is
      sent again with its msg_id (in a container, so the server can spot a duplicate); an
      older one is first asked about with msgs_state_req.
    * ``seqno_reset_after``: consecutive bad_msg_notification 32/33 before starting a new
      session.
    * ``time_window_past``, ``time_window_future``: incoming msg_ids outside
      ``[server_now - past, server_now + future]`` are ignored.
    * ``ended_memory``: tokens of ended requests remembered so that ``after=`` can name them.
    """

    max_pending: int = 1024
    max_resends: int = 5
    dedup_window: int = 1024
    sent_window: int = 4096
    ack_batch: int = 16
    ack_delay: float = 0.5
    max_pending_acks: int = 16384
    container_max_messages: int = 1024
    container_max_bytes: int = 1 << 20
    max_message_bytes: int = 8 << 20
    gzip_min_size: int = 512
    gzip_level: int = 6
    max_inflated: int = 32 << 20
    ping_interval: float | None = 60.0
    ping_disconnect_delay: int = 75
    ping_timeout: float = 20.0
    resend_max_age: float = 240.0
    seqno_reset_after: int = 3
    time_window_past: float = 300.0
    time_window_future: float = 30.0
    ended_memory: int = 1024

    def __post_init__(self) -> None:
        _check(self, ("max_pending", "max_resends", "dedup_window", "sent_window", "ack_batch",
                      "max_pending_acks", "container_max_messages", "container_max_bytes",
                      "max_message_bytes", "gzip_min_size", "max_inflated",
                      "ping_disconnect_delay", "seqno_reset_after", "ended_memory"),
               ("ack_delay", "ping_interval", "ping_timeout", "resend_max_age",
                "time_window_past", "time_window_future"))
        if not 0 <= self.gzip_level <= 9:
            raise UsageError(f"gzip_level must be 0..9, not {self.gzip_level!r}")
        if self.container_max_messages > 1024 or self.container_max_bytes > 1 << 20:
            raise UsageError("MTProto containers hold at most 1024 messages and 1 MiB")
        if self.ack_batch > 8192:
            raise UsageError("one msgs_ack holds at most 8192 ids")


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """Every bound of a :class:`~sansio_mtdc.session.ServerSession`.

    * ``dedup_window``: client msg_ids remembered (a repeat is never executed twice; an id
      below the window gets bad_msg_notification 20).
    * ``answer_cache``, ``answer_cache_bytes``: answers kept to re-send to a repeated request;
      ``resend_answer_max``: a cached answer bigger than this is announced with
      msg_detailed_info instead of being re-sent at once.
    * ``max_unacked``: content messages kept until the client acknowledges them (sent again on
      a new connection).
    * ``max_executing``: requests handed out and not yet replied to; more are answered at once
      with ``rpc_error 500 WORKER_BUSY_TOO_LONG_RETRY``.
    * ``container_max_messages``, ``container_max_bytes``: bounds of containers both ways.
    * ``gzip_min_size``, ``gzip_level``, ``max_inflated``: as for the client.
    * ``time_window_past``, ``time_window_future``: client msg_ids outside the window get
      bad_msg_notification 16/17.
    """

    dedup_window: int = 4096
    answer_cache: int = 1024
    answer_cache_bytes: int = 16 << 20
    resend_answer_max: int = 64 << 10
    max_unacked: int = 1024
    max_executing: int = 1024
    container_max_messages: int = 1024
    container_max_bytes: int = 1 << 20
    gzip_min_size: int = 1024
    gzip_level: int = 6
    max_inflated: int = 32 << 20
    time_window_past: float = 300.0
    time_window_future: float = 30.0

    def __post_init__(self) -> None:
        _check(self, tuple(f.name for f in fields(self)
                           if f.name not in ("gzip_level", "time_window_past",
                                             "time_window_future")),
               ("time_window_past", "time_window_future"))
        if not 0 <= self.gzip_level <= 9:
            raise UsageError(f"gzip_level must be 0..9, not {self.gzip_level!r}")
