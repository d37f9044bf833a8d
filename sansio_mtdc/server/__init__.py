"""The reference DC cluster: the server side of MTProto, sans-I/O, for tests, fuzzing and demos.

* :class:`Cluster` (:mod:`.cluster`): several DCs with their auth keys, sessions, users and
  files; ``connect(dc_id, now=...)`` gives a :class:`ServerConnection` per accepted TCP
  connection; test knobs and :class:`Counters`.
* :class:`ClusterConfig`, :class:`DcAddress` (:mod:`.config`): what the cluster is and what it
  advertises in ``help.getConfig``.
* :mod:`.api`: one handler per served method.

Importing this package is cheap: the TL schemas are parsed when a request first needs them.
"""

from __future__ import annotations

from .cluster import Cluster
from .config import ClusterConfig, DcAddress, loopback_addresses
from .connection import CloseKind, CloseReason, ServerConnection
from .counters import Counters
from .faults import Direction, DropRule
from .files import StoredFile, sample_data
from .keys import ClientInfo, KeyRecord
from .users import UserRecord, login_code_for

__all__ = [
    "ClientInfo",
    "CloseKind",
    "CloseReason",
    "Cluster",
    "ClusterConfig",
    "Counters",
    "DcAddress",
    "Direction",
    "DropRule",
    "KeyRecord",
    "ServerConnection",
    "StoredFile",
    "UserRecord",
    "login_code_for",
    "loopback_addresses",
    "sample_data",
]
