"""What the cluster keeps is bounded: sessions per key and per DC, keys per DC."""

from __future__ import annotations

import pytest

from sansio_mtdc.server import cluster as cluster_module
from sansio_mtdc.server import sessions
from sansio_mtdc.tl import api

from .wiring import Client, cluster, installed_key

GET_CONFIG = api.functions.help.GetConfig()


def test_sessions_per_key_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sessions, "MAX_SESSIONS_PER_KEY", 2)
    c = cluster()
    key, salt = installed_key(c, 2)
    for n in range(3):
        client = Client(c, 2, seed=n)
        client.use_key(key, salt, session_id=100 + n)
        assert client.invoke(GET_CONFIG).this_dc == 2
    assert sorted(s for _, s in c.state.dc(2).sessions) == [101, 102]


def test_sessions_per_dc_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sessions, "MAX_SESSIONS_PER_DC", 2)
    c = cluster()
    for n in range(3):
        client = Client(c, 2, seed=n)
        key, salt = installed_key(c, 2, seed=n)
        client.use_key(key, salt, session_id=100 + n)
        assert client.invoke(GET_CONFIG).this_dc == 2
    assert sorted(s for _, s in c.state.dc(2).sessions) == [101, 102]


def test_keys_per_dc_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster_module, "MAX_KEYS_PER_DC", 1)
    c = cluster()
    first = Client(c, 1, seed=1)
    first.login_key()
    assert first.invoke(GET_CONFIG).this_dc == 1
    second = Client(c, 1, seed=2)
    second.login_key()
    assert second.invoke(GET_CONFIG).this_dc == 1
    assert first.invoke(GET_CONFIG) is None and first.transport_errors == [-404]
    assert len(c.auth_keys(1)) == 1
