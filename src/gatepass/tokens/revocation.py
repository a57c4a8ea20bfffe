"""The revocation log (DESIGN.md "Revocation without per-request I/O"; docs/revocation.md).

    revoke_token(jti, until)       ─┐
    revoke_grant(gid[, until])      ├─► RevocationStore.add / set_not_before ─► feed.publish
    revoke_session(sid, until)      │     SQL, committed first                  failure: logged,
    revoke_subject(user_id)        ─┘     (first revocation only; a later        never raised
                                           subject not-before replaces)

    revocation_of(token)  ─► the live record that kills the token, or None
    since(cursor, limit)  ─► the log in `seq` order: how a verifier catches up

Record first, then publish (SECURITY.md decision 6): a JWT cannot be recalled, so the
record must outlive any outage of the feed. When Redis is down the revocation still
holds here (userinfo reads the log) and reaches verifiers when they catch up from it.
"""

import logging

from gatepass.clock import Clock
from gatepass.errors import StoreUnavailable
from gatepass.tokens.access_tokens import AccessTokenClaims
from gatepass.tokens.revocation_event import (
    RevocationEvent,
    RevocationKind,
    TokenFacts,
    validate_id,
)
from gatepass.tokens.store import RevocationFeed, RevocationStore

MAX_PAGE = 1000  # events per `since` call
log = logging.getLogger("gatepass.revocation")


class NoFeed:
    """The feed without Redis: verifiers catch up from the SQL log (`since`) alone."""

    async def publish(self, event: RevocationEvent) -> None:
        return None


def facts_of(claims: AccessTokenClaims) -> TokenFacts:
    """What of an access token (RFC 9068) a revocation can name."""
    return TokenFacts(jti=claims.jti, sub=claims.subject, iat=claims.issued_at, gid=claims.grant_id)


class Revocations:
    def __init__(
        self,
        store: RevocationStore,
        feed: RevocationFeed,
        clock: Clock,
        *,
        max_token_ttl_seconds: int,
    ) -> None:
        self._store = store
        self._feed = feed
        self._clock = clock
        # Longest life of any token gatepass signs: a grant or subject record that lasts
        # this long has outlived every token it can kill.
        self._max_ttl = max_token_ttl_seconds

    async def revoke_token(self, jti: str, until: float) -> bool:
        """One access token, until its `exp`; True the first time."""
        return await self._add(RevocationKind.TOKEN, jti, until)

    async def revoke_grant(self, grant_id: str, *, until: float | None = None) -> bool:
        """Every token a grant (a token family, a code redemption) issued; True the first
        time. A revoked grant issues nothing more, so by default the record lasts as long
        as the longest-lived token it may have issued already."""
        end = self._clock.now() + self._max_ttl if until is None else until
        return await self._add(RevocationKind.GRANT, grant_id, end)

    async def revoke_session(self, session_id: str, until: float) -> bool:
        """A login session (the `sid` of id tokens), until its absolute end."""
        return await self._add(RevocationKind.SESSION, session_id, until)

    async def revoke_subject(self, user_id: str) -> bool:
        """Every token issued to the user so far (password reset, disabling, "log out
        everywhere"); tokens issued afterwards are not touched. False when a not-before
        at least as late stands already."""
        now = self._clock.now()
        event = await self._store.set_not_before(
            validate_id(user_id), at=now, until=now + self._max_ttl
        )
        return await self._announce(event)

    async def revocation_of(self, token: TokenFacts) -> RevocationEvent | None:
        """The recorded revocation that kills `token` now, or None. One store round trip."""
        now = self._clock.now()
        for event in await self._store.find(token.revocation_keys(), now):
            if event.kills(token, now):
                return event
        return None

    async def is_active(self, token: TokenFacts) -> bool:
        return await self.revocation_of(token) is None

    async def since(self, cursor: int, limit: int = MAX_PAGE) -> list[RevocationEvent]:
        """Up to `limit` events after `cursor` (0: from the start), in `seq` order. Events
        whose `until` has passed may appear until swept; a verifier ignores them."""
        if cursor < 0 or not 0 < limit <= MAX_PAGE:
            raise ValueError(f"cursor >= 0 and 1 <= limit <= {MAX_PAGE}")
        return await self._store.since(cursor, limit)

    async def _add(self, kind: RevocationKind, id: str, until: float) -> bool:
        now = self._clock.now()
        if until <= now:  # whatever it names has expired already: nothing to kill
            return False
        return await self._announce(
            await self._store.add(kind, validate_id(id), at=now, until=until)
        )

    async def _announce(self, event: RevocationEvent | None) -> bool:
        if event is None:
            return False
        try:
            await self._feed.publish(event)
        except StoreUnavailable as exc:
            # Committed already: verifiers catch up from the SQL log (docs/revocation.md).
            log.warning("revocation seq=%d recorded but not published: %s", event.seq, exc)
        return True
