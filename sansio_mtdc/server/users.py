"""The cluster-wide user directory: Telegram's test accounts ``99966XYYYY``.

Every test number names its home DC with its sixth digit X and always gets the code "XXXXX" (the
DC number five times, ``api_auth.txt``, "Test Accounts").  The accounts exist implicitly: the
first time a number is used its user is made, with an id and an access hash derived from the
number and the cluster's secret, so the same cluster inputs always give the same users.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import RPCError, UsageError
from ..tl import api

__all__ = ["TEST_PHONE", "UserDirectory", "UserRecord", "login_code_for", "normalize_phone"]

#: ``99966`` + the DC digit + four digits
TEST_PHONE = re.compile(r"99966([1-9])(\d{4})")
_NOT_DIGITS = re.compile(r"[\s+()\-.]")


def normalize_phone(phone: str) -> str:
    """The digits of a phone number as clients write it (``+999 66 2 1234`` -> ``9996621234``)."""
    return _NOT_DIGITS.sub("", phone)


def login_code_for(phone: str) -> str:
    """The login code of a test number: its DC digit five times."""
    match = TEST_PHONE.fullmatch(normalize_phone(phone))
    if match is None:
        raise UsageError(f"{phone!r} is not a test number 99966XYYYY")
    return match.group(1) * 5


@dataclass(slots=True)
class UserRecord:
    """One user.  ``home_dc`` is where the user's data lives; ``former_homes`` are the DCs it
    was migrated away from (they answer ``USER_MIGRATE_X`` but still export authorizations)."""

    id: int
    phone: str
    access_hash: int
    first_name: str
    last_name: str
    home_dc: int
    former_homes: set[int] = field(default_factory=set)

    def to_tl(self, *, is_self: bool) -> Any:
        """The ``user`` constructor as the API returns it."""
        return api.types.User(
            self=is_self, contact=is_self, id=self.id, access_hash=self.access_hash,
            first_name=self.first_name, last_name=self.last_name, phone=self.phone,
            status=api.types.UserStatusRecently())


class UserDirectory:
    """Phone number and id -> :class:`UserRecord`, for the DCs ``1..dc_count``."""

    def __init__(self, dc_count: int, secret: bytes) -> None:
        self._dc_count = dc_count
        self._secret = secret
        self._by_phone: dict[str, UserRecord] = {}
        self._by_id: dict[int, UserRecord] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def lookup_phone(self, phone: str) -> UserRecord:
        """The user of a test number, made on first use.

        ``400 PHONE_NUMBER_INVALID`` for anything but a test number of a DC this cluster runs.
        """
        digits = normalize_phone(phone)
        found = self._by_phone.get(digits)
        if found is not None:
            return found
        match = TEST_PHONE.fullmatch(digits)
        if match is None or not 1 <= int(match.group(1)) <= self._dc_count:
            raise RPCError(400, "PHONE_NUMBER_INVALID")
        dc_id = int(match.group(1))
        user_id = int(digits)
        user = UserRecord(id=user_id, phone=digits, access_hash=self._access_hash(user_id),
                          first_name="Test", last_name=f"DC{dc_id} {match.group(2)}",
                          home_dc=dc_id)
        self._by_phone[digits] = user
        self._by_id[user_id] = user
        return user

    def by_id(self, user_id: int) -> UserRecord | None:
        return self._by_id.get(user_id)

    def migrate(self, user_id: int, dc_id: int) -> UserRecord:
        """Move a user's home to ``dc_id``; the old home joins ``former_homes``."""
        user = self._by_id.get(user_id)
        if user is None:
            raise UsageError(f"no user {user_id} in the directory")
        if not 1 <= dc_id <= self._dc_count:
            raise UsageError(f"DC {dc_id} is not a DC of the cluster")
        if dc_id != user.home_dc:
            user.former_homes.add(user.home_dc)
            user.former_homes.discard(dc_id)
            user.home_dc = dc_id
        return user

    def _access_hash(self, user_id: int) -> int:
        digest = hashlib.sha256(self._secret + b"user" + user_id.to_bytes(8, "little")).digest()
        return int.from_bytes(digest[:8], "little", signed=True)
