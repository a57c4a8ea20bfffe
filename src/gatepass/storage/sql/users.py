"""UserStore on SQL."""

from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from gatepass.accounts.model import User
from gatepass.accounts.store import DuplicateEmail
from gatepass.storage.sql.base import SqlStore
from gatepass.storage.sql.tables import users


def _user(row: Row[Any]) -> User:
    return User(
        id=row.id,
        email=row.email,
        name=row.name,
        password_hash=row.password_hash,
        disabled=bool(row.disabled),
        created_at=row.created_at,
        updated_at=row.updated_at,
        email_verified=bool(row.email_verified),
    )


class SqlUserStore(SqlStore):
    async def add(self, user: User) -> None:
        try:
            async with self._transaction() as conn:
                await conn.execute(
                    insert(users).values(
                        id=user.id,
                        email=user.email,
                        name=user.name,
                        password_hash=user.password_hash,
                        disabled=user.disabled,
                        created_at=user.created_at,
                        updated_at=user.updated_at,
                        email_verified=user.email_verified,
                    )
                )
        except IntegrityError:
            raise DuplicateEmail(user.email) from None

    async def get(self, user_id: str) -> User | None:
        return await self._one(users.c.id == user_id)

    async def find_by_email(self, email: str) -> User | None:
        return await self._one(users.c.email == email)

    async def _one(self, where: Any) -> User | None:
        async with self._read() as conn:
            row = (await conn.execute(select(users).where(where))).first()
        return _user(row) if row is not None else None

    async def update(
        self,
        user_id: str,
        *,
        now: float,
        password_hash: str | None = None,
        disabled: bool | None = None,
        email: str | None = None,
        email_verified: bool | None = None,
        name: str | None = None,
    ) -> User | None:
        given = {
            "password_hash": password_hash,
            "disabled": disabled,
            "email": email,
            "email_verified": email_verified,
            "name": name,
        }
        changes: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
        changes["updated_at"] = now
        try:
            async with self._transaction() as conn:
                statement = update(users).where(users.c.id == user_id).values(**changes)
                row = (await conn.execute(statement.returning(users))).first()
        except IntegrityError:
            raise DuplicateEmail(email) from None
        return _user(row) if row is not None else None

    async def delete(self, user_id: str) -> bool:
        async with self._transaction() as conn:
            result = await conn.execute(delete(users).where(users.c.id == user_id))
        return result.rowcount > 0

    async def list_all(self, limit: int = 1000) -> list[User]:
        async with self._read() as conn:
            rows = await conn.execute(select(users).order_by(users.c.created_at).limit(limit))
        return [_user(row) for row in rows]
