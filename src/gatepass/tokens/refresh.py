"""The token-family core: start a family at code redemption, rotate its refresh token,
revoke it (and with it every access token it issued). The rule is in families.py.

    refresh(token, client_id)
      malformed / unknown / other client / revoked / expired ─► Refused (nothing changes)
      current generation ─► compare-and-set to the next ─► Rotated(successor)
                                 └─ lost the race ─► as below, with the family re-read
      previous generation, within the retry window ─► Rotated(same successor, retried)
      anything older, or outside the window ─► the family is revoked ─► Reused

Revoking a family records its id as a revoked grant in the revocation log (revocation.py)
until every access token it issued has expired: access tokens carry the family id as `gid`.
"""

from dataclasses import dataclass

from gatepass.clock import Clock
from gatepass.tokens.families import FamilyPolicy, Presented, RefreshTokenSecrets, TokenFamily
from gatepass.tokens.revocation import Revocations
from gatepass.tokens.store import TokenFamilyStore


@dataclass(frozen=True)
class Rotated:
    """The refresh succeeded: `refresh_token` is the family's current token."""

    family: TokenFamily
    refresh_token: str
    retried: bool  # the same successor handed out again within the retry window


@dataclass(frozen=True)
class Reused:
    """A rotated token came back: theft is assumed and the family is revoked."""

    family_id: str


@dataclass(frozen=True)
class Refused:
    """Not a live refresh token of this client; nothing was changed. `reason` is for logs."""

    reason: str


RefreshResult = Rotated | Reused | Refused


@dataclass(frozen=True)
class FamilyStart:
    """What a code redemption knows when it starts a family."""

    family_id: str  # the grant id the code redemption issued tokens under
    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    resource: str | None
    auth_time: float
    session_id: str | None
    access_expires_at: float  # the end of a family without refresh token
    amr: tuple[str, ...] = ("pwd",)
    idp: str | None = None


class TokenFamilies:
    def __init__(
        self,
        store: TokenFamilyStore,
        revocations: Revocations,
        secrets: RefreshTokenSecrets,
        clock: Clock,
    ) -> None:
        self._store = store
        self._revocations = revocations
        self._secrets = secrets
        self._clock = clock

    async def start(self, start: FamilyStart, refresh: FamilyPolicy | None) -> str | None:
        """Record the family; with a `refresh` policy, return its first refresh token."""
        now = self._clock.now()
        token = self._secrets.first() if refresh is not None else None
        family = TokenFamily(
            id=start.family_id,
            client_id=start.client_id,
            user_id=start.user_id,
            scopes=start.scopes,
            resource=start.resource,
            auth_time=start.auth_time,
            session_id=start.session_id,
            created_at=now,
            last_used_at=now,
            expires_at=now + refresh.absolute_ttl if refresh else start.access_expires_at,
            idle_ttl=refresh.idle_ttl if refresh else 0,
            retry_window=refresh.retry_window if refresh else 0,
            generation=0,
            rotated_at=None,
            revoked_at=None,
            amr=start.amr,
            idp=start.idp,
        )
        digest = self._secrets.digest(token) if token is not None else None
        await self._store.create(family, digest)
        return token

    async def refresh(self, token: str, client_id: str) -> RefreshResult:
        if not self._secrets.well_formed(token):
            return Refused("malformed")
        now = self._clock.now()
        found = await self._store.find_refresh(self._secrets.digest(token))
        if found is None:
            return Refused("unknown")
        family, generation = found.family, found.generation
        # RFC 6749 §6: the token must have been issued to the authenticated client.
        if family.client_id != client_id:
            return Refused("issued to another client")
        if not family.live(now):
            return Refused("family revoked or expired")
        successor = self._secrets.successor(token)
        if generation == family.generation:
            if await self._store.advance(
                family.id, generation, self._secrets.digest(successor), now
            ):
                return Rotated(family.rotated(now), successor, retried=False)
            # Another request rotated it (or revoked the family) since we read it.
            latest = await self._store.get(family.id)
            if latest is None or not latest.live(now):
                return Refused("family revoked or expired")
            family = latest
        if self._retry(family, generation, now):
            return Rotated(family, successor, retried=True)
        await self.revoke(family.id)
        return Reused(family.id)

    def _retry(self, family: TokenFamily, generation: int, now: float) -> bool:
        """The token is the one rotated last, and the rotation is recent enough."""
        return (
            generation == family.generation - 1
            and family.rotated_at is not None
            and family.retry_window > 0
            and now - family.rotated_at <= family.retry_window
        )

    async def find(self, token: str) -> TokenFamily | None:
        """The live family whose *current* refresh token this is, or None (for
        introspection, which must not rotate anything)."""
        found = await self._live(token)
        if found is None or found.generation != found.family.generation:
            return None
        return found.family

    async def owner_of(self, token: str) -> TokenFamily | None:
        """The live family this refresh token belongs to, whatever its generation (for
        revocation: a client revoking an older token of its family ends the family)."""
        found = await self._live(token)
        return found.family if found is not None else None

    async def _live(self, token: str) -> Presented | None:
        if not self._secrets.well_formed(token):
            return None
        found = await self._store.find_refresh(self._secrets.digest(token))
        if found is None or not found.family.live(self._clock.now()):
            return None
        return found

    async def get(self, family_id: str) -> TokenFamily | None:
        return await self._store.get(family_id)

    async def revoke(self, family_id: str) -> bool:
        """Revoke the family and every token it issued; True if it was not revoked yet."""
        # The grant record first: it is what makes the family's access tokens fail. It
        # lasts until every token the family issued has expired, and is published.
        await self._revocations.revoke_grant(family_id)
        return await self._store.revoke(family_id, self._clock.now())

    async def revoke_for_user(self, user_id: str) -> list[str]:
        """Revoke every live family of a user (password reset, disabling, log out everywhere);
        the ids of those this call revoked."""
        families = await self._store.list_for_user(user_id, self._clock.now())
        return [family.id for family in families if await self.revoke(family.id)]

    async def for_user(self, user_id: str) -> list[TokenFamily]:
        """The user's live families, the last used first (the account page's grant list)."""
        return await self._store.list_for_user(user_id, self._clock.now())
