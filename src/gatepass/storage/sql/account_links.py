"""AccountLinkStore on SQL: one row per link, keyed by the digest of its token.

`consume` is one conditional UPDATE ... RETURNING that matches only an unused, unexpired
row of the purpose asked, and marks it used in the same statement: of concurrent uses
exactly one gets the row (PostgreSQL re-checks the WHERE clause after the row lock;
SQLite runs one writer at a time).
"""

from typing import Any

from sqlalchemy import delete, insert, select, update

from gatepass.accounts.link_store import AccountLink
from gatepass.storage.sql.base import SqlStore
from gatepass.storage.sql.tables import account_links as links


def _link(row: Any) -> AccountLink:
    return AccountLink(
        id=row.id,
        purpose=row.purpose,
        user_id=row.user_id,
        email=row.email,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
    )


def _live(link_id: str, purpose: str, now: float) -> tuple[Any, ...]:
    return (
        links.c.id == link_id,
        links.c.purpose == purpose,
        links.c.used_at.is_(None),
        links.c.expires_at > now,
    )


class SqlAccountLinkStore(SqlStore):
    async def add(self, link: AccountLink) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                insert(links).values(
                    id=link.id,
                    purpose=link.purpose,
                    user_id=link.user_id,
                    email=link.email,
                    created_at=link.created_at,
                    expires_at=link.expires_at,
                    used_at=link.used_at,
                )
            )

    async def find(self, link_id: str, purpose: str, now: float) -> AccountLink | None:
        async with self._transaction() as conn:
            row = (await conn.execute(select(links).where(*_live(link_id, purpose, now)))).first()
        return _link(row) if row is not None else None

    async def consume(self, link_id: str, purpose: str, now: float) -> AccountLink | None:
        statement = (
            update(links)
            .where(*_live(link_id, purpose, now))
            .values(used_at=now)
            .returning(*links.c)
        )
        async with self._transaction() as conn:
            row = (await conn.execute(statement)).first()
        return _link(row) if row is not None else None

    async def void(self, user_id: str, purpose: str, now: float) -> int:
        statement = (
            update(links)
            .where(
                links.c.user_id == user_id,
                links.c.purpose == purpose,
                links.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
        async with self._transaction() as conn:
            result = await conn.execute(statement)
        return result.rowcount

    async def sweep(self, now: float) -> int:
        """Delete links past their expiry, used or not; returns how many."""
        async with self._transaction() as conn:
            result = await conn.execute(delete(links).where(links.c.expires_at <= now))
        return result.rowcount
