"""SessionStore on SQL: expiry enforced on read, expired rows swept periodically."""

from typing import Any

from sqlalchemy import delete, func, insert, select, update

from gatepass.sessions.model import Session
from gatepass.storage.sql.base import SqlStore
from gatepass.storage.sql.tables import sessions

_FIELDS = (
    sessions.c.id,
    sessions.c.user_id,
    sessions.c.created_at,
    sessions.c.last_seen_at,
    sessions.c.absolute_expires_at,
    sessions.c.address,
    sessions.c.user_agent,
    sessions.c.amr,
    sessions.c.idp,
)


def _session(row: Any) -> Session:
    return Session(
        id=row.id,
        user_id=row.user_id,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        absolute_expires_at=row.absolute_expires_at,
        address=row.address,
        user_agent=row.user_agent,
        amr=tuple(row.amr.split()),
        idp=row.idp,
    )


class SqlSessionStore(SqlStore):
    async def create(self, session: Session, idle_seconds: int) -> int:
        count = (
            select(func.count())
            .select_from(sessions)
            .where(
                sessions.c.user_id == session.user_id,
                sessions.c.idle_expires_at > session.created_at,
            )
        )
        async with self._transaction() as conn:
            await conn.execute(
                insert(sessions).values(
                    id=session.id,
                    user_id=session.user_id,
                    created_at=session.created_at,
                    last_seen_at=session.last_seen_at,
                    idle_expires_at=session.last_seen_at + idle_seconds,
                    absolute_expires_at=session.absolute_expires_at,
                    address=session.address,
                    user_agent=session.user_agent,
                    amr=" ".join(session.amr),
                    idp=session.idp,
                )
            )
            return int((await conn.execute(count)).scalar_one())

    async def touch(self, session_id: str, now: float, idle_seconds: int) -> Session | None:
        # Check and slide in one statement: the row comes back only if still live.
        statement = (
            update(sessions)
            .where(sessions.c.id == session_id, sessions.c.idle_expires_at > now)
            .values(last_seen_at=now, idle_expires_at=now + idle_seconds)
            .returning(*_FIELDS)
        )
        async with self._transaction() as conn:
            row = (await conn.execute(statement)).first()
        return _session(row) if row is not None else None

    async def delete(self, session_id: str) -> Session | None:
        statement = delete(sessions).where(sessions.c.id == session_id).returning(*_FIELDS)
        async with self._transaction() as conn:
            row = (await conn.execute(statement)).first()
        return _session(row) if row is not None else None

    async def list_for_user(self, user_id: str, now: float, idle_seconds: int) -> list[Session]:
        statement = (
            select(*_FIELDS)
            .where(sessions.c.user_id == user_id, sessions.c.idle_expires_at > now)
            .order_by(sessions.c.created_at)
        )
        async with self._read() as conn:
            rows = await conn.execute(statement)
        return [_session(row) for row in rows]

    async def delete_for_user(self, user_id: str) -> int:
        async with self._transaction() as conn:
            result = await conn.execute(delete(sessions).where(sessions.c.user_id == user_id))
        return result.rowcount

    async def sweep(self, now: float) -> int:
        """Delete sessions past their idle or absolute expiry; returns how many."""
        statement = delete(sessions).where(
            (sessions.c.idle_expires_at <= now) | (sessions.c.absolute_expires_at <= now)
        )
        async with self._transaction() as conn:
            result = await conn.execute(statement)
        return result.rowcount
