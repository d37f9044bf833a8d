"""The ``demo`` command: in-process (its trace, its round trips, its verdict when a cluster knob
breaks a step) and once as ``python -m sansio_mtdc demo``."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections.abc import Callable

import pytest

from sansio_mtdc.adapters import cli, demo
from sansio_mtdc.adapters.serve import RunningCluster
from sansio_mtdc.server import Cluster
from sansio_mtdc.sim.scenarios import phone_of

OK_LINE = re.compile(r"^  ok: (\d+) round trips? \(minimum (\d+)\), \d+\.\d{3} s$", re.M)
HEADER = re.compile(r"^(\d)\. ", re.M)
#: the protocol's fewest round trips per step, worked out by hand (demo.py derives them from
#: the simulated scenarios): cold start 1 + 3 + 1; PHONE_MIGRATE with DC 2 ready 1 + 1 + 3 + 1,
#: then signIn 1; upload 1, uploadMedia 1, a second account's cold sendCode 5 and signIn 1,
#: its FILE_MIGRATE download 6; USER_MIGRATE 6; resume 2
EXPECTED = [5, 7, 14, 6, 2]


def run_demo(before_step: demo.BeforeStep | None = None,
             quiet: bool = False) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = demo.main(out=out, err=err, before_step=before_step, quiet=quiet)
    return status, out.getvalue(), err.getvalue()


def steps_of(trace: str) -> dict[int, str]:
    """The trace before the summary table, cut at each step header."""
    trace = trace.split("\nstep ", 1)[0]
    starts = [(int(m.group(1)), m.start()) for m in HEADER.finditer(trace)]
    return {n: trace[at:end] for (n, at), (_, end)
            in zip(starts, [*starts[1:], (0, len(trace))])}


def summary_rows(trace: str) -> dict[str, str]:
    rows = {}
    for step in demo.STEPS:
        found = re.search(rf"^{step.number}\. {step.name} +\S+ +\S+ +.*?  (.+)$", trace, re.M)
        assert found, f"no summary row for step {step.number}"
        rows[step.name] = found.group(1)
    return rows


def test_every_step_does_what_it_says_in_the_fewest_round_trips() -> None:
    status, out, err = run_demo()
    assert (status, err) == (0, "")
    taken = [(int(n), int(m)) for n, m in OK_LINE.findall(out)]
    assert taken == list(zip(EXPECTED, EXPECTED))
    assert set(summary_rows(out).values()) == {"ok"}
    steps = steps_of(out)
    assert "    DC 2: permanent auth key" in steps[1]
    assert "this_dc 2, DCs 1, 2, 3, 4, 5" in steps[1]
    assert "    home DC 2 -> 3 (PHONE_MIGRATE_X)\n" in steps[2]
    assert "auth.sendCode +9996631234: 6 round trips" in steps[2]
    assert "[second account] DC 4: auth.exportAuthorization for DC 3" in steps[3]
    assert "[second account] DC 3: auth.importAuthorization accepted" in steps[3]
    assert "1310720 bytes, lives on DC 3" in steps[3]
    assert re.search(r"1310720 bytes from DC 3, sha256 [0-9a-f]{16}\.\.\. matches the upload",
                     steps[3])
    assert "    home DC 3 -> 5 (USER_MIGRATE_X)\n" in steps[4]
    assert "auth key" not in steps[5].replace("auth keys for DCs", "")
    assert "users.getUsers ran on DC 5" in steps[5]


def test_quiet_prints_the_table_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "-q"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("step ")
    assert not OK_LINE.search(out) and not HEADER.search(out.split("\n", 1)[0])
    assert set(summary_rows(out).values()) == {"ok"}
    assert re.search(rf"^total +{sum(EXPECTED)} +{sum(EXPECTED)} ", out, re.M)


def _on(number: int, knob: Callable[[Cluster], object]) -> demo.BeforeStep:
    def before_step(step: demo.Step, running: RunningCluster) -> None:
        if step.number == number:
            knob(running.cluster)
    return before_step


@pytest.mark.parametrize(("number", "knob", "reason"), [
    # the user already lives on DC 2: no PHONE_MIGRATE, so the step's claim is false
    (2, lambda c: c.migrate_user(phone_of(3), 2), "expected the home DC to move 2 -> 3"),
    (3, lambda c: c.inject_error(400, "FILE_REFERENCE_EXPIRED", method="upload.getFile",
                                 dc_id=3, times=5), "FILE_REFERENCE_EXPIRED"),
    # DC 5 forgets the key the session file holds: the resumed client needs a new one
    (5, lambda c: c.forget_auth_key(5), "AUTH_KEY_UNREGISTERED"),
], ids=["phone-migrate", "file-transfer", "resume"])
def test_a_broken_step_fails_the_demo_by_name(number: int, knob: Callable[[Cluster], object],
                                              reason: str) -> None:
    status, out, err = run_demo(_on(number, knob))
    step = demo.STEPS[number - 1]
    assert status == 1
    assert err.startswith(f"demo: step {number} ({step.name}) failed: ")
    assert reason in err
    assert f"  FAILED: {err.split(' failed: ', 1)[1]}" in steps_of(out)[number]
    rows = summary_rows(out)
    assert [rows[s.name] for s in demo.STEPS] == (
        ["ok"] * (number - 1) + ["FAILED"] + ["not run"] * (len(demo.STEPS) - number))
    if number == 5:
        assert "    DC 5: permanent auth key" in steps_of(out)[5]


def test_the_command_runs_as_a_module() -> None:
    done = subprocess.run([sys.executable, "-m", "sansio_mtdc", "demo", "--verbose"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [int(n) for n, _ in OK_LINE.findall(done.stdout)] == EXPECTED
    assert "sansio_mtdc.serve: DC 3: authorization imported" in done.stderr
    assert "sansio_mtdc.client: home DC 3 -> 5 (USER_MIGRATE_X)" in done.stderr
