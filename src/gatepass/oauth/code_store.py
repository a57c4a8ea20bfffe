"""Storage the authorization-code grant needs: codes, kept by digest, consumed once."""

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class AuthorizationCode:
    """An issued code as storage keeps it: keyed by the digest of the code, never the code.

    RFC 6749 §4.1.2 and OAuth 2.1 §4.1.3: bound to the client, the redirect URI and the
    PKCE challenge; OIDC Core §3.1.3.6: to the nonce, user and authentication time.
    """

    digest: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    user_id: str
    session_id: str
    scopes: tuple[str, ...]
    auth_time: float
    issued_at: float
    expires_at: float
    nonce: str | None = None
    resource: str | None = None
    amr: tuple[str, ...] = ("pwd",)  # how the user authenticated (sessions/model.py)
    idp: str | None = None


@dataclass(frozen=True)
class Tombstone:
    """What remains of a consumed code: its binding, and the grant its redemption began."""

    code: AuthorizationCode
    grant_id: str
    redeemed_at: float


class AuthorizationCodeStore(Protocol):
    """Authorization codes, keyed by `AuthorizationCode.digest`.

    After `add(code, ttl_seconds)`, the first `consume(code.digest, ...)` within
    `ttl_seconds` returns an equal AuthorizationCode and, in the same atomic step,
    turns the code into a Tombstone carrying `grant_id` and `redeemed_at=now`, which
    `find_redeemed` returns for `tombstone_seconds`. Every later `consume` of that
    digest returns None, also when many run at once: exactly one caller gets the code.
    `consume` of an unknown or expired digest returns None and leaves no tombstone;
    `find_redeemed` of a digest never consumed returns None. `mark_redeemed(digest,
    grant_id, ...)` replaces a tombstone's grant id, keeps it `ttl_seconds` from `now`
    and returns True; with no tombstone it returns False and writes nothing.
    """

    async def add(self, code: AuthorizationCode, ttl_seconds: int) -> None: ...

    async def consume(
        self, digest: str, *, grant_id: str, now: float, tombstone_seconds: int
    ) -> AuthorizationCode | None: ...

    async def find_redeemed(self, digest: str, now: float) -> Tombstone | None: ...

    async def mark_redeemed(
        self, digest: str, grant_id: str, *, now: float, ttl_seconds: int
    ) -> bool: ...
