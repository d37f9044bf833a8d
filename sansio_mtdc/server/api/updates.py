"""``updates.*``: the reference cluster has no messages, so the state never moves."""

from __future__ import annotations

from typing import Any

from ...tl import api
from .context import RequestContext
from .registry import handles

#: the (constant) pts, qts and seq of every user
_PTS, _QTS, _SEQ = 1, 0, 1


@handles("updates.getState", home_only=True)
def get_state(request: Any, ctx: RequestContext) -> Any:
    return api.types.updates.State(pts=_PTS, qts=_QTS, date=ctx.date, seq=_SEQ,
                                   unread_count=0)


@handles("updates.getDifference", home_only=True)
def get_difference(request: Any, ctx: RequestContext) -> Any:
    return api.types.updates.DifferenceEmpty(date=ctx.date, seq=_SEQ)
