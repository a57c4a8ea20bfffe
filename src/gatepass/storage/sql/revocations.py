"""RevocationStore on SQL: the revocation log, one row per revoked thing (tables.py).

Order: the feed's promise is that a reader resuming after the last `seq` it saw misses
nothing, so `seq` must grow in commit order. SQLite has one writer at a time, which
gives that for free. PostgreSQL draws sequence values before commit, so two concurrent
writers could commit 8 before 7 and a reader could pass 7 by; every write there first
takes the table's EXCLUSIVE lock (readers are not blocked). Revocations are rare.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gatepass.storage.sql.base import SqlStore
from gatepass.storage.sql.tables import revocations
from gatepass.tokens.revocation_event import RevocationEvent, RevocationKind

_COLUMNS = (
    revocations.c.seq,
    revocations.c.kind,
    revocations.c.value,
    revocations.c.revoked_at,
    revocations.c.expires_at,
)


def _event(row: Any) -> RevocationEvent:
    return RevocationEvent(
        seq=row.seq,
        kind=RevocationKind(row.kind),
        id=row.value,
        at=row.revoked_at,
        until=row.expires_at,
    )


class SqlRevocationStore(SqlStore):
    async def add(
        self, kind: RevocationKind, id: str, *, at: float, until: float
    ) -> RevocationEvent | None:
        if kind is RevocationKind.SUBJECT:
            raise ValueError("a subject's revocation is set_not_before")
        try:
            async with self._transaction() as conn:
                await self._serialize(conn)
                return await self._insert(conn, kind, id, at, until)
        except IntegrityError:  # revoked already (or at this very moment): the first stands
            return None

    async def set_not_before(
        self, user_id: str, *, at: float, until: float
    ) -> RevocationEvent | None:
        subject = RevocationKind.SUBJECT
        try:
            async with self._transaction() as conn:
                await self._serialize(conn)
                # The write comes first, so SQLite takes its write lock before any read.
                await conn.execute(
                    delete(revocations).where(
                        revocations.c.kind == subject.value,
                        revocations.c.value == user_id,
                        revocations.c.revoked_at <= at,
                    )
                )
                return await self._insert(conn, subject, user_id, at, until)
        except IntegrityError:  # a later not-before stands: it kills more, so it stays
            return None

    async def find(
        self, keys: Sequence[tuple[RevocationKind, str]], now: float
    ) -> list[RevocationEvent]:
        if not keys:
            return []
        wanted = or_(
            *(
                and_(revocations.c.kind == kind.value, revocations.c.value == value)
                for kind, value in keys
            )
        )
        async with self._read() as conn:
            rows = await conn.execute(
                select(*_COLUMNS).where(wanted, revocations.c.expires_at > now)
            )
            return [_event(row) for row in rows]

    async def since(self, cursor: int, limit: int) -> list[RevocationEvent]:
        async with self._read() as conn:
            rows = await conn.execute(
                select(*_COLUMNS)
                .where(revocations.c.seq > cursor)
                .order_by(revocations.c.seq)
                .limit(limit)
            )
            return [_event(row) for row in rows]

    async def sweep(self, now: float) -> int:
        """Forget revocations whose tokens have all expired; returns how many went."""
        async with self._transaction() as conn:
            result = await conn.execute(delete(revocations).where(revocations.c.expires_at <= now))
        return result.rowcount

    async def _insert(
        self, conn: AsyncConnection, kind: RevocationKind, id: str, at: float, until: float
    ) -> RevocationEvent:
        result = await conn.execute(
            insert(revocations).values(kind=kind.value, value=id, revoked_at=at, expires_at=until)
        )
        (seq,) = result.inserted_primary_key or (None,)
        if not isinstance(seq, int):
            raise RuntimeError("the database returned no seq")
        return RevocationEvent(seq=seq, kind=kind, id=id, at=at, until=until)

    async def _serialize(self, conn: AsyncConnection) -> None:
        """PostgreSQL: one writer at a time, so `seq` grows in commit order (see above)."""
        if conn.dialect.name == "postgresql":
            await conn.execute(text("LOCK TABLE revocations IN EXCLUSIVE MODE"))
