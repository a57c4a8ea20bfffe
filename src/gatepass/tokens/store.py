"""Storage the token cores need: revoked grants, kept durably (SECURITY.md decision 6)."""

from typing import Protocol


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
