"""The table of served methods: TL name -> handler, and the decorator that fills it.

A handler is ``handler(request, ctx) -> result``: it returns the TL result or raises
:class:`~sansio_mtdc.errors.RPCError`.  What a handler needs before it runs is declared here,
not repeated in each one: ``needs_auth`` (``401 AUTH_KEY_UNREGISTERED`` without a user) and
``home_only`` (``303 USER_MIGRATE_X`` off the user's home DC).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .context import RequestContext

__all__ = ["METHODS", "Handler", "Method", "handles"]

Handler = Callable[[Any, RequestContext], Any]


@dataclass(frozen=True, slots=True)
class Method:
    name: str
    handler: Handler
    needs_auth: bool
    home_only: bool


#: TL name -> served method
METHODS: dict[str, Method] = {}


def handles(name: str, *, needs_auth: bool = False,
            home_only: bool = False) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of the TL method ``name``.

    ``home_only`` implies ``needs_auth``."""

    def register(handler: Handler) -> Handler:
        if name in METHODS:
            raise RuntimeError(f"{name} has two handlers")
        METHODS[name] = Method(name, handler, needs_auth or home_only, home_only)
        return handler

    return register
