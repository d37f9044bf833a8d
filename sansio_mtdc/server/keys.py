"""What one DC knows about one auth key: where it came from, whose it is, what the client said.

An auth key is authorized when it is bound to a user (``auth.signIn``,
``auth.importAuthorization``).  A temporary key bound to a permanent one with
``auth.bindTempAuthKey`` shares that key's authorization (``api_pfs.txt``), so
:attr:`KeyRecord.owner` follows the binding.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..crypto.mtproto2 import AuthKey

__all__ = ["ClientInfo", "KeyRecord"]


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """What ``initConnection`` said about the client, and the layer it was wrapped in."""

    api_id: int
    device_model: str
    system_version: str
    app_version: str
    system_lang_code: str
    lang_pack: str
    lang_code: str
    layer: int | None


@dataclass(slots=True, eq=False)
class KeyRecord:
    """One auth key of one DC.

    * ``temporary`` / ``expires_at``: a PFS key, unusable after ``expires_at``.
    * ``salt``: the server salt sessions of this key start with.
    * ``user_id``: the user the key is authorized for (``None``: not authorized).
    * ``perm``: for a temporary key bound with ``auth.bindTempAuthKey``, the permanent key.
    * ``client``: the last ``initConnection`` received with this key.
    """

    auth_key: AuthKey
    created_at: float
    salt: int
    temporary: bool = False
    expires_at: float | None = None
    user_id: int | None = None
    perm: KeyRecord | None = None
    client: ClientInfo | None = None

    @property
    def id(self) -> int:
        """auth_key_id as a signed int64, as TL carries it."""
        return self.auth_key.id

    @property
    def owner(self) -> KeyRecord:
        """The record that holds the authorization: the permanent key of a bound temp key."""
        return self.perm if self.perm is not None else self

    @property
    def user(self) -> int | None:
        """The authorized user, or ``None``."""
        return self.owner.user_id

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at
