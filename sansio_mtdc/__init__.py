"""sansio_mtdc: Telegram's MTProto 2.0 as a sans-I/O client state machine.

The core (this package, minus :mod:`sansio_mtdc.adapters`) never touches a socket, a clock, a
thread or a random source: time and randomness are arguments.  Importing it is cheap; the TL
schemas are parsed only when first used.
"""

from __future__ import annotations

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

__version__ = "0.1.0"

__all__ = [
    "FramingError",
    "MTDCError",
    "RPCError",
    "RemoteProtocolError",
    "RequestError",
    "SecurityError",
    "TLDecodeError",
    "UsageError",
    "__version__",
]
