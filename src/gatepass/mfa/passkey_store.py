"""Storage the passkey core needs: WebAuthn credentials, and which challenges were answered."""

from dataclasses import dataclass
from typing import Protocol

from gatepass.errors import GatepassError


class DuplicatePasskey(GatepassError):
    """A credential with this ID is registered already (to this user or another)."""


@dataclass(frozen=True)
class Passkey:
    """A registered WebAuthn credential (W3C WebAuthn Level 3 §4 "credential record")."""

    credential_id: str  # base64url, no padding: the authenticator's credential ID
    user_id: str
    name: str  # the person's label for it ("YubiKey", "Phone")
    public_key: str  # base64url COSE_Key (RFC 9053) as the authenticator gave it
    sign_count: int  # the last signature counter seen; 0: the authenticator keeps none
    transports: tuple[str, ...]  # hints for the browser ("usb", "internal", "hybrid", ...)
    backed_up: bool  # the BS flag: a synced (multi-device) passkey
    created_at: float
    last_used_at: float | None = None


class PasskeyStore(Protocol):
    """Durable credential records, keyed by credential ID.

    After `add(passkey)`, `get(passkey.credential_id)` returns an equal record and
    `for_user(passkey.user_id)` includes it; a second `add` with the same credential ID,
    for any user, raises DuplicatePasskey and writes nothing. `for_user` returns records
    oldest first. `record_use(credential_id, seen_count, new_count, backed_up, now)` sets
    the counter, backup state and `last_used_at` only if the stored counter still equals
    `seen_count`, in one atomic step, and says whether it did: of two uses that saw the
    same counter, one wins. `delete(user_id, credential_id)` removes the record only if
    it is that user's, and says whether it did. Deleting the user deletes their records.
    """

    async def add(self, passkey: Passkey) -> None: ...

    async def get(self, credential_id: str) -> Passkey | None: ...

    async def for_user(self, user_id: str) -> list[Passkey]: ...

    async def record_use(
        self, credential_id: str, seen_count: int, new_count: int, backed_up: bool, now: float
    ) -> bool: ...

    async def delete(self, user_id: str, credential_id: str) -> bool: ...


class ChallengeRegister(Protocol):
    """Remembers answered challenges, so each is answered once whatever process sees it.

    `first_use(key, now, ttl_seconds)` is True for the first call with `key` within
    `ttl_seconds`, False for every later one; of N concurrent calls exactly one is True.
    """

    async def first_use(self, key: str, now: float, ttl_seconds: int) -> bool: ...
