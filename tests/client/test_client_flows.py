"""Redirects, retries, repairs, timeouts and cancellation through the simulated cluster."""

from __future__ import annotations

from sansio_mtdc.client.config import Limits
from sansio_mtdc.client.errors import (
    ConnectionFailedError,
    FloodWaitError,
    LoggedOutError,
    RedirectLoopError,
    RequestCancelled,
    RequestTimeout,
    RetriesExhausted,
    TooManyRedirects,
    UnknownDcError,
)
from sansio_mtdc.client.events import (
    AuthKeyCreated,
    ConnectionStateChanged,
    Failed,
    HomeDcChanged,
    LoggedOut,
    Result,
    Retrying,
)
from sansio_mtdc.client.machine import Client
from sansio_mtdc.dc.endpoint import Endpoint
from sansio_mtdc.errors import RPCError
from sansio_mtdc.sim.scenarios import seeded, send_code_request
from sansio_mtdc.tl import api

from .worlds import World, file_request, phone_of, self_request, signed_in, single_ending


def failure(world: World, rid: int) -> object:
    ending = single_ending(world.net, rid)
    assert isinstance(ending, Failed), ending
    return ending.error


# --- FLOOD_WAIT and server errors -------------------------------------------------------------

def test_flood_wait_is_waited_out_and_retried() -> None:
    world = signed_in(10)
    world.cluster.inject_flood_wait("users.getUsers", 7, times=2)
    start = world.now
    rid = world.invoke(self_request())
    world.run(rid)
    assert isinstance(single_ending(world.net, rid), Result)
    retries = world.net.of_type(Retrying)
    assert [(r.rid, r.reason, r.delay, r.attempt) for r in retries] == [
        (rid, "FLOOD_WAIT_7", 7.0, 1), (rid, "FLOOD_WAIT_7", 7.0, 2)]
    assert world.now - start >= 14
    assert world.net.round_trips(start) == 3 + 14 / 0.1
    assert world.cluster.counters.executions("users.getUsers", 2) == 2  # the set-up one too


def test_flood_wait_above_the_ceiling_fails_with_its_seconds() -> None:
    world = signed_in(11, limits=Limits(flood_wait_ceiling=30))
    world.cluster.inject_flood_wait("users.getUsers", 31)
    rid = world.invoke(self_request())
    world.run(rid)
    error = failure(world, rid)
    assert isinstance(error, FloodWaitError)
    assert error.seconds == 31 and error.ceiling == 30
    assert error.error == RPCError(420, "FLOOD_WAIT_31")
    assert not world.net.of_type(Retrying)


def test_flood_wait_retries_are_bounded() -> None:
    world = signed_in(12, limits=Limits(max_flood_retries=2))
    world.cluster.inject_flood_wait("users.getUsers", 1, times=5)
    rid = world.invoke(self_request())
    world.run(rid)
    assert isinstance(failure(world, rid), FloodWaitError)
    assert len(world.net.of_type(Retrying)) == 2


def test_flood_premium_wait_on_a_download() -> None:
    world = signed_in(13)
    document = world.cluster.put_file(2, b"p" * 100, name="f", mime="a/b")
    world.cluster.inject_error(420, "FLOOD_PREMIUM_WAIT_2", method="upload.getFile")
    rid = world.invoke(file_request(document))
    world.run(rid)
    assert world.net.result(rid).bytes == b"p" * 100
    assert world.net.of_type(Retrying)[0].delay == 2.0


def test_server_errors_are_retried_with_backoff() -> None:
    world = signed_in(14, limits=Limits(server_error_retries=3, server_error_backoff=1.0))
    world.cluster.inject_error(500, "INTERNAL_SERVER_ERROR", method="users.getUsers", times=2)
    world.cluster.inject_error(-500, "No workers running", method="users.getUsers")
    rid = world.invoke(self_request())
    world.run(rid)
    assert isinstance(single_ending(world.net, rid), Result)
    assert [r.delay for r in world.net.of_type(Retrying)] == [1.0, 2.0, 4.0]


