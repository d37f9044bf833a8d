"""From a decoded request to its result: wrappers taken off, checks made, the handler run.

:func:`unwrap` peels ``invokeAfterMsg(s)``, ``invokeWithLayer``, ``initConnection`` and
``invokeWithoutUpdates`` off a request, in whatever order they come, and says what they asked
for.  :func:`execute` then applies, in this order: the layer (``400 CONNECTION_LAYER_INVALID``),
``initConnection`` (recorded on the key; ``400 CONNECTION_NOT_INITED`` when a key never sent it),
an unbound temporary key (``401 AUTH_KEY_PERM_EMPTY``), an injected error, the method table
(``400 METHOD_NOT_SUPPORTED``), the method's authorization needs, and finally the handler.
The dependencies of ``invokeAfterMsg`` are the session's business (:mod:`..sessions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import RPCError
from ...tl import TLFunction
from ..keys import ClientInfo
from .context import RequestContext
from .registry import METHODS

__all__ = ["Call", "execute", "unwrap"]

#: wrappers the cluster does not serve: the request fails rather than run without them
_UNSERVED_WRAPPERS = frozenset({
    "invokeWithMessagesRange", "invokeWithTakeout", "invokeWithBusinessConnection",
    "invokeWithGooglePlayIntegrity", "invokeWithApnsSecret", "invokeWithReCaptcha",
})
#: methods a key may call before its first initConnection
_BEFORE_INIT = frozenset({"auth.bindTempAuthKey"})
#: methods an unbound temporary key may call (``api_pfs.txt``)
_UNBOUND_TEMP_KEY = frozenset({"auth.bindTempAuthKey", "help.getConfig", "help.getNearestDc"})


@dataclass(slots=True)
class Call:
    """A request without its wrappers: the innermost ``query`` (TL name ``name``), the
    ``layer`` and ``initConnection`` it was wrapped in, the msg_ids it must run ``after``."""

    query: Any
    name: str
    layer: int | None = None
    init: Any = None
    after: tuple[int, ...] = ()
    without_updates: bool = False


def _as_function(value: object) -> TLFunction:
    """A request must be a TL function; anything else a client can encode is not a method."""
    if not isinstance(value, TLFunction):
        raise RPCError(400, "INPUT_METHOD_INVALID")
    return value


def unwrap(request: object) -> Call:
    """Take the wrappers off ``request``; ``400 INPUT_METHOD_INVALID`` when what is left is no
    TL function, ``400 METHOD_NOT_SUPPORTED`` for a wrapper this cluster does not serve."""
    query: Any = _as_function(request)
    layer: int | None = None
    init: Any = None
    after: list[int] = []
    without_updates = False
    while True:
        name = query.TL_NAME
        if name == "invokeWithLayer":
            layer = query.layer
        elif name == "initConnection":
            init = query
        elif name == "invokeWithoutUpdates":
            without_updates = True
        elif name == "invokeAfterMsg":
            after.append(query.msg_id)
        elif name == "invokeAfterMsgs":
            after.extend(query.msg_ids)
        elif name in _UNSERVED_WRAPPERS:
            raise RPCError(400, "METHOD_NOT_SUPPORTED")
        else:
            return Call(query, name, layer, init, tuple(dict.fromkeys(after)), without_updates)
        query = _as_function(query.query)


def _record_init(call: Call, ctx: RequestContext) -> None:
    init = call.init
    if init.api_id <= 0:
        raise RPCError(400, "API_ID_INVALID")
    layer = call.layer
    if layer is None and ctx.key.client is not None:
        layer = ctx.key.client.layer
    ctx.key.client = ClientInfo(
        api_id=init.api_id, device_model=init.device_model, system_version=init.system_version,
        app_version=init.app_version, system_lang_code=init.system_lang_code,
        lang_pack=init.lang_pack, lang_code=init.lang_code, layer=layer)


def execute(call: Call, ctx: RequestContext) -> Any:
    """Run ``call`` on ``ctx``: its TL result, or :class:`RPCError` raised."""
    state = ctx.state
    config = state.config
    if call.layer is not None and call.layer not in config.accepted_layers:
        raise RPCError(400, "CONNECTION_LAYER_INVALID")
    if call.init is not None:
        _record_init(call, ctx)
    elif (config.require_init_connection and ctx.key.client is None
          and call.name not in _BEFORE_INIT):
        raise RPCError(400, "CONNECTION_NOT_INITED")
    if ctx.key.temporary and ctx.key.perm is None and call.name not in _UNBOUND_TEMP_KEY:
        raise RPCError(401, "AUTH_KEY_PERM_EMPTY")
    injected = state.faults.take_error(ctx.dc.id, call.name)
    if injected is not None:
        state.counters.injected[(ctx.dc.id, call.name)] += 1
        if injected.unauthorize:
            ctx.dc.unbind(ctx.key)
        raise injected.error
    method = METHODS.get(call.name)
    if method is None:
        raise RPCError(400, "METHOD_NOT_SUPPORTED")
    if method.home_only:
        ctx.require_home()
    elif method.needs_auth:
        ctx.require_user()
    state.counters.executed[(ctx.dc.id, call.name)] += 1
    return method.handler(call.query, ctx)
