"""The per-DC authorization lifecycle, declared as a table of transitions.

A DC's state is the pair (what of the auth key, what of the user's authorization), named:

=================  ===================  =====================================================
key                authorization        state
=================  ===================  =====================================================
none               none                 ``no_key``
none               export in flight     ``no_key_exporting``
none               export in hand       ``no_key_exported``
being made         none                 ``handshaking``
being made         export in flight     ``handshaking_exporting``
being made         export in hand       ``handshaking_exported``
ready              none                 ``key_ready``
ready              export in flight     ``exporting``
ready              import sent          ``importing``
ready              authorized           ``authorized``
ready              lost                 ``lost``
=================  ===================  =====================================================

Combined states rather than an "export in flight" flag next to the key state: the export on the
home DC runs while the target DC's handshake runs, and with combined states every pair is a row
of one table, so legality is a single lookup, the diagram shows every case, and an impossible
pair (a second export while one is in flight) simply has no row.  "Key ready and export in hand"
is not a state: the client sends auth.importAuthorization the moment both are there.

The table (:data:`TRANSITIONS`) is the single declaration.  At run time a DC's state is a plain
string on a slotted :class:`DcAuthorization` advanced through a dict derived from it (a
``transitions`` model costs kilobytes per DC).  The ``transitions`` package is imported only by
:func:`build_machine`, which validates the table and draws it: ``python -m
sansio_mtdc.dc.authorization`` prints the Mermaid diagram.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, Final

from ..errors import UsageError

if TYPE_CHECKING:
    from transitions import Machine

__all__ = [
    "INITIAL_STATE",
    "PERSISTENT_STATES",
    "STATES",
    "TRANSITIONS",
    "TRIGGERS",
    "DcAuthorization",
    "build_machine",
    "mermaid_diagram",
    "next_state",
]

NO_KEY: Final = "no_key"
NO_KEY_EXPORTING: Final = "no_key_exporting"
NO_KEY_EXPORTED: Final = "no_key_exported"
HANDSHAKING: Final = "handshaking"
HANDSHAKING_EXPORTING: Final = "handshaking_exporting"
HANDSHAKING_EXPORTED: Final = "handshaking_exported"
KEY_READY: Final = "key_ready"
EXPORTING: Final = "exporting"
IMPORTING: Final = "importing"
AUTHORIZED: Final = "authorized"
LOST: Final = "lost"

STATES: tuple[str, ...] = (
    NO_KEY, NO_KEY_EXPORTING, NO_KEY_EXPORTED,
    HANDSHAKING, HANDSHAKING_EXPORTING, HANDSHAKING_EXPORTED,
    KEY_READY, EXPORTING, IMPORTING, AUTHORIZED, LOST,
)
INITIAL_STATE: Final = NO_KEY

#: ``(trigger, source, destination)``, grouped by trigger; what each trigger means is in the
#: docstring of the :class:`DcAuthorization` method of the same name.
TRANSITIONS: tuple[tuple[str, str, str], ...] = (
    ("start_handshake", NO_KEY, HANDSHAKING),
    ("start_handshake", NO_KEY_EXPORTING, HANDSHAKING_EXPORTING),
    ("start_handshake", NO_KEY_EXPORTED, HANDSHAKING_EXPORTED),

    ("key_created", HANDSHAKING, KEY_READY),
    ("key_created", HANDSHAKING_EXPORTING, EXPORTING),
    ("key_created", HANDSHAKING_EXPORTED, IMPORTING),

    ("handshake_failed", HANDSHAKING, NO_KEY),
    ("handshake_failed", HANDSHAKING_EXPORTING, NO_KEY_EXPORTING),
    ("handshake_failed", HANDSHAKING_EXPORTED, NO_KEY_EXPORTED),

    ("key_dropped", KEY_READY, NO_KEY),
    ("key_dropped", EXPORTING, NO_KEY_EXPORTING),
    ("key_dropped", IMPORTING, NO_KEY),
    ("key_dropped", AUTHORIZED, NO_KEY),
    ("key_dropped", LOST, NO_KEY),

    ("begin_export", NO_KEY, NO_KEY_EXPORTING),
    ("begin_export", HANDSHAKING, HANDSHAKING_EXPORTING),
    ("begin_export", KEY_READY, EXPORTING),
    ("begin_export", LOST, EXPORTING),

    ("exported", NO_KEY_EXPORTING, NO_KEY_EXPORTED),
    ("exported", HANDSHAKING_EXPORTING, HANDSHAKING_EXPORTED),
    ("exported", EXPORTING, IMPORTING),

    ("export_failed", NO_KEY_EXPORTING, NO_KEY),
    ("export_failed", NO_KEY_EXPORTED, NO_KEY),
    ("export_failed", HANDSHAKING_EXPORTING, HANDSHAKING),
    ("export_failed", HANDSHAKING_EXPORTED, HANDSHAKING),
    ("export_failed", EXPORTING, KEY_READY),

    ("imported", IMPORTING, AUTHORIZED),
    ("import_failed", IMPORTING, KEY_READY),

    ("signed_in", KEY_READY, AUTHORIZED),

    ("authorization_lost", AUTHORIZED, LOST),
    ("authorization_lost", LOST, LOST),

    ("logged_out", NO_KEY, NO_KEY),
    ("logged_out", NO_KEY_EXPORTING, NO_KEY),
    ("logged_out", NO_KEY_EXPORTED, NO_KEY),
    ("logged_out", HANDSHAKING, HANDSHAKING),
    ("logged_out", HANDSHAKING_EXPORTING, HANDSHAKING),
    ("logged_out", HANDSHAKING_EXPORTED, HANDSHAKING),
    ("logged_out", KEY_READY, KEY_READY),
    ("logged_out", EXPORTING, KEY_READY),
    ("logged_out", IMPORTING, KEY_READY),
    ("logged_out", AUTHORIZED, KEY_READY),
    ("logged_out", LOST, KEY_READY),

    *(("reset", state, NO_KEY) for state in STATES),
)

TRIGGERS: tuple[str, ...] = tuple(dict.fromkeys(trigger for trigger, _, _ in TRANSITIONS))

#: What survives a restart: the in-flight parts (a handshake, an export, an import) do not.
PERSISTENT_STATES: tuple[str, ...] = (NO_KEY, KEY_READY, AUTHORIZED, LOST)


def _derive_table() -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {state: {} for state in STATES}
    for trigger, source, destination in TRANSITIONS:
        if source not in table or destination not in table:
            raise AssertionError(f"undeclared state in {trigger}: {source} -> {destination}")
        if trigger in table[source]:
            raise AssertionError(f"{trigger} is declared twice from {source}")
        table[source][trigger] = destination
    return table


#: ``_NEXT[state][trigger]`` is the state ``trigger`` leads to; a missing entry is illegal.
_NEXT: Final = _derive_table()

_KEY_READY_STATES = frozenset({KEY_READY, EXPORTING, IMPORTING, AUTHORIZED, LOST})
_HANDSHAKE_STATES = frozenset({HANDSHAKING, HANDSHAKING_EXPORTING, HANDSHAKING_EXPORTED})
_EXPORT_IN_FLIGHT_STATES = frozenset({NO_KEY_EXPORTING, HANDSHAKING_EXPORTING, EXPORTING})
_EXPORT_IN_HAND_STATES = frozenset({NO_KEY_EXPORTED, HANDSHAKING_EXPORTED})
_AFTER_RESTART = {
    NO_KEY: NO_KEY, NO_KEY_EXPORTING: NO_KEY, NO_KEY_EXPORTED: NO_KEY,
    HANDSHAKING: NO_KEY, HANDSHAKING_EXPORTING: NO_KEY, HANDSHAKING_EXPORTED: NO_KEY,
    KEY_READY: KEY_READY, EXPORTING: KEY_READY, IMPORTING: KEY_READY,
    AUTHORIZED: AUTHORIZED, LOST: LOST,
}


def next_state(state: str, trigger: str) -> str | None:
    """Where ``trigger`` leads from ``state``, or None when it is not allowed there."""
    return _NEXT.get(state, {}).get(trigger)


class DcAuthorization:
    """The authorization state of one DC: a string advanced by the trigger methods below.

    Each method returns the new state; a trigger that is not allowed in the current state
    raises :class:`UsageError` (it is a bug in the caller) and changes nothing.  Use :meth:`can`
    to ask first, e.g. for an ``AUTH_KEY_UNREGISTERED`` that arrives after the repair began.
    """

    __slots__ = ("dc_id", "state")

    def __init__(self, dc_id: int, state: str = INITIAL_STATE) -> None:
        if state not in _NEXT:
            raise UsageError(f"unknown authorization state {state!r}")
        self.dc_id = dc_id
        self.state = state

    @classmethod
    def restore(cls, dc_id: int, state: str) -> DcAuthorization:
        """The lifecycle of a DC as a snapshot kept it; only :data:`PERSISTENT_STATES`."""
        if state not in PERSISTENT_STATES:
            raise UsageError(f"{state!r} is not a state that survives a restart")
        return cls(dc_id, state)

    def fire(self, trigger: str) -> str:
        """Apply ``trigger`` (by name) and return the new state."""
        destination = _NEXT[self.state].get(trigger)
        if destination is None:
            if trigger not in TRIGGERS:
                raise UsageError(f"unknown authorization trigger {trigger!r}")
            raise UsageError(f"DC {self.dc_id}: {trigger} is not allowed in state {self.state}")
        self.state = destination
        return destination

    def can(self, trigger: str) -> bool:
        return trigger in _NEXT[self.state]

    @property
    def persistent_state(self) -> str:
        """The state to store: what the DC will be in after a restart, when nothing is in flight
        (a key being made or an export or import sent is lost with the connection)."""
        return _AFTER_RESTART[self.state]

    @property
    def has_key(self) -> bool:
        return self.state in _KEY_READY_STATES

    @property
    def handshake_running(self) -> bool:
        return self.state in _HANDSHAKE_STATES

    @property
    def export_in_flight(self) -> bool:
        """auth.exportAuthorization for this DC is waiting for its answer on the home DC."""
        return self.state in _EXPORT_IN_FLIGHT_STATES

    @property
    def export_in_hand(self) -> bool:
        """An exported authorization waits for this DC's key before it can be imported."""
        return self.state in _EXPORT_IN_HAND_STATES

    @property
    def is_authorized(self) -> bool:
        return self.state == AUTHORIZED

    # -- triggers --------------------------------------------------------------------------

    def start_handshake(self) -> str:
        """The client began creating an auth key for this DC."""
        return self.fire("start_handshake")

    def key_created(self) -> str:
        """The handshake produced a key.  With an export in hand the client now sends the
        import (state ``importing``)."""
        return self.fire("key_created")

    def handshake_failed(self) -> str:
        """The client gave up creating the key; an export in flight or in hand is kept."""
        return self.fire("handshake_failed")

    def key_dropped(self) -> str:
        """The key is gone (transport error -404, the server forgot it): the authorization bound
        to it goes too, and a sent import is void.  An export still in flight is kept."""
        return self.fire("key_dropped")

    def begin_export(self) -> str:
        """auth.exportAuthorization for this DC was sent to the home DC (before, during or after
        the handshake).  Only one at a time: not allowed while one is in flight or in hand."""
        return self.fire("begin_export")

    def exported(self) -> str:
        """The export's answer arrived.  With the key ready the client now sends
        auth.importAuthorization (state ``importing``); otherwise it waits for the key."""
        return self.fire("exported")

    def export_failed(self) -> str:
        """The export failed, or the client discarded its result: no import will be made."""
        return self.fire("export_failed")

    def imported(self) -> str:
        """auth.importAuthorization succeeded: the DC serves the user."""
        return self.fire("imported")

    def import_failed(self) -> str:
        """auth.importAuthorization failed; the key is still good."""
        return self.fire("import_failed")

    def signed_in(self) -> str:
        """The user signed in on this DC (the home DC): auth.signIn and friends."""
        return self.fire("signed_in")

    def authorization_lost(self) -> str:
        """AUTH_KEY_UNREGISTERED or SESSION_REVOKED on a DC that is not home: repaired by a new
        export.  A second report of the same loss is allowed; one during the repair is not."""
        return self.fire("authorization_lost")

    def logged_out(self) -> str:
        """The user is logged out (auth.logOut, or a loss on the home DC): every DC drops its
        authorization and abandons exports and imports; keys and handshakes stay."""
        return self.fire("logged_out")

    def reset(self) -> str:
        """Forget everything about this DC (its key destroyed, the DC given up)."""
        return self.fire("reset")

    def __repr__(self) -> str:
        return f"DcAuthorization(dc_id={self.dc_id!r}, state={self.state!r})"


@cache
def build_machine() -> Machine:
    """The ``transitions`` machine of :data:`TRANSITIONS`, built once (building it checks the
    table).  Its model is the machine itself, starting in :data:`INITIAL_STATE`; callers may
    move it around, which is why :func:`mermaid_diagram` draws from a machine of its own."""
    return _new_machine()


def _new_machine() -> Machine:
    from transitions.extensions import GraphMachine

    machine: Machine = GraphMachine(
        states=list(STATES),
        transitions=[{"trigger": t, "source": s, "dest": d} for t, s, d in TRANSITIONS],
        initial=INITIAL_STATE,
        auto_transitions=False,
        graph_engine="mermaid",
        title="DC authorization lifecycle",
    )
    return machine


def mermaid_diagram() -> str:
    """The lifecycle as a Mermaid ``stateDiagram-v2``, drawn by ``transitions`` from a fresh
    machine (so the drawing is the same whatever state the shared one is in)."""
    machine: Any = _new_machine()
    text: str = machine.get_graph().draw(None)
    return text.rstrip() + "\n"


if __name__ == "__main__":
    print(mermaid_diagram(), end="")
