"""Which upstream identity belongs to which local user (a thin core over IdentityStore).

Whether a link may be made (a verified e-mail and a proven local login, never a silent
takeover) is the web layer's decision; this records it and answers lookups.
"""

from gatepass.clock import Clock
from gatepass.federation.model import LinkedIdentity, UpstreamIdentity
from gatepass.federation.store import IdentityStore


class Identities:
    def __init__(self, store: IdentityStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def find(self, provider: str, subject: str) -> LinkedIdentity | None:
        return await self._store.get(provider, subject)

    async def link(self, user_id: str, identity: UpstreamIdentity) -> LinkedIdentity:
        """Link `identity` to the user; AlreadyLinked if it is anyone's already."""
        now = self._clock.now()
        linked = LinkedIdentity(
            provider=identity.provider,
            subject=identity.subject,
            user_id=user_id,
            email=identity.email or "",
            created_at=now,
            last_used_at=now,
        )
        await self._store.add(linked)
        return linked

    async def for_user(self, user_id: str) -> list[LinkedIdentity]:
        return await self._store.for_user(user_id)

    async def unlink(self, user_id: str, provider: str, subject: str) -> bool:
        """Remove the link if it is this user's; whether it was."""
        return await self._store.delete(user_id, provider, subject)

    async def touch(self, provider: str, subject: str) -> None:
        """Record a login through the link (shown on /account)."""
        await self._store.touch(provider, subject, self._clock.now())
