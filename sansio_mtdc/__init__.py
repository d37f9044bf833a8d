"""sansio_mtdc: Telegram's MTProto 2.0 as a sans-I/O client state machine.

The core (this package, minus :mod:`sansio_mtdc.adapters`) never touches a socket, a clock, a
thread or a random source: time and randomness are arguments.  Importing it is cheap; the TL
schemas are parsed only when first used, and the client machine (``sansio_mtdc.Client``, its
config, state, actions, events and errors) is loaded when first named.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    FramingError,
    MTDCError,
    RemoteProtocolError,
    RequestError,
    RPCError,
    SecurityError,
    TLDecodeError,
    UsageError,
)

if TYPE_CHECKING:
    from .client.actions import Action, Close, Connect, Send
    from .client.config import ClientConfig, Limits
    from .client.errors import (
        ConnectionFailedError,
        FloodWaitError,
        LoggedOutError,
        RedirectLoopError,
        RequestCancelled,
        RequestTimeout,
        RetriesExhausted,
        TooManyPendingRequests,
        TooManyRedirects,
        UnknownDcError,
    )
    from .client.events import (
        AuthKeyCreated,
        AuthorizationImported,
        ConnectionStateChanged,
        Event,
        ExportingAuthorization,
        Failed,
        HomeDcChanged,
        LoggedOut,
        Result,
        Retrying,
        StateChanged,
        Update,
    )
    from .client.machine import Client
    from .client.state import ClientState, DcState, StateError
    from .dc.endpoint import Endpoint

__version__ = "0.1.0"

#: public name -> the module that defines it (imported on first use)
_LAZY = {
    "Client": "client.machine",
    "ClientConfig": "client.config", "Limits": "client.config",
    "ClientState": "client.state", "DcState": "client.state", "StateError": "client.state",
    "Endpoint": "dc.endpoint",
    **dict.fromkeys(("Action", "Close", "Connect", "Send"), "client.actions"),
    **dict.fromkeys((
        "AuthKeyCreated", "AuthorizationImported", "ConnectionStateChanged", "Event",
        "ExportingAuthorization", "Failed", "HomeDcChanged", "LoggedOut", "Result", "Retrying",
        "StateChanged", "Update"), "client.events"),
    **dict.fromkeys((
        "ConnectionFailedError", "FloodWaitError", "LoggedOutError", "RedirectLoopError",
        "RequestCancelled", "RequestTimeout", "RetriesExhausted", "TooManyPendingRequests",
        "TooManyRedirects", "UnknownDcError"), "client.errors"),
}

__all__ = [
    "Action",
    "AuthKeyCreated",
    "AuthorizationImported",
    "Client",
    "ClientConfig",
    "ClientState",
    "Close",
    "Connect",
    "ConnectionFailedError",
    "ConnectionStateChanged",
    "DcState",
    "Endpoint",
    "Event",
    "ExportingAuthorization",
    "Failed",
    "FloodWaitError",
    "FramingError",
    "HomeDcChanged",
    "Limits",
    "LoggedOut",
    "LoggedOutError",
    "MTDCError",
    "RPCError",
    "RedirectLoopError",
    "RemoteProtocolError",
    "RequestCancelled",
    "RequestError",
    "RequestTimeout",
    "Result",
    "RetriesExhausted",
    "Retrying",
    "SecurityError",
    "Send",
    "StateChanged",
    "StateError",
    "TLDecodeError",
    "TooManyPendingRequests",
    "TooManyRedirects",
    "UnknownDcError",
    "Update",
    "UsageError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
