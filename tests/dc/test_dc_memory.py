"""Memory: a client must fit in a few KiB, so the DC layer's objects must stay small.

Loose bounds, measured with tracemalloc (allocation sizes, not time): the point is to catch a
change that makes them grow by multiples, not to pin a number.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from typing import Any

from sansio_mtdc.dc import DcTable
from sansio_mtdc.dc.authorization import DcAuthorization

from .conftest import config, option


def _allocated(build: Callable[[], Any]) -> tuple[Any, int]:
    build()  # warm up: imports, caches, interned names
    gc.collect()
    tracemalloc.start()
    try:
        kept = build()
        gc.collect()
        size, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return kept, size


def _realistic_config() -> Any:
    """Five DCs as the real config lists them: IPv4 and IPv6, media-only addresses, two CDNs."""
    options = []
    for dc_id in range(1, 6):
        options += [option(dc_id, f"149.154.{160 + dc_id}.50"),
                    option(dc_id, f"2001:b28:f23d:f00{dc_id}::a"),
                    option(dc_id, f"149.154.{160 + dc_id}.222", media_only=True),
                    option(dc_id, f"2001:b28:f23d:f00{dc_id}::b", media_only=True)]
    options += [option(201, "91.108.23.100", cdn=True), option(203, "91.105.192.100", cdn=True)]
    return config(options)


def test_the_lifecycle_object_stays_under_one_kib() -> None:
    def build() -> DcAuthorization:
        auth = DcAuthorization(2)
        for trigger in ("start_handshake", "begin_export", "key_created", "exported",
                        "imported"):
            auth.fire(trigger)
        return auth

    auth, size = _allocated(build)
    assert auth.state == "authorized"
    assert size < 1024, size


def test_a_table_of_five_dcs_stays_small() -> None:
    cfg = _realistic_config()

    def build() -> DcTable:
        table = DcTable.bootstrap()
        table.apply_config(cfg, now=0.0)
        for endpoint in table.endpoints(2):
            table.report_failure(endpoint, now=1.0)
        table.candidates(2, purpose="media", ipv6="allow", obfuscated=False, now=2.0)
        return table

    table, size = _allocated(build)
    assert table.dc_ids() == [1, 2, 3, 4, 5] and table.dc_ids(cdn=True) == [201, 203]
    assert size < 16 * 1024, size
    _, bootstrap_size = _allocated(DcTable.bootstrap)
    assert bootstrap_size < 4 * 1024, bootstrap_size  # the built-in endpoints are shared
