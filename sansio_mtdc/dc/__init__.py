"""Data centers: the address table and the per-DC authorization lifecycle.

* :class:`DcTable` (:mod:`.table`): addresses from the bootstrap list or help.getConfig, which to
  try for a DC and a purpose, RSA keys, the config's refresh schedule, snapshots.
* :class:`DcAuthorization` (:mod:`.authorization`): where a DC stands between "no key" and
  "authorized", advanced by triggers from a declared transition table.

Neither sees bytes or does I/O.  :mod:`.authorization` is loaded on first use, so that
``python -m sansio_mtdc.dc.authorization`` runs it fresh.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .endpoint import Endpoint, IPv6Policy, Purpose
from .options import IgnoredOption
from .table import DcTable, NearestSuggestion

if TYPE_CHECKING:
    from .authorization import DcAuthorization

__all__ = [
    "DcAuthorization",
    "DcTable",
    "Endpoint",
    "IPv6Policy",
    "IgnoredOption",
    "NearestSuggestion",
    "Purpose",
]


def __getattr__(name: str) -> Any:
    if name == "DcAuthorization":
        from .authorization import DcAuthorization

        return DcAuthorization
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
