"""The reference DC cluster: the server side of MTProto, sans-I/O, for tests, fuzzing and demos.

Importing this package is cheap: the TL schemas are parsed when a request first needs them.
"""

from __future__ import annotations

from .config import ClusterConfig, DcAddress, loopback_addresses
from .counters import Counters
from .files import StoredFile, sample_data

__all__ = [
    "ClusterConfig",
    "Counters",
    "DcAddress",
    "StoredFile",
    "loopback_addresses",
    "sample_data",
]