def test_server_errors_past_the_limit_fail() -> None:
    world = signed_in(15, limits=Limits(server_error_retries=1, server_error_backoff=0.5))
    world.cluster.inject_error(500, "INTERNAL", method="users.getUsers", times=3)
    rid = world.invoke(self_request())
    world.run(rid)
    error = failure(world, rid)
    assert isinstance(error, RetriesExhausted) and error.attempts == 2
    assert error.last == RPCError(500, "INTERNAL")


# --- redirects ---------------------------------------------------------------------------------

def test_network_migrate_moves_home() -> None:
    world = World.make(seed=16)
    world.cluster.inject_error(303, "NETWORK_MIGRATE_3", method="auth.sendCode", dc_id=2)
    rid = world.invoke(send_code_request(phone_of(3)))
    world.run(rid)
    assert isinstance(single_ending(world.net, rid), Result)
    assert world.client.home_dc == 3
    assert [e.reason for e in world.net.of_type(HomeDcChanged)] == ["NETWORK_MIGRATE_X"]


def test_stats_migrate_goes_to_a_media_link_and_home_stays() -> None:
    world = signed_in(17)
    document = world.cluster.put_file(3, b"s" * 64, name="f", mime="a/b")
    world.cluster.inject_error(303, "STATS_MIGRATE_3", method="upload.getFileHashes", dc_id=2)
    request = api.functions.upload.GetFileHashes(location=file_request(document).location,
                                                  offset=0)
    rid = world.invoke(request)
    world.run(rid)
    assert world.net.result(rid)[0].limit == 64
    assert world.client.home_dc == 2
    purposes = {(e.dc_id, e.purpose) for e in world.net.of_type(ConnectionStateChanged)}
    assert (3, "media") in purposes and (3, "main") not in purposes
    assert world.cluster.counters.imports[3] == 1


def test_redirect_loop_fails() -> None:
    world = signed_in(18)
    world.cluster.inject_error(303, "FILE_MIGRATE_3", method="upload.getFileHashes", dc_id=2)
    world.cluster.inject_error(303, "FILE_MIGRATE_2", method="upload.getFileHashes", dc_id=3)
    document = world.cluster.put_file(3, b"s" * 64, name="f", mime="a/b")
    request = api.functions.upload.GetFileHashes(location=file_request(document).location,
                                                  offset=0)
    rid = world.invoke(request)
    world.run(rid)
    error = failure(world, rid)
    assert isinstance(error, RedirectLoopError)
    assert error.visited == (2, 3, 2)


def test_redirect_to_where_the_request_is_is_a_loop() -> None:
    world = signed_in(19)
    world.cluster.inject_error(303, "USER_MIGRATE_2", method="users.getUsers")
    rid = world.invoke(self_request())
    world.run(rid)
    assert isinstance(failure(world, rid), RedirectLoopError)
    assert world.client.home_dc == 2


def test_redirect_budget() -> None:
    world = signed_in(20, limits=Limits(max_redirects=1), dc_count=5)
    world.cluster.inject_error(303, "FILE_MIGRATE_3", method="upload.getFileHashes", dc_id=2)
    world.cluster.inject_error(303, "FILE_MIGRATE_4", method="upload.getFileHashes", dc_id=3)
    document = world.cluster.put_file(4, b"s" * 64, name="f", mime="a/b")
    request = api.functions.upload.GetFileHashes(location=file_request(document).location,
                                                  offset=0)
    rid = world.invoke(request)
    world.run(rid)
    error = failure(world, rid)
    assert isinstance(error, TooManyRedirects) and error.budget == 1


def test_redirect_to_an_unknown_dc() -> None:
    world = signed_in(21)
    world.cluster.inject_error(303, "FILE_MIGRATE_9", method="users.getUsers")
    rid = world.invoke(self_request())
    world.run(rid)
    error = failure(world, rid)
    assert isinstance(error, UnknownDcError) and error.dc_id == 9
    assert error.cause == RPCError(303, "FILE_MIGRATE_9")


def test_invoke_on_an_unknown_dc() -> None:
    world = signed_in(22)
    rid = world.invoke(self_request(), dc=42)
    world.run(rid)
    assert isinstance(failure(world, rid), UnknownDcError)


# --- authorization -----------------------------------------------------------------------------

