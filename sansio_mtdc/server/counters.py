"""What the cluster counts, so that tests can prove what happened on the server side.

A test that wants to show a request ran exactly once reads :meth:`Counters.executions`; one that
wants to show a client reused its auth key reads :attr:`Counters.handshakes`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["Counters"]


@dataclass(slots=True)
class Counters:
    """Counts kept by a :class:`~sansio_mtdc.server.Cluster` since it was made.

    * ``executed[(dc_id, method)]``: API requests whose handler ran (an error it answered
      counts; a request answered by an injected error, a wrapper check or a failed
      dependency does not).  ``method`` is the TL name of the innermost query,
      ``"upload.getFile"``.
    * ``injected[(dc_id, method)]``: requests answered by an injected error instead.
    * ``handshakes[dc_id]``: auth keys made.
    * ``exports[dc_id]``: ``auth.exportAuthorization`` answered with bytes, by the DC it ran on.
    * ``imports[dc_id]``: ``auth.importAuthorization`` that succeeded, by the DC it ran on.
    * ``connections[dc_id]``: connections accepted.
    * ``closes[kind]``: connections closed, by :attr:`CloseReason.kind`.
    """

    executed: Counter[tuple[int, str]] = field(default_factory=Counter)
    injected: Counter[tuple[int, str]] = field(default_factory=Counter)
    handshakes: Counter[int] = field(default_factory=Counter)
    exports: Counter[int] = field(default_factory=Counter)
    imports: Counter[int] = field(default_factory=Counter)
    connections: Counter[int] = field(default_factory=Counter)
    closes: Counter[str] = field(default_factory=Counter)

    def executions(self, method: str, dc_id: int | None = None) -> int:
        """How many times ``method`` ran on ``dc_id`` (on any DC when ``None``)."""
        return sum(n for (dc, name), n in self.executed.items()
                   if name == method and (dc_id is None or dc == dc_id))
