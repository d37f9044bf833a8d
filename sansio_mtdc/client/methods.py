"""What the client knows about API methods by name: which need no authorization, which sign the
user in, which are file transfers, and how to find a request's method name.

The lists live here and nowhere else, so that the routing and the authorization transfer read
the same facts.  Names are TL names (``"upload.getFile"``).
"""

from __future__ import annotations

import struct

__all__ = [
    "FILE_METHODS",
    "LOGIN_STEP_METHODS",
    "NO_AUTH_METHODS",
    "SIGN_IN_METHODS",
    "method_name",
]

#: Methods a DC serves without the user's authorization (``api_auth.txt``, "We are authorized",
#: plus help.getCdnConfig): sending one to a DC that is not authorized needs no transfer first.
NO_AUTH_METHODS: frozenset[str] = frozenset({
    "account.deleteAccount", "account.getPassword", "account.sendVerifyEmailCode",
    "account.verifyEmail",
    "auth.bindTempAuthKey", "auth.cancelCode", "auth.checkPaidAuth", "auth.checkPassword",
    "auth.exportLoginToken", "auth.finishPasskeyLogin", "auth.importAuthorization",
    "auth.importBotAuthorization", "auth.importLoginToken", "auth.importWebTokenAuthorization",
    "auth.initPasskeyLogin", "auth.reportMissingCode", "auth.requestFirebaseSms",
    "auth.resendCode", "auth.resetLoginEmail", "auth.sendCode", "auth.signIn", "auth.signUp",
    "auth.recoverPassword", "auth.requestPasswordRecovery",
    "help.getAppConfig", "help.getCdnConfig", "help.getConfig", "help.getCountriesList",
    "help.getDeepLinkInfo", "help.getNearestDc", "help.saveAppLog",
    "langpack.getDifference", "langpack.getLangPack", "langpack.getLanguage",
    "langpack.getLanguages", "langpack.getStrings",
    "payments.assignAppStoreTransaction", "payments.assignPlayMarketTransaction",
    "payments.canPurchaseStore", "payments.getPaymentForm", "payments.sendPaymentForm",
})

#: Methods whose ``auth.authorization`` result means the user is now signed in on the DC that
#: ran them (auth.sendCode too: a future auth token can sign in at once, auth.sentCodeSuccess).
SIGN_IN_METHODS: frozenset[str] = frozenset({
    "auth.signIn", "auth.signUp", "auth.checkPassword", "auth.importBotAuthorization",
    "auth.importLoginToken", "auth.importWebTokenAuthorization", "auth.recoverPassword",
    "auth.finishPasskeyLogin", "auth.sendCode",
})

#: Steps of logging in that tie the user to the DC that answers them: once one succeeds, the
#: server has accepted this DC for the phone number, so help.getNearestDc no longer moves home.
LOGIN_STEP_METHODS: frozenset[str] = SIGN_IN_METHODS | {"auth.resendCode"}

#: File transfers: they go on media connections (``api_files.txt``, "General Considerations").
FILE_METHODS: frozenset[str] = frozenset({
    "upload.getFile", "upload.saveFilePart", "upload.saveBigFilePart", "upload.getFileHashes",
    "upload.getWebFile",
})

#: Wrappers whose query follows a fixed-size head: constructor id -> bytes before the query.
_SIMPLE_WRAPPERS: dict[int, int] = {
    0xBF9459B7: 4,   # invokeWithoutUpdates
    0xDA9B0D0D: 8,   # invokeWithLayer layer:int
    0xCB9F372D: 12,  # invokeAfterMsg msg_id:long
}
_U32 = struct.Struct("<I").unpack_from


def method_name(request: object, payload: bytes | None = None) -> str | None:
    """The TL name of the method ``request`` calls, under its generic wrappers.

    A generated TL function names itself; any other object with ``__bytes__`` (another
    library's request, say) is looked up by its constructor number in the bundled schema,
    which is parsed only then (``payload``: its bytes, when the caller has them already).
    None when the method is not known.
    """
    from ..tl.objects import TLFunction

    query: object = request
    for _ in range(8):
        if not isinstance(query, TLFunction):
            break
        inner = query.wrapped()
        if inner is None:
            return query.TL_NAME
        query = inner
    if payload is not None and query is request:
        return _name_of_bytes(payload)
    serialize = getattr(query, "__bytes__", None)
    return _name_of_bytes(serialize()) if callable(serialize) else None


def _name_of_bytes(data: bytes) -> str | None:
    from ..tl import api

    position = 0
    for _ in range(8):
        if len(data) < position + 4:
            return None
        number = _U32(data, position)[0]
        head = _SIMPLE_WRAPPERS.get(number)
        if head is None:
            combinator = api.schema.by_id(number)
            return combinator.name if combinator is not None and combinator.is_function else None
        position += head
    return None
