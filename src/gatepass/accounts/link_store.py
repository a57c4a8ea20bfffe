"""Storage of single-use account links (e-mail verification, password reset, e-mail change)."""

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class AccountLink:
    """One link as stored: `id` is the digest of its token, never the token itself."""

    id: str
    purpose: str
    user_id: str
    email: str  # the address the link was sent to
    created_at: float
    expires_at: float
    used_at: float | None = None


class AccountLinkStore(Protocol):
    """Durable single-use links.

    After `add(link)`, `find(link.id, link.purpose, now)` returns it while `now` is before
    `expires_at` and it is unused; with another purpose it returns None.
    `consume(id, purpose, now)` returns the link and marks it used in one atomic step, so
    of concurrent calls at most one gets it; afterwards `find` and `consume` return None.
    An expired link, or one of another purpose, is neither found nor consumed.
    `void(user_id, purpose, now)` marks every unused link of that user and purpose used
    and returns how many; other users' and other purposes' links stay usable.
    `sweep(now)` deletes expired links; deleting a user deletes their links.
    """

    async def add(self, link: AccountLink) -> None: ...

    async def find(self, link_id: str, purpose: str, now: float) -> AccountLink | None: ...

    async def consume(self, link_id: str, purpose: str, now: float) -> AccountLink | None: ...

    async def void(self, user_id: str, purpose: str, now: float) -> int: ...

    async def sweep(self, now: float) -> int: ...
