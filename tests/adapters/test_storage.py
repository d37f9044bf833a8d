"""The session store on real SQLite files: round trips, migration, concurrency, damage."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sansio_mtdc.adapters.storage import (
    SCHEMA_VERSION,
    MemoryStore,
    SQLiteStore,
    StorageError,
    export_state,
    import_state,
)
from sansio_mtdc.client.state import ClientState, DcState


def make_state(home: int = 2, salt: int = 7) -> ClientState:
    return ClientState(
        home_dc=home, test_mode=True, user_id=42, time_offset=-1.5,
        dcs=(DcState(home, bytes(range(256)), True, salt), DcState(4, b"\x01" * 256, False, 0)),
        dc_table={"format": "x", "version": 1},
    )


def test_sqlite_round_trip_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "a.session"
    with SQLiteStore(path) as store:
        assert store.load() is None
        store.save(make_state())
        store.save(make_state(salt=9))
        assert store.load() == make_state(salt=9)
    with SQLiteStore(path) as store:
        assert store.load() == make_state(salt=9)
        assert store.schema_version == SCHEMA_VERSION


def test_several_accounts_in_one_file(tmp_path: Path) -> None:
    path = tmp_path / "many.session"
    with SQLiteStore(path, name="alice") as a, SQLiteStore(path, name="bob") as b:
        a.save(make_state(home=1))
        b.save(make_state(home=3))
        assert a.load().home_dc == 1
        assert b.load().home_dc == 3
        assert a.names() == ["alice", "bob"]
        b.delete()
        assert b.load() is None and a.load() is not None


def test_in_memory_sqlite_and_memory_store() -> None:
    with SQLiteStore(":memory:") as store:
        store.save(make_state())
        assert store.load() == make_state()
    mem = MemoryStore()
    assert mem.load() is None
    mem.save(make_state())
    assert mem.load() == make_state() and mem.saves == 1


def test_export_import_string() -> None:
    text = export_state(make_state())
    assert text.startswith("mtdc1:") and "\n" not in text
    assert import_state(text) == make_state()
    with pytest.raises(StorageError):
        import_state("hello")
    with pytest.raises(StorageError):
        import_state(text[:-10])
    with pytest.raises(StorageError):
        import_state("mtdc1:" + "A" * 40)


def test_migrates_a_version_1_file(tmp_path: Path) -> None:
    path = tmp_path / "old.session"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE sessions (name TEXT PRIMARY KEY, state TEXT NOT NULL)")
    db.execute("INSERT INTO sessions VALUES (?, ?)", ("default", make_state().to_json()))
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with SQLiteStore(path) as store:
        assert store.schema_version == 2
        assert store.load() == make_state()
        store.save(make_state(salt=1))
        assert store.load() == make_state(salt=1)


def test_newer_schema_is_refused_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "new.session"
    with SQLiteStore(path) as store:
        store.save(make_state())
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    with pytest.raises(StorageError, match="newer"):
        SQLiteStore(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 99
    assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 1
    db.close()


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "junk.session"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StorageError, match="not a usable session file"):
        SQLiteStore(path)
    assert path.read_bytes().startswith(b"this is not sqlite")


def test_a_foreign_sqlite_database(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE invoices (id INTEGER)")
    db.commit()
    db.close()
    with pytest.raises(StorageError, match="something else"):
        SQLiteStore(path)


def test_damaged_state_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.session"
    with SQLiteStore(path) as store:
        store.save(make_state())
    db = sqlite3.connect(path)
    db.execute("UPDATE sessions SET state = '{\"format\": \"sansio_mtdc.client\", \"version\": 7}'")
    db.commit()
    db.close()
    with SQLiteStore(path) as store, pytest.raises(StorageError, match="newer"):
        store.load()


def test_two_processes_writing_the_same_file(tmp_path: Path) -> None:
    """Writers in two processes, interleaved: every write lands whole and the file stays sound."""
    path = tmp_path / "shared.session"
    SQLiteStore(path).close()
    script = textwrap.dedent(f"""
        import sys
        from sansio_mtdc.adapters.storage import SQLiteStore
        from sansio_mtdc.client.state import ClientState, DcState
        name = sys.argv[1]
        with SQLiteStore({str(path)!r}, name=name) as store:
            for i in range(150):
                store.save(ClientState(home_dc=1 + i % 5, dcs=(DcState(1, bytes(256), True, i),)))
                assert store.load().dcs[0].salt == i
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, name],
                              stderr=subprocess.PIPE, text=True) for name in ("p1", "p2")]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    with SQLiteStore(path, name="p1") as a, SQLiteStore(path, name="p2") as b:
        assert a.load().dcs[0].salt == 149
        assert b.load().dcs[0].salt == 149
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


def test_a_failed_write_leaves_the_previous_state(tmp_path: Path) -> None:
    path = tmp_path / "atomic.session"
    with SQLiteStore(path) as store:
        store.save(make_state(salt=1))

        class Exploding(ClientState):
            def to_json(self) -> str:  # fails in the middle of the write
                raise RuntimeError("disk on fire")

        broken = Exploding(home_dc=2)
        with pytest.raises(RuntimeError):
            store.save(broken)
        assert store.load() == make_state(salt=1)
        store.save(make_state(salt=2))
        assert store.load() == make_state(salt=2)
