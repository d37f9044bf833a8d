"""``users.*``: the signed-in user and the users it names."""

from __future__ import annotations

from typing import Any

from ...errors import RPCError
from ...tl import api
from ..users import UserRecord
from .context import RequestContext
from .registry import handles


def _resolve(input_user: Any, me: UserRecord, ctx: RequestContext) -> UserRecord | None:
    """The user an InputUser names, or ``None`` when it names nobody we know."""
    if isinstance(input_user, api.types.InputUserSelf):
        return me
    if isinstance(input_user, api.types.InputUser):
        user = ctx.state.users.by_id(input_user.user_id)
        if user is not None and user.access_hash == input_user.access_hash:
            return user
        return None
    if isinstance(input_user, api.types.InputUserFromMessage):
        return ctx.state.users.by_id(input_user.user_id)
    return None


def _user_id_of(input_user: Any, me: UserRecord) -> int:
    return me.id if isinstance(input_user, api.types.InputUserSelf) else int(
        getattr(input_user, "user_id", 0))


@handles("users.getUsers", home_only=True)
def get_users(request: Any, ctx: RequestContext) -> Any:
    me = ctx.require_user()
    out = []
    for input_user in request.id:
        user = _resolve(input_user, me, ctx)
        out.append(api.types.UserEmpty(id=_user_id_of(input_user, me)) if user is None
                   else user.to_tl(is_self=user.id == me.id))
    return out


@handles("users.getFullUser", home_only=True)
def get_full_user(request: Any, ctx: RequestContext) -> Any:
    me = ctx.require_user()
    user = _resolve(request.id, me, ctx)
    if user is None:
        raise RPCError(400, "USER_ID_INVALID")
    full = api.types.UserFull(
        id=user.id, settings=api.types.PeerSettings(),
        notify_settings=api.types.PeerNotifySettings(), common_chats_count=0)
    return api.types.users.UserFull(full_user=full, chats=[],
                                    users=[user.to_tl(is_self=user.id == me.id)])
