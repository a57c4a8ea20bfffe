"""SigningKeyStore on SQL (the `signing_keys` table of migration 0002)."""

from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from gatepass.keys.model import StoredSigningKey
from gatepass.keys.store import DuplicateKey
from gatepass.storage.sql.base import SqlStore
from gatepass.storage.sql.tables import signing_keys


def _key(row: Row[Any]) -> StoredSigningKey:
    return StoredSigningKey(
        kid=row.kid,
        alg=row.alg,
        public_jwk=row.public_jwk,
        sealed_private=row.private_jwk_encrypted,
        created_at=row.created_at,
        published_at=row.published_at,
        active_at=row.active_at,
        retired_at=row.retired_at,
        expires_at=row.expires_at,
    )


class SqlSigningKeyStore(SqlStore):
    async def add(self, key: StoredSigningKey) -> None:
        try:
            async with self._transaction() as conn:
                await conn.execute(
                    insert(signing_keys).values(
                        kid=key.kid,
                        alg=key.alg,
                        public_jwk=key.public_jwk,
                        private_jwk_encrypted=key.sealed_private,
                        created_at=key.created_at,
                        published_at=key.published_at,
                        active_at=key.active_at,
                        retired_at=key.retired_at,
                        expires_at=key.expires_at,
                    )
                )
        except IntegrityError:
            raise DuplicateKey(key.kid) from None

    async def list_all(self) -> list[StoredSigningKey]:
        query = select(signing_keys).order_by(signing_keys.c.created_at, signing_keys.c.kid)
        async with self._read() as conn:
            rows = await conn.execute(query)
        return [_key(row) for row in rows]

    async def retire(self, kid: str, *, retired_at: float, expires_at: float) -> bool:
        # One conditional UPDATE: a retirement already due earlier is never postponed,
        # even when two rotations race.
        statement = (
            update(signing_keys)
            .where(signing_keys.c.kid == kid)
            .where(or_(signing_keys.c.retired_at.is_(None), signing_keys.c.retired_at > retired_at))
            .values(retired_at=retired_at, expires_at=expires_at)
        )
        async with self._transaction() as conn:
            result = await conn.execute(statement)
        return result.rowcount > 0

    async def delete_expired(self, now: float) -> int:
        statement = delete(signing_keys).where(
            signing_keys.c.expires_at.is_not(None), signing_keys.c.expires_at <= now
        )
        async with self._transaction() as conn:
            result = await conn.execute(statement)
        return result.rowcount
