"""Any well-typed request of a served method (every field drawn at random) is answered with a
result that encodes, or with an RPCError: a handler never crashes on what a client can send."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sansio_mtdc.errors import RPCError
from sansio_mtdc.server.api import METHODS
from sansio_mtdc.tl import api
from sansio_mtdc.tl.encoding import object_bytes

from .apihelpers import call, new_key, new_state


def _tl_strategies() -> ModuleType | None:
    """The TL layer's hypothesis strategies (drawn from the bundled schema)."""
    path = Path(__file__).resolve().parent.parent / "tl" / "tl_strategies.py"
    spec = importlib.util.spec_from_file_location("tl_strategies_for_server_tests", path)
    if spec is None or spec.loader is None or not path.exists():
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


STRATEGIES = _tl_strategies()


@pytest.mark.skipif(STRATEGIES is None, reason="the TL strategies are not available")
@pytest.mark.parametrize("name", sorted(METHODS))
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_request_is_answered_cleanly(name: str, data: st.DataObject) -> None:
    assert STRATEGIES is not None
    combinator = api.schema.function(name)
    assert combinator is not None
    request = data.draw(STRATEGIES.object_of("api", combinator, 3))
    state = new_state()
    dc_id = data.draw(st.integers(1, 5))
    key = new_key(state, dc_id, temporary=data.draw(st.booleans()))
    if data.draw(st.booleans()):
        user = state.users.lookup_phone("9996621234")
        state.dc(dc_id).bind(key, user.id)
    result = call(state, dc_id, key, request)
    if not isinstance(result, RPCError):
        assert object_bytes(result)
