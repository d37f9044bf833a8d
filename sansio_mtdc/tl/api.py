"""The Telegram API schema (``api.tl``, layer :data:`LAYER`) as Python classes.

``api.types.DcOption``, ``api.types.auth.Authorization``, ``api.functions.help.GetConfig``,
``api.functions.InvokeWithLayer``...: each class is made the first time it is named; importing
this module parses nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .registry import Namespace
    from .schema import Schema

__all__ = ["LAYER", "functions", "schema", "types"]

#: API layer of the bundled ``api.tl`` (tdlib's MTPROTO_LAYER for the same commit)
LAYER = 228

#: made on first access (module ``__getattr__``)
types: Namespace
functions: Namespace
schema: Schema


def __getattr__(name: str) -> Any:
    if name not in ("types", "functions", "schema"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import registry

    value: Any = (registry.schema("api") if name == "schema"
                  else registry.namespace("api", name))
    globals()[name] = value
    return value
