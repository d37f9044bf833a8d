"""The reference cluster's API: one handler per method, grouped by namespace.

:func:`unwrap` and :func:`execute` (:mod:`.dispatch`) are what a session calls; :data:`METHODS`
lists what is served.  Importing this package registers every handler.
"""

from __future__ import annotations

from . import auth, help, messages, updates, upload, users  # noqa: F401  (registers handlers)
from .context import RequestContext
from .dispatch import Call, execute, unwrap
from .registry import METHODS, Method

__all__ = ["METHODS", "Call", "Method", "RequestContext", "execute", "unwrap"]
