"""Record audit events with the clock's time; the one way cores and edges write the log."""

from gatepass.audit.model import AuditEvent, AuditEventType
from gatepass.audit.store import AuditStore
from gatepass.clock import Clock


class AuditLog:
    def __init__(self, store: AuditStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def record(
        self,
        type: AuditEventType,
        *,
        user_id: str | None = None,
        email: str | None = None,
        address: str | None = None,
        user_agent: str | None = None,
        detail: str | None = None,
    ) -> None:
        await self._store.record(
            AuditEvent(
                at=self._clock.now(),
                type=type,
                user_id=user_id,
                email=email[:254] if email else email,
                address=address,
                user_agent=user_agent[:256] if user_agent else user_agent,
                detail=detail,
            )
        )

    async def recent(self, *, user_id: str | None = None, limit: int = 100) -> list[AuditEvent]:
        return await self._store.recent(user_id=user_id, limit=limit)

    async def forget(self, user_id: str, email: str) -> int:
        """Strip the personal data of a deleted account from its events; the count changed."""
        return await self._store.forget(user_id, email)
