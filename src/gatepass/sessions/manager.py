"""Starting, resuming, rotating and ending sessions (OWASP Session Management rules).

The caller holds the secret (the cookie value); storage holds only its digest. A session
that is ended (logout, revocation, eviction) is also recorded in the revocation log, which
is durable and published (SECURITY.md decision 6, docs/revocation.md); one that merely
rotates or times out is not.
"""

from dataclasses import dataclass
from typing import Protocol

from gatepass.clock import Clock
from gatepass.crypto.secrets import derive, digest, looks_like_secret, new_secret
from gatepass.sessions.devices import device_label
from gatepass.sessions.model import PASSWORD_AMR, Session
from gatepass.sessions.policy import SessionPolicy
from gatepass.sessions.store import SessionStore

CSRF_PURPOSE = "gatepass csrf v1"


@dataclass(frozen=True)
class StartedSession:
    secret: str  # goes into the cookie, and nowhere else
    session: Session


def csrf_token_for(secret: str) -> str:
    """The CSRF token bound to a session (or to an anonymous visitor's key)."""
    return derive(secret, CSRF_PURPOSE)


class EndedSessions(Protocol):
    """Where ended sessions are recorded: tokens/revocation.py's Revocations, handed in by
    web/app.py. `until` is the session's absolute end, after which it is dead anyway."""

    async def revoke_session(self, session_id: str, until: float) -> bool: ...


class SessionManager:
    def __init__(
        self,
        store: SessionStore,
        policy: SessionPolicy,
        clock: Clock,
        ended: EndedSessions | None = None,
    ) -> None:
        self._store = store
        self._policy = policy
        self._clock = clock
        self._ended = ended

    @property
    def policy(self) -> SessionPolicy:
        return self._policy

    async def start(
        self,
        user_id: str,
        address: str,
        user_agent: str,
        *,
        amr: tuple[str, ...] = PASSWORD_AMR,
        idp: str | None = None,
    ) -> StartedSession:
        """A brand-new session ID for every login: a planted ID is never adopted."""
        now = self._clock.now()
        secret = new_secret()
        session = Session(
            id=digest(secret),
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            absolute_expires_at=now + self._policy.absolute_seconds,
            address=address,
            user_agent=device_label(user_agent),
            amr=amr,
            idp=idp,
        )
        count = await self._store.create(session, self._policy.idle_seconds)
        # The count is never below the live sessions: under the limit, nothing to evict
        # and nothing to list (the listing reads every session of the user).
        if count > self._policy.max_per_user:
            await self._evict_beyond_limit(user_id, keep=session.id)
        return StartedSession(secret, session)

    async def resume(self, secret: str) -> Session | None:
        """The live session for a cookie value, sliding its idle expiry; else None."""
        if not looks_like_secret(secret):
            return None
        now = self._clock.now()
        session = await self._store.touch(digest(secret), now, self._policy.idle_seconds)
        if session is None:
            return None
        if now >= session.absolute_expires_at:
            await self._store.delete(session.id)
            return None
        return session

    async def rotate(self, secret: str, address: str, user_agent: str) -> StartedSession | None:
        """New ID at a privilege change; the old one stops working at once."""
        session = await self.resume(secret)
        if session is None:
            return None
        await self._store.delete(session.id)
        return await self.start(
            session.user_id, address, user_agent, amr=session.amr, idp=session.idp
        )

    async def end(self, secret: str) -> Session | None:
        """Logout: the server record is deleted, so a replayed cookie is anonymous."""
        if not looks_like_secret(secret):
            return None
        return await self._record_end(await self._store.delete(digest(secret)))

    async def end_by_id(self, session_id: str, user_id: str | None = None) -> Session | None:
        """Revoke one session by its handle; with `user_id`, only one of that user's."""
        if user_id is not None:
            owned = {s.id for s in await self.list_for_user(user_id)}
            if session_id not in owned:
                return None
        return await self._record_end(await self._store.delete(session_id))

    async def end_all(self, user_id: str) -> int:
        """ "Log out everywhere": every session of the user, at once."""
        live = await self.list_for_user(user_id) if self._ended is not None else []
        count = await self._store.delete_for_user(user_id)
        for session in live:
            await self._record_end(session)
        return count

    async def list_for_user(self, user_id: str) -> list[Session]:
        now = self._clock.now()
        sessions = await self._store.list_for_user(user_id, now, self._policy.idle_seconds)
        return [s for s in sessions if now < s.absolute_expires_at]

    async def _evict_beyond_limit(self, user_id: str, keep: str) -> None:
        # ASVS 7.1.2: a bounded number of concurrent sessions; the oldest go first.
        sessions = await self.list_for_user(user_id)
        excess = len(sessions) - self._policy.max_per_user
        for old in [s for s in sessions if s.id != keep][: max(excess, 0)]:
            await self._record_end(await self._store.delete(old.id))

    async def _record_end(self, session: Session | None) -> Session | None:
        """After the delete, so a session id nobody had is never recorded."""
        if session is not None and self._ended is not None:
            await self._ended.revoke_session(session.id, session.absolute_expires_at)
        return session
