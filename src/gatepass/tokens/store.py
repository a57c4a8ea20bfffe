"""Storage the token cores need: revoked grants, kept durably (SECURITY.md decision 6)."""

from typing import Protocol

from gatepass.tokens.families import Presented, TokenFamily


class RevokedGrantStore(Protocol):
    """Grants (code redemptions, later refresh families) revoked before their tokens expired.

    After `revoke(grant_id, now=..., expires_at=...)`, `is_revoked(grant_id, now)` is True
    for every `now` before `expires_at`; the first `revoke` of a grant id returns True, a
    later one (also a concurrent one) returns False and changes nothing. `is_revoked` of a
    grant id never revoked returns False. The record is durable: it lives in SQL whatever
    holds the sessions, so a Redis restart cannot bring a revoked grant back.
    """

    async def revoke(self, grant_id: str, *, now: float, expires_at: float) -> bool: ...

    async def is_revoked(self, grant_id: str, now: float) -> bool: ...


class TokenFamilyStore(Protocol):
    """Token families and their refresh-token digests (tokens/families.py), kept in SQL.

    `create(family, refresh_digest)` stores a family at generation 0 with its first
    refresh-token digest (None for a family without refresh token). `find_refresh(d)`
    returns the family and generation of the refresh token whose digest is `d`, for every
    generation the family has had, or None. `advance(id, g, d, now)` is a compare-and-set:
    when the family is at generation g and not revoked, it records `d` as the digest of
    generation g + 1, moves the family there with `rotated_at` and `last_used_at` = now,
    and returns True; otherwise it changes nothing and returns False, also when any number
    of callers race, in one process or several: exactly one of them sees True.
    `revoke(id, now)` marks the family revoked; True the first time only.
    `list_for_user(user_id, now)` gives the user's live families, the last used first.
    """

    async def create(self, family: TokenFamily, refresh_digest: str | None) -> None: ...

    async def get(self, family_id: str) -> TokenFamily | None: ...

    async def find_refresh(self, refresh_digest: str) -> Presented | None: ...

    async def advance(
        self, family_id: str, generation: int, successor_digest: str, now: float
    ) -> bool: ...

    async def revoke(self, family_id: str, now: float) -> bool: ...

    async def list_for_user(self, user_id: str, now: float) -> list[TokenFamily]: ...
