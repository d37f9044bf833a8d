"""The MTProto service schema (``mtproto.tl``) as Python classes.

``mtproto.types.ResPQ``, ``mtproto.types.MsgContainer``, ``mtproto.functions.ReqDHParams``...:
each class is made the first time it is named; importing this module parses nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .registry import Namespace
    from .schema import Schema

__all__ = ["functions", "schema", "types"]

#: made on first access (module ``__getattr__``)
types: Namespace
functions: Namespace
schema: Schema


def __getattr__(name: str) -> Any:
    if name not in ("types", "functions", "schema"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import registry

    value: Any = (registry.schema("mtproto") if name == "schema"
                  else registry.namespace("mtproto", name))
    globals()[name] = value
    return value
