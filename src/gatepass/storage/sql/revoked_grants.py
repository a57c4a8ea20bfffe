"""RevokedGrantStore on SQL: one row per revoked grant, kept until its tokens have expired."""

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from gatepass.storage.sql.base import SqlStore
from gatepass.storage.sql.tables import revoked_grants


class SqlRevokedGrantStore(SqlStore):
    async def revoke(self, grant_id: str, *, now: float, expires_at: float) -> bool:
        try:
            async with self._transaction() as conn:
                await conn.execute(
                    insert(revoked_grants).values(
                        grant_id=grant_id, revoked_at=now, expires_at=expires_at
                    )
                )
        except IntegrityError:  # revoked already (or at this very moment): the first stands
            return False
        return True

    async def is_revoked(self, grant_id: str, now: float) -> bool:
        async with self._transaction() as conn:
            found = await conn.execute(
                select(revoked_grants.c.grant_id).where(
                    revoked_grants.c.grant_id == grant_id, revoked_grants.c.expires_at > now
                )
            )
            return found.first() is not None

    async def sweep(self, now: float) -> int:
        """Forget revocations whose tokens have all expired; returns how many went."""
        async with self._transaction() as conn:
            result = await conn.execute(
                delete(revoked_grants).where(revoked_grants.c.expires_at <= now)
            )
        return result.rowcount
