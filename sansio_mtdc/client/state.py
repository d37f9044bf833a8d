"""The client's persistent state: enough to resume without a handshake or an export.

A :class:`ClientState` is a value (frozen); the machine hands out a new one in every
``StateChanged`` event and accepts one back at construction.  ``to_dict``/``from_dict`` give a
JSON-friendly form with a format name and a version; reading checks every field, so a damaged or
foreign file gives a clear :class:`StateError` instead of a half-restored client.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError

__all__ = ["STATE_FORMAT", "STATE_VERSION", "ClientState", "DcState", "StateError"]

STATE_FORMAT = "sansio_mtdc.client"
STATE_VERSION = 1


class StateError(UsageError):
    """A saved state that cannot be used: corrupt, foreign, or written by a newer version."""


@dataclass(frozen=True, slots=True)
class DcState:
    """What is remembered of one DC: its auth key, whether the user is authorized there, its
    salt."""

    dc_id: int
    auth_key: bytes | None = field(default=None, repr=False)
    authorized: bool = False
    salt: int = 0

    def __post_init__(self) -> None:
        if type(self.dc_id) is not int or self.dc_id <= 0:
            raise StateError(f"a DC id is a positive int, not {self.dc_id!r}")
        if self.auth_key is not None and (type(self.auth_key) is not bytes
                                          or len(self.auth_key) != 256):
            raise StateError(f"DC {self.dc_id}: an auth key is 256 bytes")
        if self.authorized and self.auth_key is None:
            raise StateError(f"DC {self.dc_id}: authorized without an auth key")
        if type(self.salt) is not int or not -(2**63) <= self.salt < 2**63:
            raise StateError(f"DC {self.dc_id}: a salt is a signed 64-bit int")


@dataclass(frozen=True, slots=True)
class ClientState:
    """Home DC, per-DC keys and authorization, time offset, DC table (with its config expiry) and
    the user id when known."""

    home_dc: int
    test_mode: bool = False
    user_id: int | None = None
    time_offset: float = 0.0
    dcs: tuple[DcState, ...] = ()
    dc_table: Mapping[str, Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if type(self.home_dc) is not int or self.home_dc <= 0:
            raise StateError(f"the home DC is a positive int, not {self.home_dc!r}")
        ids = [dc.dc_id for dc in self.dcs]
        if len(ids) != len(set(ids)):
            raise StateError("a DC appears twice in the state")

    def dc(self, dc_id: int) -> DcState | None:
        for entry in self.dcs:
            if entry.dc_id == dc_id:
                return entry
        return None

    @property
    def authorized(self) -> bool:
        """Whether the user is signed in (authorized on the home DC)."""
        home = self.dc(self.home_dc)
        return home is not None and home.authorized

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "home_dc": self.home_dc,
            "test_mode": self.test_mode,
            "user_id": self.user_id,
            "time_offset": self.time_offset,
            "dcs": [
                {"dc_id": dc.dc_id, "auth_key": None if dc.auth_key is None else dc.auth_key.hex(),
                 "authorized": dc.authorized, "salt": dc.salt}
                for dc in self.dcs
            ],
            "dc_table": None if self.dc_table is None else dict(self.dc_table),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClientState:
        if not isinstance(data, Mapping):
            raise StateError(f"a saved state is an object, not {type(data).__name__}")
        if data.get("format") != STATE_FORMAT:
            raise StateError(f"not a sansio_mtdc client state (format {data.get('format')!r})")
        version = data.get("version")
        if type(version) is not int:
            raise StateError("the saved state has no version")
        if version > STATE_VERSION:
            raise StateError(f"the saved state has version {version}, newer than this library's "
                             f"{STATE_VERSION}: upgrade sansio_mtdc to read it")
        if version < 1:
            raise StateError(f"unknown state version {version}")
        dcs = []
        raw_dcs = _get(data, "dcs", list)
        for raw in raw_dcs:
            if not isinstance(raw, Mapping):
                raise StateError("a DC entry is an object")
            key_hex = raw.get("auth_key")
            key: bytes | None = None
            if key_hex is not None:
                if not isinstance(key_hex, str):
                    raise StateError("an auth key is a hex string")
                try:
                    key = bytes.fromhex(key_hex)
                except ValueError as exc:
                    raise StateError("an auth key is a hex string") from exc
            dcs.append(DcState(_get(raw, "dc_id", int), key, _get(raw, "authorized", bool),
                               _get(raw, "salt", int)))
        user_id = data.get("user_id")
        if user_id is not None and type(user_id) is not int:
            raise StateError("user_id is an int or null")
        offset = data.get("time_offset")
        if not isinstance(offset, int | float) or isinstance(offset, bool):
            raise StateError("time_offset is a number")
        table = data.get("dc_table")
        if table is not None and not isinstance(table, Mapping):
            raise StateError("dc_table is an object or null")
        return cls(home_dc=_get(data, "home_dc", int), test_mode=_get(data, "test_mode", bool),
                   user_id=user_id, time_offset=float(offset), dcs=tuple(dcs), dc_table=table)

    @classmethod
    def from_json(cls, text: str | bytes) -> ClientState:
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise StateError(f"the saved state is not valid JSON: {exc}") from exc
        return cls.from_dict(data)


def _get(mapping: Mapping[str, Any], name: str, kind: type) -> Any:
    value = mapping.get(name)
    if type(value) is not kind:
        raise StateError(f"{name!r} must be {kind.__name__}, not {type(value).__name__}")
    return value
