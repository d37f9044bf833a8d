"""Round trips of the DC scenarios through the simulated cluster, beside the protocol minimum.

Each scenario of :data:`sansio_mtdc.sim.scenarios.SCENARIOS` builds its own world (a reference
cluster, a simulated network of 50 ms one-way latency, a client) and measures the scenario alone
in virtual time; a TCP connect counts one round trip and the handshake three.  The minimum is
what the protocol allows; Telethon's figure is given where it is known (its FILE_MIGRATE path
makes the key, then exports, imports and asks again, one after the other).  Several seeds run
per scenario: the count must not depend on the random bytes.
"""

from __future__ import annotations

from sansio_mtdc.sim.scenarios import SCENARIOS


def run(table_factory, quick: bool) -> None:  # type: ignore[no-untyped-def]
    table = table_factory("round trips per DC scenario (simulated cluster; connect = 1, "
                          "handshake = 3)", ["scenario", "sansio_mtdc", "minimum", "Telethon",
                                             "outcome"])
    seeds = range(1 if quick else 5)
    for scenario in SCENARIOS:
        counts = set()
        ok = True
        for seed in seeds:
            measured = scenario.run(seed)
            counts.add(measured.round_trips)
            ok = ok and measured.ok
        ours = ", ".join(f"{count:g}" for count in sorted(counts))
        telethon = "" if scenario.telethon is None else str(scenario.telethon)
        table.add(scenario.name, ours, scenario.minimum, telethon, "ok" if ok else "FAILED")
    table.print()
