"""``auth.*``: logging in with test numbers, logging out, moving an authorization between DCs,
and binding temporary keys.

Test numbers ``99966XYYYY`` live on DC X (``api_auth.txt``): ``auth.sendCode`` or
``auth.signIn`` elsewhere answers ``303 PHONE_MIGRATE_X``, and the code is X five times.
"""

from __future__ import annotations

from typing import Any

from ...errors import RPCError, SecurityError
from ...handshake.bind import open_temp_key_binding
from ...tl import api
from ..transfers import TOKEN_SIZE, Export
from ..users import UserRecord, login_code_for
from .context import RequestContext
from .registry import handles

_LOGIN_CODE_LENGTH = 5


def _user_on_this_dc(phone: str, ctx: RequestContext) -> UserRecord:
    user = ctx.state.users.lookup_phone(phone)
    if user.home_dc != ctx.dc.id:
        raise RPCError(303, f"PHONE_MIGRATE_{user.home_dc}")
    return user


def _sent_code(phone_code_hash: str) -> Any:
    return api.types.auth.SentCode(
        type=api.types.auth.SentCodeTypeApp(length=_LOGIN_CODE_LENGTH),
        phone_code_hash=phone_code_hash)


def _authorization(user: UserRecord) -> Any:
    return api.types.auth.Authorization(user=user.to_tl(is_self=True))


@handles("auth.sendCode")
def send_code(request: Any, ctx: RequestContext) -> Any:
    if request.api_id <= 0 or not request.api_hash:
        raise RPCError(400, "API_ID_INVALID")
    user = _user_on_this_dc(request.phone_number, ctx)
    phone_code_hash = ctx.state.draw(8).hex()
    ctx.dc.remember_code(user.phone, phone_code_hash)
    return _sent_code(phone_code_hash)


@handles("auth.resendCode")
def resend_code(request: Any, ctx: RequestContext) -> Any:
    if not request.phone_code_hash:
        raise RPCError(400, "PHONE_CODE_HASH_EMPTY")
    user = _user_on_this_dc(request.phone_number, ctx)
    if ctx.dc.login_codes.get(user.phone) != request.phone_code_hash:
        raise RPCError(400, "PHONE_CODE_EXPIRED")
    return _sent_code(request.phone_code_hash)


@handles("auth.signIn")
def sign_in(request: Any, ctx: RequestContext) -> Any:
    if not request.phone_code_hash:
        raise RPCError(400, "PHONE_CODE_HASH_EMPTY")
    user = _user_on_this_dc(request.phone_number, ctx)
    if ctx.dc.login_codes.get(user.phone) != request.phone_code_hash:
        raise RPCError(400, "PHONE_CODE_HASH_INVALID")
    if not request.phone_code:
        raise RPCError(400, "PHONE_CODE_EMPTY")
    if request.phone_code != login_code_for(user.phone):
        raise RPCError(400, "PHONE_CODE_INVALID")
    del ctx.dc.login_codes[user.phone]
    ctx.dc.bind(ctx.key, user.id)
    return _authorization(user)


@handles("auth.signUp")
def sign_up(request: Any, ctx: RequestContext) -> Any:
    # every test number already has its account
    _user_on_this_dc(request.phone_number, ctx)
    raise RPCError(400, "PHONE_NUMBER_OCCUPIED")


@handles("auth.logOut", needs_auth=True)
def log_out(request: Any, ctx: RequestContext) -> Any:
    ctx.dc.unbind(ctx.key)
    return api.types.auth.LoggedOut()


@handles("auth.exportAuthorization", needs_auth=True)
def export_authorization(request: Any, ctx: RequestContext) -> Any:
    user = ctx.require_user()
    # the home DC exports; so does a former home, so a migrated user can carry its login over
    if ctx.dc.id != user.home_dc and ctx.dc.id not in user.former_homes:
        raise RPCError(303, f"USER_MIGRATE_{user.home_dc}")
    if request.dc_id not in ctx.state.dcs or request.dc_id == ctx.dc.id:
        raise RPCError(400, "DC_ID_INVALID")
    token = ctx.state.draw(TOKEN_SIZE)
    ctx.state.transfers.add(Export(user.id, ctx.dc.id, request.dc_id, token, ctx.now))
    ctx.state.counters.exports[ctx.dc.id] += 1
    return api.types.auth.ExportedAuthorization(id=user.id, bytes=token)


@handles("auth.importAuthorization")
def import_authorization(request: Any, ctx: RequestContext) -> Any:
    export = ctx.state.transfers.redeem(request.id, request.bytes, ctx.dc.id)
    user = ctx.state.users.by_id(export.user_id)
    if user is None:  # the directory never forgets users; kept for the type checker
        raise RPCError(400, "AUTH_BYTES_INVALID")
    ctx.dc.bind(ctx.key, user.id)
    ctx.state.counters.imports[ctx.dc.id] += 1
    return _authorization(user)


@handles("auth.bindTempAuthKey")
def bind_temp_auth_key(request: Any, ctx: RequestContext) -> Any:
    """Check the binding message (MTProto 1.0 with the permanent key, ``api_pfs.txt``) and
    bind: the temporary key then shares the permanent key's authorization."""
    if not ctx.key.temporary:
        raise RPCError(400, "TEMP_AUTH_KEY_EMPTY")
    perm = ctx.dc.keys.get(request.perm_auth_key_id)
    if perm is None or perm.temporary:
        raise RPCError(400, "ENCRYPTED_MESSAGE_INVALID")
    try:
        inner = open_temp_key_binding(perm.auth_key, request.encrypted_message,
                                      msg_id=ctx.msg_id)
    except SecurityError:
        raise RPCError(400, "ENCRYPTED_MESSAGE_INVALID") from None
    if (inner.nonce != request.nonce or inner.temp_auth_key_id != ctx.key.id
            or inner.perm_auth_key_id != perm.id or inner.temp_session_id != ctx.session_id
            or inner.expires_at != request.expires_at):
        raise RPCError(400, "ENCRYPTED_MESSAGE_INVALID")
    if request.expires_at <= ctx.now:
        raise RPCError(400, "EXPIRES_AT_INVALID")
    if ctx.key.perm is not None and ctx.key.perm is not perm:
        raise RPCError(400, "TEMP_AUTH_KEY_ALREADY_BOUND")
    ctx.key.perm = perm
    if ctx.key.expires_at is None or request.expires_at < ctx.key.expires_at:
        ctx.key.expires_at = float(request.expires_at)
    ctx.key.client = None  # initConnection must follow every binding (api_invoking.txt)
    return True
