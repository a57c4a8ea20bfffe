"""ProviderStore and IdentityStore on SQL (federation/store.py states their contracts)."""

from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from gatepass.errors import ValidationError
from gatepass.federation.model import AlreadyLinked, DuplicateProvider, LinkedIdentity
from gatepass.federation.store import StoredProvider
from gatepass.storage.sql.base import SqlStore
from gatepass.storage.sql.tables import upstream_providers, user_identities


def _provider(row: Row[Any]) -> StoredProvider:
    return StoredProvider(
        name=row.name,
        kind=row.kind,
        issuer=row.issuer,
        client_id=row.client_id,
        sealed_secret=row.sealed_secret,
        scopes=tuple(row.scopes.split()),
        display_name=row.display_name,
        created_at=row.created_at,
    )


class SqlProviderStore(SqlStore):
    async def add(self, record: StoredProvider) -> None:
        try:
            async with self._transaction() as conn:
                await conn.execute(
                    insert(upstream_providers).values(
                        name=record.name,
                        kind=record.kind,
                        issuer=record.issuer,
                        client_id=record.client_id,
                        sealed_secret=record.sealed_secret,
                        scopes=" ".join(record.scopes),
                        display_name=record.display_name,
                        created_at=record.created_at,
                    )
                )
        except IntegrityError:
            raise DuplicateProvider(f"a provider named {record.name!r} exists already") from None

    async def get(self, name: str) -> StoredProvider | None:
        async with self._transaction() as conn:
            query = select(upstream_providers).where(upstream_providers.c.name == name)
            row = (await conn.execute(query)).first()
        return _provider(row) if row is not None else None

    async def list_all(self) -> list[StoredProvider]:
        query = select(upstream_providers).order_by(upstream_providers.c.name)
        async with self._transaction() as conn:
            rows = await conn.execute(query)
        return [_provider(row) for row in rows]

    async def delete(self, name: str) -> bool:
        statement = delete(upstream_providers).where(upstream_providers.c.name == name)
        async with self._transaction() as conn:
            result = await conn.execute(statement)
        return result.rowcount > 0


def _link(row: Row[Any]) -> LinkedIdentity:
    return LinkedIdentity(
        provider=row.provider,
        subject=row.subject,
        user_id=row.user_id,
        email=row.email,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
    )


def _key(provider: str, subject: str) -> Any:
    return (user_identities.c.provider == provider) & (user_identities.c.subject == subject)


class SqlIdentityStore(SqlStore):
    async def add(self, link: LinkedIdentity) -> None:
        try:
            async with self._transaction() as conn:
                await conn.execute(
                    insert(user_identities).values(
                        provider=link.provider,
                        subject=link.subject,
                        user_id=link.user_id,
                        email=link.email,
                        created_at=link.created_at,
                        last_used_at=link.last_used_at,
                    )
                )
        except IntegrityError:
            # The primary key (already linked) or the foreign key (no such user).
            if await self.get(link.provider, link.subject) is not None:
                raise AlreadyLinked(f"{link.provider} identity is linked already") from None
            raise ValidationError("no such user", "user_id") from None

    async def get(self, provider: str, subject: str) -> LinkedIdentity | None:
        async with self._transaction() as conn:
            query = select(user_identities).where(_key(provider, subject))
            row = (await conn.execute(query)).first()
        return _link(row) if row is not None else None

    async def for_user(self, user_id: str) -> list[LinkedIdentity]:
        order = (user_identities.c.created_at, user_identities.c.provider)
        query = select(user_identities).where(user_identities.c.user_id == user_id).order_by(*order)
        async with self._transaction() as conn:
            rows = await conn.execute(query)
        return [_link(row) for row in rows]

    async def delete(self, user_id: str, provider: str, subject: str) -> bool:
        mine = _key(provider, subject) & (user_identities.c.user_id == user_id)
        async with self._transaction() as conn:
            result = await conn.execute(delete(user_identities).where(mine))
        return result.rowcount > 0

    async def touch(self, provider: str, subject: str, now: float) -> None:
        statement = update(user_identities).where(_key(provider, subject))
        async with self._transaction() as conn:
            await conn.execute(statement.values(last_used_at=now))
