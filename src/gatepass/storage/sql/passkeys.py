"""PasskeyStore on SQL (mfa/passkey_store.py states its contract)."""

from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from gatepass.errors import ValidationError
from gatepass.mfa.passkey_store import DuplicatePasskey, Passkey
from gatepass.storage.sql.base import SqlStore
from gatepass.storage.sql.tables import passkeys


def _passkey(row: Row[Any]) -> Passkey:
    return Passkey(
        credential_id=row.credential_id,
        user_id=row.user_id,
        name=row.name,
        public_key=row.public_key,
        sign_count=row.sign_count,
        transports=tuple(row.transports.split()),
        backed_up=row.backed_up,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
    )


class SqlPasskeyStore(SqlStore):
    async def add(self, passkey: Passkey) -> None:
        try:
            async with self._transaction() as conn:
                await conn.execute(
                    insert(passkeys).values(
                        credential_id=passkey.credential_id,
                        user_id=passkey.user_id,
                        name=passkey.name,
                        public_key=passkey.public_key,
                        sign_count=passkey.sign_count,
                        transports=" ".join(passkey.transports),
                        backed_up=passkey.backed_up,
                        created_at=passkey.created_at,
                        last_used_at=passkey.last_used_at,
                    )
                )
        except IntegrityError:
            # The primary key (registered already) or the foreign key (no such user).
            if await self.get(passkey.credential_id) is not None:
                raise DuplicatePasskey("this credential is registered already") from None
            raise ValidationError("no such user", "user_id") from None

    async def get(self, credential_id: str) -> Passkey | None:
        query = select(passkeys).where(passkeys.c.credential_id == credential_id)
        async with self._transaction() as conn:
            row = (await conn.execute(query)).first()
        return _passkey(row) if row is not None else None

    async def for_user(self, user_id: str) -> list[Passkey]:
        order = (passkeys.c.created_at, passkeys.c.credential_id)
        query = select(passkeys).where(passkeys.c.user_id == user_id).order_by(*order)
        async with self._transaction() as conn:
            rows = await conn.execute(query)
        return [_passkey(row) for row in rows]

    async def record_use(
        self, credential_id: str, seen_count: int, new_count: int, backed_up: bool, now: float
    ) -> bool:
        # Compare-and-set in one UPDATE: a concurrent use that saw the same counter
        # finds it moved and matches no row.
        statement = (
            update(passkeys)
            .where(passkeys.c.credential_id == credential_id, passkeys.c.sign_count == seen_count)
            .values(sign_count=new_count, backed_up=backed_up, last_used_at=now)
        )
        async with self._transaction() as conn:
            result = await conn.execute(statement)
        return result.rowcount > 0

    async def delete(self, user_id: str, credential_id: str) -> bool:
        mine = (passkeys.c.credential_id == credential_id) & (passkeys.c.user_id == user_id)
        async with self._transaction() as conn:
            result = await conn.execute(delete(passkeys).where(mine))
        return result.rowcount > 0