def test_logged_out_on_the_home_dc() -> None:
    world = signed_in(23, authorized=(4,))
    world.cluster.inject_error(401, "SESSION_REVOKED", method="users.getUsers", dc_id=2)
    rid = world.invoke(self_request())
    world.run(rid)
    error = failure(world, rid)
    assert isinstance(error, LoggedOutError) and error.dc_id == 2
    assert error.error == RPCError(401, "SESSION_REVOKED")
    assert [e.dc_id for e in world.net.of_type(LoggedOut)] == [2]
    state = world.saved_state()
    assert state.user_id is None and not state.authorized
    assert not any(dc.authorized for dc in state.dcs)
    # the next request that needs authorization is simply refused, with no transfer attempted
    rid = world.invoke(self_request())
    world.run(rid)
    assert failure(world, rid) == RPCError(401, "AUTH_KEY_UNREGISTERED")
    assert sum(world.cluster.counters.exports.values()) == 0


def test_unauthorized_before_sign_in_is_just_the_answer() -> None:
    world = World.make(seed=24)
    rid = world.invoke(self_request())
    world.run(rid)
    assert failure(world, rid) == RPCError(401, "AUTH_KEY_UNREGISTERED")
    assert not world.net.of_type(LoggedOut)


def test_auth_bytes_invalid_exports_again() -> None:
    world = signed_in(25, limits=Limits(export_retries=1))
    document = world.cluster.put_file(4, b"b" * 100, name="f", mime="a/b")
    world.cluster.inject_error(400, "AUTH_BYTES_INVALID", method="auth.importAuthorization")
    rid = world.invoke(file_request(document), dc=4)
    world.run(rid)
    assert world.net.result(rid).bytes == b"b" * 100
    assert world.cluster.counters.exports[2] == 2
    assert world.cluster.counters.executions("upload.getFile", 4) == 1


def test_auth_bytes_invalid_past_the_retries_fails_the_waiting_request() -> None:
    world = signed_in(26, limits=Limits(export_retries=0))
    document = world.cluster.put_file(4, b"b" * 100, name="f", mime="a/b")
    world.cluster.inject_error(400, "AUTH_BYTES_INVALID", method="auth.importAuthorization")
    rid = world.invoke(file_request(document), dc=4)
    world.run(rid)
    assert failure(world, rid) == RPCError(400, "AUTH_BYTES_INVALID")
    assert world.cluster.counters.executions("upload.getFile", 4) == 0


def test_one_export_for_many_requests_to_a_new_dc() -> None:
    world = signed_in(27)
    document = world.cluster.put_file(4, b"m" * 5000, name="f", mime="a/b")
    rids = [world.invoke(file_request(document, offset=0, limit=4096), dc=4)
            for _ in range(5)]
    world.run(*rids)
    assert all(world.net.result(rid).bytes == b"m" * 4096 for rid in rids)
    assert world.cluster.counters.exports[2] == 1
    assert world.cluster.counters.imports[4] == 1
    assert world.cluster.counters.executions("upload.getFile", 4) == 5


def test_sign_in_marks_home_authorized_and_records_the_user() -> None:
    world = World.make(seed=28)
    user = world.sign_in(phone_of(2))
    state = world.saved_state()
    assert state.user_id == user.id and state.authorized and state.home_dc == 2


def test_log_out_forgets_the_authorization() -> None:
    world = signed_in(29, authorized=(3,))
    world.call(api.functions.auth.LogOut())
    state = world.saved_state()
    assert state.user_id is None and not any(dc.authorized for dc in state.dcs)
    assert world.net.of_type(LoggedOut)


# --- transport errors --------------------------------------------------------------------------

def test_forgotten_key_on_a_media_dc_is_remade_and_the_request_sent_again() -> None:
    world = signed_in(30, authorized=(4,))
    document = world.cluster.put_file(4, b"k" * 100, name="f", mime="a/b")
    world.call(file_request(document), dc=4)
    world.cluster.forget_auth_key(4)
    rid = world.invoke(file_request(document), dc=4)
    world.run(rid)
    assert world.net.result(rid).bytes == b"k" * 100
    assert [e.dc_id for e in world.net.of_type(AuthKeyCreated)] == [4]
    assert world.cluster.counters.imports[4] == 1  # the new key was authorized
    assert world.client.home_dc == 2 and world.saved_state().authorized


