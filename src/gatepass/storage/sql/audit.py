"""AuditStore on SQL."""

from sqlalchemy import insert, or_, select, update

from gatepass.audit.model import AuditEvent, AuditEventType
from gatepass.storage.sql.base import SqlStore
from gatepass.storage.sql.tables import audit_events


class SqlAuditStore(SqlStore):
    async def record(self, event: AuditEvent) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                insert(audit_events).values(
                    at=event.at,
                    type=event.type.value,
                    user_id=event.user_id,
                    email=event.email,
                    address=event.address,
                    user_agent=event.user_agent,
                    detail=event.detail,
                )
            )

    async def forget(self, user_id: str, email: str) -> int:
        mine = or_(audit_events.c.user_id == user_id, audit_events.c.email == email)
        statement = (
            update(audit_events).where(mine).values(email=None, address=None, user_agent=None)
        )
        async with self._transaction() as conn:
            result = await conn.execute(statement)
        return result.rowcount

    async def recent(self, *, user_id: str | None = None, limit: int = 100) -> list[AuditEvent]:
        statement = select(audit_events).order_by(audit_events.c.id.desc()).limit(limit)
        if user_id is not None:
            statement = statement.where(audit_events.c.user_id == user_id)
        async with self._transaction() as conn:
            rows = await conn.execute(statement)
        return [
            AuditEvent(
                at=row.at,
                type=AuditEventType(row.type),
                user_id=row.user_id,
                email=row.email,
                address=row.address,
                user_agent=row.user_agent,
                detail=row.detail,
            )
            for row in rows
        ]
