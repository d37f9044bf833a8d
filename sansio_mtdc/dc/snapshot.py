"""The JSON-friendly form of a DC table, and a strict reader for it.

A snapshot is written by this library and read back after a restart, possibly from a file a
person edited or a disk damaged: the reader checks every field and raises :class:`UsageError`
(never ``KeyError``, ``TypeError``...) on anything it does not understand.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import UsageError
from .endpoint import FLAG_NAMES, Endpoint

__all__ = [
    "SNAPSHOT_FORMAT",
    "SNAPSHOT_VERSION",
    "endpoint_from_json",
    "endpoint_to_json",
    "field",
    "optional_int",
]

SNAPSHOT_FORMAT = "sansio_mtdc.dc.table"
SNAPSHOT_VERSION = 1
_MAX_SECRET_HEX = 128


def endpoint_to_json(endpoint: Endpoint) -> dict[str, Any]:
    """``{"dc_id", "host", "port", "flags": [set flag names], "secret": hex}`` (no secret key
    when there is none)."""
    out: dict[str, Any] = {"dc_id": endpoint.dc_id, "host": endpoint.host, "port": endpoint.port,
                           "flags": list(endpoint.flags)}
    if endpoint.secret is not None:
        out["secret"] = endpoint.secret.hex()
    return out


def endpoint_from_json(value: object) -> Endpoint:
    if not isinstance(value, Mapping):
        raise UsageError(f"a snapshot endpoint is an object, not {type(value).__name__}")
    flags = field(value, "flags", list)
    if any(not isinstance(name, str) or name not in FLAG_NAMES for name in flags):
        raise UsageError(f"unknown endpoint flag in {flags!r}")
    secret_hex = value.get("secret")
    secret = None
    if secret_hex is not None:
        if not isinstance(secret_hex, str) or len(secret_hex) > _MAX_SECRET_HEX:
            raise UsageError("an endpoint secret is a short hex string")
        try:
            secret = bytes.fromhex(secret_hex)
        except ValueError as exc:
            raise UsageError("an endpoint secret is a short hex string") from exc
    return Endpoint(field(value, "dc_id", int), field(value, "host", str),
                    field(value, "port", int), secret=secret,
                    **{name: name in flags for name in FLAG_NAMES})


def field(mapping: Mapping[str, Any], name: str, kind: type) -> Any:
    """``mapping[name]``, which must be a ``kind`` (bool is not an int here)."""
    if name not in mapping:
        raise UsageError(f"snapshot field {name!r} is missing")
    value = mapping[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise UsageError(f"snapshot field {name!r} is not a {kind.__name__}")
    return value


def optional_int(mapping: Mapping[str, Any], name: str) -> int | None:
    value = mapping.get(name)
    if value is None:
        return None
    if type(value) is not int:
        raise UsageError(f"snapshot field {name!r} is not an int")
    return value