def test_forgotten_key_on_the_home_dc_logs_out() -> None:
    world = signed_in(31)
    world.cluster.forget_auth_key(2)
    rid = world.invoke(api.functions.help.GetNearestDc())
    world.run(rid)
    assert world.net.result(rid).this_dc == 2
    assert [e.dc_id for e in world.net.of_type(LoggedOut)] == [2]
    assert [e.dc_id for e in world.net.of_type(AuthKeyCreated)] == [2]
    assert not world.saved_state().authorized


def test_transport_flood_closes_and_backs_off() -> None:
    world = signed_in(32, limits=Limits(reconnect_base=2.0))
    link_closes_before = len(world.net.of_type(ConnectionStateChanged))
    rid = world.invoke(self_request())
    assert world.net.transport_error(-429, dc_id=2) == 1
    flooded = world.now
    world.run(rid)
    assert isinstance(single_ending(world.net, rid), Result)
    changes = world.net.of_type(ConnectionStateChanged)[link_closes_before:]
    assert any(c.state == "closed" and "-429" in (c.reason or "") for c in changes)
    reconnect = next(hop.time for hop in world.net.log if hop.what == "connect"
                     and hop.time > flooded)
    assert reconnect - flooded >= 2.0


def test_invalid_dc_fails_its_requests() -> None:
    world = signed_in(33)
    world.call(self_request())
    rid = world.invoke(self_request())
    assert world.net.transport_error(-444, dc_id=2) == 1
    world.run(rid)
    error = failure(world, rid)
    assert isinstance(error, ConnectionFailedError) and "-444" in str(error)


def test_unreachable_dc_fails_after_max_reconnects() -> None:
    world = signed_in(34, limits=Limits(max_reconnects=3, reconnect_base=0.5), connect=False)
    world.net.refuse(2)
    start = world.now
    rid = world.invoke(self_request())
    world.run(rid)
    error = failure(world, rid)
    assert isinstance(error, ConnectionFailedError)
    assert error.dc_id == 2 and error.attempts == 4
    # four attempts of two addresses each (0.2 s), at once, then after 0.5 s and 1 s
    assert world.net.round_trips(start) == 4 * 2 + (0.5 + 1.0) / 0.1
    world.net.refuse(2, False)
    rid = world.invoke(self_request())
    world.run(rid)
    assert isinstance(single_ending(world.net, rid), Result)


def test_a_failed_address_is_tried_last_next_time() -> None:
    world = signed_in(35, connect=False)
    ipv4 = next(e for e in world.client.table.endpoints(2) if not e.ipv6 and not e.media_only)
    world.net.unreachable(ipv4)
    rid = world.invoke(self_request())
    world.run(rid)
    assert isinstance(single_ending(world.net, rid), Result)
    assert world.client.table.failure_streak(ipv4, now=world.now) == 1
    candidates = world.client.table.candidates(2, purpose="main", ipv6="allow",
                                               obfuscated=False, now=world.now)
    assert candidates[-1] == ipv4


# --- timeouts and cancellation -----------------------------------------------------------------

def test_timeout_while_the_answer_is_late() -> None:
    world = signed_in(36)
    world.cluster.delay_answers(10, method="users.getUsers")
    rid = world.invoke(self_request(), timeout=2.0)
    world.run(rid)
    error = failure(world, rid)
    assert isinstance(error, RequestTimeout) and error.timeout == 2.0
    later = world.invoke(api.functions.help.GetNearestDc())
    world.run(later, max_time=30)
    world.net.run(world.client, until=lambda: False, max_time=15)
    assert len(world.net.endings(rid)) == 1  # the late answer was dropped


def test_default_request_timeout_from_the_limits() -> None:
    world = signed_in(37, limits=Limits(request_timeout=1.5))
    world.cluster.delay_answers(10, method="users.getUsers")
    rid = world.invoke(self_request())
    world.run(rid)
    assert isinstance(failure(world, rid), RequestTimeout)


