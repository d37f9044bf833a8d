"""Where a client's state lives between runs: SQLite by default, memory, or a string.

The client machine hands out a :class:`~sansio_mtdc.client.state.ClientState` in every
``StateChanged`` event; an adapter saves it here and loads it back at start, so a restart needs
no new handshake and no new authorization transfer.

SQLite is the default because it is in the standard library and gives what a session file needs:
atomic writes (each save is one transaction), safe sharing between processes (WAL journal and a
busy timeout; writers take the lock up front with ``BEGIN IMMEDIATE``), and a schema version
(``PRAGMA user_version``) that is migrated forward on open.  A file that is not a database, is
damaged, or was written by a newer version of this library raises :class:`StorageError` with the
reason; it is never silently replaced by an empty state.
"""

from __future__ import annotations

import base64
import os
import sqlite3
import time
import zlib
from collections.abc import Callable
from typing import Protocol

from sansio_mtdc.client.state import ClientState, StateError
from sansio_mtdc.errors import MTDCError

__all__ = [
    "SCHEMA_VERSION",
    "MemoryStore",
    "SQLiteStore",
    "StateStore",
    "StorageError",
    "export_state",
    "import_state",
]

#: The layout this code writes.  Each entry of ``_MIGRATIONS`` lifts a file by one version.
SCHEMA_VERSION = 2
_EXPORT_PREFIX = "mtdc1:"


class StorageError(MTDCError):
    """The session storage cannot be used: corrupt, foreign, locked too long, or too new."""


class StateStore(Protocol):
    """What an adapter needs from a store."""

    def load(self) -> ClientState | None: ...

    def save(self, state: ClientState) -> None: ...

    def close(self) -> None: ...


class MemoryStore:
    """Keeps the state in memory (tests, short-lived clients)."""

    def __init__(self, state: ClientState | None = None) -> None:
        self._state = state
        self.saves = 0

    def load(self) -> ClientState | None:
        return self._state

    def save(self, state: ClientState) -> None:
        self._state = state
        self.saves += 1

    def close(self) -> None:
        pass


def export_state(state: ClientState) -> str:
    """The state as one printable line (for environment variables, secrets managers, ...).

    It holds the auth keys: treat it like a password."""
    packed = zlib.compress(state.to_json().encode(), 9)
    return _EXPORT_PREFIX + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def import_state(text: str) -> ClientState:
    """Read a string made by :func:`export_state`."""
    text = text.strip()
    if not text.startswith(_EXPORT_PREFIX):
        raise StorageError(f"an exported state starts with {_EXPORT_PREFIX!r}")
    body = text[len(_EXPORT_PREFIX):]
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        data = zlib.decompress(packed)
    except (ValueError, zlib.error) as exc:
        raise StorageError(f"the exported state is damaged: {exc}") from exc
    try:
        return ClientState.from_json(data)
    except StateError as exc:
        raise StorageError(f"the exported state is not usable: {exc}") from exc


def _create_v1(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE sessions (name TEXT PRIMARY KEY, state TEXT NOT NULL)")


def _v1_to_v2(db: sqlite3.Connection) -> None:
    # Version 2 records when and by which library version each state was written, so that a
    # person looking at a file can tell which client wrote it last.
    db.execute("ALTER TABLE sessions ADD COLUMN updated_at REAL")
    db.execute("ALTER TABLE sessions ADD COLUMN written_by TEXT")


#: ``_MIGRATIONS[v]`` turns a version-``v`` file into version ``v + 1``.
_MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {0: _create_v1, 1: _v1_to_v2}


class SQLiteStore:
    """A session file: one row per account ``name``, so one file can hold several clients.

    ``timeout`` is how long a save or load waits for another process's write lock before it
    raises :class:`StorageError`.
    """

    def __init__(self, path: str | os.PathLike[str], *, name: str = "default",
                 timeout: float = 10.0) -> None:
        self.path = os.fspath(path)
        self.name = name
        try:
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None,
                                       check_same_thread=False)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open session file {self.path}: {exc}") from exc
        try:
            self._db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise StorageError(f"{self.path} is not a usable session file: {exc}") from exc
        except StorageError:
            self._db.close()
            raise

    def _migrate(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StorageError(
                    f"{self.path} was written by a newer sansio_mtdc (schema {version}, this "
                    f"version reads up to {SCHEMA_VERSION}): upgrade to open it")
            if version == 0 and self._has_tables():
                raise StorageError(f"{self.path} is a SQLite database of something else")
            while version < SCHEMA_VERSION:
                _MIGRATIONS[version](self._db)
                version += 1
                self._db.execute(f"PRAGMA user_version = {version}")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _has_tables(self) -> bool:
        row = self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return bool(row[0])

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def load(self) -> ClientState | None:
        try:
            row = self._db.execute("SELECT state FROM sessions WHERE name = ?",
                                   (self.name,)).fetchone()
        except sqlite3.Error as exc:
            raise StorageError(f"cannot read {self.path}: {exc}") from exc
        if row is None:
            return None
        try:
            return ClientState.from_json(row[0])
        except StateError as exc:
            raise StorageError(f"{self.path} holds a state that cannot be used: {exc}") from exc

    def save(self, state: ClientState) -> None:
        from sansio_mtdc import __version__

        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO sessions (name, state, updated_at, written_by) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                    "state = excluded.state, updated_at = excluded.updated_at, "
                    "written_by = excluded.written_by",
                    (self.name, state.to_json(), time.time(), __version__))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StorageError(f"cannot write {self.path}: {exc}") from exc

    def names(self) -> list[str]:
        """The accounts stored in this file."""
        return [row[0] for row in self._db.execute("SELECT name FROM sessions ORDER BY name")]

    def delete(self) -> None:
        """Forget this account's state (after logging out)."""
        self._db.execute("DELETE FROM sessions WHERE name = ?", (self.name,))

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
