"""The per-DC authorization lifecycle: legal paths, illegal triggers, and the declared table."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections import deque

import pytest
from transitions import MachineError

from sansio_mtdc.dc.authorization import (
    INITIAL_STATE,
    PERSISTENT_STATES,
    STATES,
    TRANSITIONS,
    TRIGGERS,
    DcAuthorization,
    build_machine,
    mermaid_diagram,
    next_state,
)
from sansio_mtdc.errors import UsageError

ALL_PAIRS = list(itertools.product(STATES, TRIGGERS))


def _walk(*triggers: str, dc_id: int = 4) -> DcAuthorization:
    auth = DcAuthorization(dc_id)
    for trigger in triggers:
        getattr(auth, trigger)()
    return auth


@pytest.mark.parametrize(("state", "trigger"), ALL_PAIRS)
def test_runtime_table_and_transitions_machine_agree(state: str, trigger: str) -> None:
    machine = build_machine()
    machine.set_state(state)
    try:
        machine.trigger(trigger)
        reached: str | None = machine.state
    except MachineError:
        reached = None
    assert next_state(state, trigger) == reached
    auth = DcAuthorization(2, state)
    assert auth.can(trigger) == (reached is not None)
    if reached is None:
        with pytest.raises(UsageError) as info:
            auth.fire(trigger)
        message = str(info.value)
        assert state in message and trigger in message and "DC 2" in message
        assert auth.state == state  # nothing changed
    else:
        assert getattr(auth, trigger)() == reached == auth.state


def test_the_machine_is_built_once_and_knows_every_state() -> None:
    assert build_machine() is build_machine()
    assert set(build_machine().states) == set(STATES)
    assert build_machine().get_triggers(INITIAL_STATE)


def test_every_state_is_reachable_and_can_get_back_to_authorized() -> None:
    seen = {INITIAL_STATE}
    queue = deque([INITIAL_STATE])
    while queue:
        state = queue.popleft()
        for trigger in TRIGGERS:
            following = next_state(state, trigger)
            if following is not None and following not in seen:
                seen.add(following)
                queue.append(following)
    assert seen == set(STATES)
    for state in STATES:  # no dead end: authorized is reachable from everywhere
        frontier, reached = [state], {state}
        while frontier:
            current = frontier.pop()
            for trigger in TRIGGERS:
                following = next_state(current, trigger)
                if following is not None and following not in reached:
                    reached.add(following)
                    frontier.append(following)
        assert "authorized" in reached, state


def test_home_dc_signs_in() -> None:
    auth = _walk("start_handshake", "key_created", "signed_in")
    assert auth.state == "authorized" and auth.is_authorized and auth.has_key


@pytest.mark.parametrize("order", [
    ("start_handshake", "begin_export", "key_created", "exported"),
    ("start_handshake", "begin_export", "exported", "key_created"),
    ("begin_export", "start_handshake", "key_created", "exported"),
    ("begin_export", "start_handshake", "exported", "key_created"),
    ("begin_export", "exported", "start_handshake", "key_created"),
    ("start_handshake", "key_created", "begin_export", "exported"),
])
def test_export_runs_while_the_handshake_runs_in_any_order(order: tuple[str, ...]) -> None:
    auth = _walk(*order)
    assert auth.state == "importing"
    assert auth.imported() == "authorized"


def test_export_and_handshake_flags() -> None:
    auth = _walk("start_handshake", "begin_export")
    assert auth.state == "handshaking_exporting"
    assert auth.handshake_running and auth.export_in_flight and not auth.has_key
    auth.exported()
    assert auth.export_in_hand and not auth.export_in_flight
    auth.key_created()
    assert auth.has_key and not auth.handshake_running and not auth.export_in_hand


@pytest.mark.parametrize("state", [s for s in STATES if "export" in s] + ["importing"])
def test_one_export_per_dc_at_a_time(state: str) -> None:
    auth = DcAuthorization(4, state)
    assert not auth.can("begin_export")
    with pytest.raises(UsageError, match="begin_export"):
        auth.begin_export()


def test_lost_authorization_is_repaired_by_a_new_export() -> None:
    auth = _walk("start_handshake", "key_created", "begin_export", "exported", "imported")
    assert auth.authorization_lost() == "lost"
    assert auth.authorization_lost() == "lost"  # a second request reports the same loss
    assert auth.begin_export() == "exporting"
    assert not auth.can("authorization_lost")  # a stale report during the repair is a bug
    assert auth.exported() == "importing"
    assert auth.imported() == "authorized"


def test_failures_fall_back_without_losing_the_key() -> None:
    auth = _walk("start_handshake", "key_created", "begin_export")
    assert auth.export_failed() == "key_ready"
    auth.begin_export()
    auth.exported()
    assert auth.import_failed() == "key_ready"
    assert auth.has_key


def test_handshake_failure_keeps_the_export() -> None:
    auth = _walk("start_handshake", "begin_export")
    assert auth.handshake_failed() == "no_key_exporting"
    assert auth.start_handshake() == "handshaking_exporting"
    auth.exported()
    assert auth.handshake_failed() == "no_key_exported"
    assert auth.export_failed() == "no_key"


def test_dropped_key_takes_the_authorization_with_it() -> None:
    auth = _walk("start_handshake", "key_created", "signed_in")
    assert auth.key_dropped() == "no_key"
    auth = _walk("start_handshake", "key_created", "begin_export")
    assert auth.key_dropped() == "no_key_exporting"  # the export in flight is not lost
    auth = _walk("start_handshake", "key_created", "begin_export", "exported")
    assert auth.key_dropped() == "no_key"  # the import went with the key
    with pytest.raises(UsageError):
        _walk("start_handshake").key_dropped()  # a key being made is not dropped, it fails


@pytest.mark.parametrize("state", STATES)
def test_logout_reaches_every_dc_and_keeps_keys(state: str) -> None:
    auth = DcAuthorization(3, state)
    had_key, handshaking = auth.has_key, auth.handshake_running
    auth.logged_out()
    assert not auth.is_authorized and not auth.export_in_flight and not auth.export_in_hand
    assert auth.state not in ("importing", "lost")
    assert (auth.has_key, auth.handshake_running) == (had_key, handshaking)


@pytest.mark.parametrize("state", STATES)
def test_reset_forgets_everything(state: str) -> None:
    assert DcAuthorization(3, state).reset() == "no_key"


@pytest.mark.parametrize("state", STATES)
def test_persistent_state_and_restore(state: str) -> None:
    auth = DcAuthorization(5, state)
    stored = auth.persistent_state
    assert stored in PERSISTENT_STATES
    restored = DcAuthorization.restore(5, stored)
    assert restored.has_key == auth.has_key
    assert restored.is_authorized == auth.is_authorized
    if state not in PERSISTENT_STATES:
        with pytest.raises(UsageError):
            DcAuthorization.restore(5, state)
    else:
        assert stored == state


def test_unknown_names_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="unknown authorization state"):
        DcAuthorization(1, "half_authorized")
    with pytest.raises(UsageError, match="unknown authorization trigger"):
        DcAuthorization(1).fire("teleport")
    assert next_state("nowhere", "reset") is None


def test_the_declaration_is_consistent() -> None:
    assert len(set(STATES)) == len(STATES)
    pairs = [(trigger, source) for trigger, source, _ in TRANSITIONS]
    assert len(set(pairs)) == len(pairs)
    assert all(s in STATES and d in STATES for _, s, d in TRANSITIONS)
    for trigger in TRIGGERS:
        assert callable(getattr(DcAuthorization, trigger)), trigger


def test_the_lifecycle_object_is_tiny() -> None:
    auth = DcAuthorization(2)
    assert not hasattr(auth, "__dict__")
    assert sys.getsizeof(auth) <= 64


def test_importing_the_module_does_not_import_transitions() -> None:
    code = ("import sys, sansio_mtdc.dc.authorization as a; a.DcAuthorization(1).start_handshake();"
            " print('transitions' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_command_prints_the_mermaid_diagram() -> None:
    out = subprocess.run([sys.executable, "-W", "error", "-m", "sansio_mtdc.dc.authorization"],
                         capture_output=True, text=True, check=True)
    assert out.stdout == mermaid_diagram()
    assert "stateDiagram-v2" in out.stdout
    for trigger, source, destination in TRANSITIONS:
        assert any(line.strip().startswith(f"{source} --> {destination}:") and trigger in line
                   for line in out.stdout.splitlines()), (trigger, source, destination)


def test_the_docs_show_the_current_diagram() -> None:
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "dc.md").read_text()
    assert f"```mermaid\n{mermaid_diagram()}```" in docs
    for trigger in TRIGGERS:
        assert f"| `{trigger}` |" in docs, trigger