def test_cancel_before_and_after_sending() -> None:
    world = signed_in(38, connect=False)
    waiting = world.invoke(self_request())
    assert world.client.cancel(waiting, now=world.now)
    assert not world.client.cancel(waiting, now=world.now)
    world.run(waiting)
    assert isinstance(failure(world, waiting), RequestCancelled)
    world.cluster.delay_answers(5, method="users.getUsers")
    sent = world.invoke(self_request())
    world.net.run(world.client, until=lambda: world.now > world.net.now - 1 and bool(
        world.cluster.counters.executions("users.getUsers")), max_time=5)
    assert world.client.cancel(sent, now=world.now)
    world.net.run(world.client, until=lambda: False, max_time=10)
    assert isinstance(failure(world, sent), RequestCancelled)
    assert world.client.pending == 0


def test_timeout_while_waiting_for_a_flood_wait() -> None:
    world = signed_in(39)
    world.cluster.inject_flood_wait("users.getUsers", 20)
    rid = world.invoke(self_request(), timeout=5)
    world.run(rid)
    assert isinstance(failure(world, rid), RequestTimeout)
    assert world.now < world.net.now + 1


def test_close_cancels_everything() -> None:
    world = signed_in(40)
    world.cluster.delay_answers(5)
    rids = [world.invoke(self_request()) for _ in range(3)]
    world.net.run(world.client, until=lambda: False, max_time=0.2)
    world.client.close(now=world.now)
    world.net.run(world.client, until=lambda: True)
    for rid in rids:
        assert isinstance(failure(world, rid), RequestCancelled)
    assert world.client.get_timer() is None


# --- connections -------------------------------------------------------------------------------

def test_idle_media_links_close() -> None:
    world = signed_in(41, authorized=(4,), limits=Limits(idle_timeout=30))
    document = world.cluster.put_file(4, b"i" * 10, name="f", mime="a/b")
    world.call(file_request(document), dc=4)
    start = world.now

    def idle_closes() -> list[ConnectionStateChanged]:
        return [e for e in world.net.of_type(ConnectionStateChanged)
                if e.state == "closed" and e.reason == "idle"]

    assert world.net.run(world.client, until=lambda: bool(idle_closes()), max_time=40)
    assert [(e.dc_id, e.purpose) for e in idle_closes()] == [(4, "media")]
    assert 30 <= world.now - start < 31
    world.net.run(world.client, until=lambda: False, max_time=120)
    assert [(e.dc_id, e.purpose) for e in idle_closes()] == [(4, "media")]  # main stays


def test_media_links_in_parallel_up_to_the_limit() -> None:
    world = signed_in(42, authorized=(4,), limits=Limits(media_connections=3))
    document = world.cluster.put_file(4, b"q" * 4096, name="f", mime="a/b")
    world.call(file_request(document, limit=4096), dc=4)
    world.cluster.delay_answers(1.0, method="upload.getFile")
    rids = [world.invoke(file_request(document, limit=4096), dc=4) for _ in range(8)]
    world.run(*rids)
    assert all(isinstance(single_ending(world.net, rid), Result) for rid in rids)
    media = {e.conn_id for e in world.net.of_type(ConnectionStateChanged)
             if e.dc_id == 4 and e.purpose == "media" and e.state == "ready"}
    assert len(media) == 3


def test_file_request_rides_the_main_link_until_a_media_link_is_ready() -> None:
    world = signed_in(43)
    document = world.cluster.put_file(2, b"h" * 100, name="f", mime="a/b")
    start = world.now
    world.call(file_request(document))
    assert world.net.round_trips(start) == 1
    world.net.run(world.client, until=lambda: False, max_time=1)
    ready = [(e.dc_id, e.purpose) for e in world.net.of_type(ConnectionStateChanged)
             if e.state == "ready"]
    assert (2, "media") in ready  # opened for the requests that follow
    start = world.now
    world.call(file_request(document))
    assert world.net.round_trips(start) == 1


# --- the nearest DC ----------------------------------------------------------------------------

def test_nearest_dc_becomes_home_on_a_new_state() -> None:
    world = World.make(seed=44, home=2, nearest=1)
    start = world.now
    rid = world.invoke(api.functions.help.GetConfig())
    world.run(rid)
    assert world.net.round_trips(start) == 5  # the suggestion cost the first request nothing
    assert [(e.old, e.new, e.reason) for e in world.net.of_type(HomeDcChanged)] == [
        (2, 1, "nearest_dc")]
    assert world.client.table.nearest is not None


