"""The routing facts and the error policy, as plain functions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sansio_mtdc.client import methods, policy
from sansio_mtdc.client.errors import RedirectLoopError, TooManyRedirects, UnknownDcError
from sansio_mtdc.errors import RPCError
from sansio_mtdc.tl import api


@pytest.mark.parametrize(("code", "message", "expected"), [
    (303, "PHONE_MIGRATE_3", policy.Redirect(3, moves_home=True)),
    (303, "NETWORK_MIGRATE_5", policy.Redirect(5, moves_home=True)),
    (303, "USER_MIGRATE_4", policy.Redirect(4, moves_home=True)),
    (303, "FILE_MIGRATE_4", policy.Redirect(4, moves_home=False)),
    (303, "STATS_MIGRATE_1", policy.Redirect(1, moves_home=False)),
    (303, "FILE_MIGRATE_0", None),
    (303, "SOMETHING_ELSE_2", None),
    (420, "FLOOD_WAIT_30", policy.FloodWait(30)),
    (420, "FLOOD_PREMIUM_WAIT_7", policy.FloodWait(7)),
    (420, "SLOWMODE_WAIT_10", None),
    (500, "INTERNAL", policy.ServerError()),
    (503, "Timeout", policy.ServerError()),
    (-500, "No workers running", policy.ServerError()),
    (401, "AUTH_KEY_UNREGISTERED", policy.AuthLost(logs_out=True, repairable=True)),
    (401, "SESSION_REVOKED", policy.AuthLost(logs_out=True, repairable=True)),
    (401, "USER_DEACTIVATED", policy.AuthLost(logs_out=True, repairable=False)),
    (401, "SESSION_PASSWORD_NEEDED", None),
    (400, "AUTH_BYTES_INVALID", policy.AuthBytesInvalid()),
    (400, "MSG_WAIT_FAILED", policy.WaitFailed()),
    (400, "MSG_WAIT_TIMEOUT", policy.WaitFailed()),
    (400, "PHONE_NUMBER_INVALID", None),
])
def test_classify(code: int, message: str, expected: policy.Verdict | None) -> None:
    assert policy.classify(RPCError(code, message)) == expected


@given(st.integers(-1000, 1000), st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789",
                                         min_size=1, max_size=40))
def test_classify_takes_any_error(code: int, message: str) -> None:
    verdict = policy.classify(RPCError(code, message))
    if isinstance(verdict, policy.Redirect):
        assert verdict.dc_id > 0 and code == 303
    if isinstance(verdict, policy.FloodWait):
        assert verdict.seconds >= 0 and code == 420


def test_check_redirect() -> None:
    error = RPCError(303, "FILE_MIGRATE_4")
    assert policy.check_redirect(error, 4, [2], 0, budget=5, known=True) is None
    loop = policy.check_redirect(error, 4, [4], 0, budget=5, known=True)
    assert isinstance(loop, RedirectLoopError) and loop.visited == (4, 4)
    again = policy.check_redirect(error, 2, [2, 4], 1, budget=5, known=True)
    assert isinstance(again, RedirectLoopError) and "2 -> 4 -> 2" in str(again)
    too_many = policy.check_redirect(error, 4, [2], 5, budget=5, known=True)
    assert isinstance(too_many, TooManyRedirects) and too_many.budget == 5
    unknown = policy.check_redirect(error, 9, [2], 0, budget=5, known=False)
    assert isinstance(unknown, UnknownDcError) and unknown.dc_id == 9


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [policy.backoff(n, 1.0) for n in range(5)] == [0.0, 1.0, 2.0, 4.0, 8.0]
    assert policy.backoff(40, 0.5, 30.0) == 30.0
    assert policy.backoff(10**6, 1.0) > 0  # no overflow


def test_reconnect_delay_is_immediate_after_a_working_connection() -> None:
    delays = [policy.reconnect_delay(n, 0.5, 30.0) for n in range(1, 9)]
    assert delays == [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0]


def test_method_names_under_wrappers() -> None:
    get_file = api.functions.upload.GetFile(location=api.types.InputPeerPhotoFileLocationLegacy(
        peer=api.types.InputPeerSelf(), volume_id=1, local_id=1), offset=0, limit=1024)
    assert methods.method_name(get_file) == "upload.getFile"
    wrapped = api.functions.InvokeWithoutUpdates(query=get_file)
    assert methods.method_name(wrapped) == "upload.getFile"
    layered = api.functions.InvokeWithLayer(layer=1, query=wrapped)
    assert methods.method_name(layered) == "upload.getFile"


class _Foreign:
    """A request from another library: only its bytes are known."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __bytes__(self) -> bytes:
        return self.data


def test_method_names_of_foreign_requests() -> None:
    config = bytes(api.functions.help.GetConfig())
    assert methods.method_name(_Foreign(config)) == "help.getConfig"
    after = bytes(api.functions.InvokeAfterMsg(msg_id=5, query=api.functions.help.GetConfig()))
    assert methods.method_name(_Foreign(after)) == "help.getConfig"
    assert methods.method_name(_Foreign(b"\x01\x02\x03\x04")) is None
    assert methods.method_name(_Foreign(b"")) is None
    # a constructor is not a method
    assert methods.method_name(_Foreign(bytes(api.types.InputPeerSelf()))) is None


def test_method_lists_name_real_methods() -> None:
    schema = api.schema
    for name in methods.NO_AUTH_METHODS | methods.SIGN_IN_METHODS | methods.FILE_METHODS:
        found = schema.function(name)
        assert found is not None and found.is_function, name
    assert "auth.exportAuthorization" not in methods.NO_AUTH_METHODS
    assert methods.SIGN_IN_METHODS <= methods.LOGIN_STEP_METHODS
