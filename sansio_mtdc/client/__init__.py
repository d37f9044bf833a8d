"""The multi-DC client machine: requests in, actions and events out.

* :class:`Client` (:mod:`.machine`): one account over every DC it needs;
* :class:`ClientConfig`, :class:`Limits` (:mod:`.config`), :class:`ClientState` (:mod:`.state`);
* :mod:`.actions` (Connect, Send, Close), :mod:`.events` (Result, Failed, ...), :mod:`.errors`;
* the parts of the machine: :mod:`.core`, :mod:`.connections`, :mod:`.dispatch`,
  :mod:`.outcomes`, :mod:`.transfer`; plain facts and rules: :mod:`.methods`, :mod:`.policy`.

Names are loaded on first use, so importing this package costs nothing until a client is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .actions import Action, Close, Connect, Send
    from .config import ClientConfig, Limits
    from .machine import Client
    from .state import ClientState, DcState, StateError

__all__ = ["Action", "Client", "ClientConfig", "ClientState", "Close", "Connect", "DcState",
           "Limits", "Send", "StateError"]

_WHERE = {
    "Action": "actions", "Close": "actions", "Connect": "actions", "Send": "actions",
    "ClientConfig": "config", "Limits": "config", "Client": "machine",
    "ClientState": "state", "DcState": "state", "StateError": "state",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