def test_a_phone_migrate_wins_over_the_nearest_dc() -> None:
    world = World.make(seed=45, home=2, nearest=1)
    rid = world.invoke(send_code_request(phone_of(3)))
    world.run(rid)
    assert world.client.home_dc == 3
    rid = world.invoke(api.functions.help.GetNearestDc())
    world.run(rid)
    assert world.client.home_dc == 3


def test_a_login_step_ties_the_user_to_the_dc() -> None:
    world = World.make(seed=46, home=2, nearest=1)
    rid = world.invoke(send_code_request(phone_of(2)))
    world.run(rid)
    assert world.client.home_dc == 2
    assert not world.net.of_type(HomeDcChanged)


def test_no_nearest_dc_when_asked_not_to() -> None:
    world = World.make(seed=47, home=2, nearest=1, follow_nearest_dc=False)
    world.call(api.functions.help.GetConfig())
    assert world.client.home_dc == 2
    assert world.cluster.counters.executions("help.getNearestDc") == 0


def test_the_config_is_refreshed_when_it_expires() -> None:
    world = signed_in(48)
    assert world.cluster.counters.executions("help.getConfig") == 1  # with the first request
    world.net.run(world.client, until=lambda: False, max_time=3590)
    assert world.cluster.counters.executions("help.getConfig") == 1
    world.net.run(world.client, until=lambda: False, max_time=20)
    assert world.cluster.counters.executions("help.getConfig") == 2  # on the idle main link


def test_no_usable_address_fails_at_once() -> None:
    world = signed_in(49, connect=False, ipv6="never")
    world.net.refuse(2)
    rids = [world.invoke(self_request()) for _ in range(3)]
    world.run(*rids)
    for rid in rids:
        assert isinstance(failure(world, rid), ConnectionFailedError)
    only_ipv6 = World.make(seed=50)
    config = only_ipv6.net.client_config(
        ipv6="never", endpoints=(Endpoint(2, "fd00::2", 443, ipv6=True),))
    only_ipv6.client = Client(config, random=seeded(50))
    rids = [only_ipv6.invoke(api.functions.help.GetConfig()) for _ in range(2)]
    assert only_ipv6.run(*rids, max_time=5)
    for rid in rids:
        error = failure(only_ipv6, rid)
        assert isinstance(error, ConnectionFailedError) and "no main address" in str(error)


def test_many_requests_queue_while_connecting_and_all_end() -> None:
    world = signed_in(51, connect=False, limits=Limits(max_pending=5000))
    rids = [world.invoke(self_request()) for _ in range(3000)]  # three sessions' worth
    world.run(*rids)
    assert all(isinstance(single_ending(world.net, rid), Result) for rid in rids)
    assert world.cluster.counters.executions("users.getUsers", 2) == 3000


def test_a_handshake_without_answers_is_abandoned_and_redone() -> None:
    world = World.make(seed=52, limits=Limits(connect_timeout=5.0))
    world.net.delay("server", 1, 30.0)  # resPQ held back far too long
    start = world.now
    rid = world.invoke(api.functions.help.GetNearestDc())
    world.run(rid)
    assert isinstance(single_ending(world.net, rid), Result)
    reasons = [e.reason for e in world.net.of_type(ConnectionStateChanged) if e.state == "closed"]
    assert reasons == ["handshake: no answer"]
    assert 5.0 < world.now - start < 6.5


def test_flood_wait_on_the_import_holds_the_requests_behind_it() -> None:
    world = signed_in(53)
    document = world.cluster.put_file(4, b"w" * 100, name="f", mime="a/b")
    world.cluster.inject_flood_wait("auth.importAuthorization", 2, dc_id=4)
    rids = [world.invoke(file_request(document), dc=4) for _ in range(3)]
    world.run(*rids)
    assert all(world.net.result(rid).bytes == b"w" * 100 for rid in rids)
    assert world.cluster.counters.imports[4] == 1 and world.cluster.counters.exports[2] == 1
    assert world.cluster.counters.executions("upload.getFile", 4) == 3
