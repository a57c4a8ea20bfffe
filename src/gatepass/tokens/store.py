"""Storage the token cores need: the revocation log, kept durably (SECURITY.md decision 6),
the feed that announces it, and token families."""

from collections.abc import Sequence
from typing import Protocol

from gatepass.tokens.families import Presented, TokenFamily
from gatepass.tokens.revocation_event import RevocationEvent, RevocationKind


class RevocationStore(Protocol):
    """The revocation log (tokens/revocation.py), in SQL whatever holds the sessions, so a
    Redis restart cannot bring a revoked token, grant, session or subject back.

    `add(kind, id, at=, until=)` records that the token, grant or session `id` is revoked
    until `until` and returns the event with its new `seq`; when (kind, id) is recorded
    already it changes nothing and returns None, also when callers race: exactly one of
    them gets the event. `set_not_before(user_id, at=, until=)` records a subject's
    not-before time, replacing an earlier one of that user: the new record has a new `seq`
    and is returned; when one at least as late stands, it changes nothing and returns None.
    Every `seq` is larger than that of any record committed before it, so `since(cursor,
    limit)`, which returns up to `limit` records with `seq > cursor` in `seq` order, misses
    nothing for a reader that resumes from the last `seq` it saw. `find(keys, now)`
    returns the records of those (kind, id) pairs whose `until` is after `now`.
    `sweep(now)` deletes the records whose `until` is not after `now`.
    """

    async def add(
        self, kind: RevocationKind, id: str, *, at: float, until: float
    ) -> RevocationEvent | None: ...

    async def set_not_before(
        self, user_id: str, *, at: float, until: float
    ) -> RevocationEvent | None: ...

    async def find(
        self, keys: Sequence[tuple[RevocationKind, str]], now: float
    ) -> list[RevocationEvent]: ...

    async def since(self, cursor: int, limit: int) -> list[RevocationEvent]: ...

    async def sweep(self, now: float) -> int: ...


class RevocationFeed(Protocol):
    """Where recorded revocations are announced to verifiers (docs/revocation.md).

    `publish(event)` hands the event to live subscribers and appends it to the feed's
    catch-up log, or raises StoreUnavailable when it cannot. It is called after the record
    is committed, and its failure loses nothing: the SQL log (`since`) has the event.
    """

    async def publish(self, event: RevocationEvent) -> None: ...


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
