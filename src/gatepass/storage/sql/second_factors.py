"""TotpStore and RecoveryCodeStore on SQL (mfa/store.py states their contracts).

Single use rests on conditional UPDATEs: the database applies each atomically, so of
two requests racing with one code exactly one sees a row change.
"""

from sqlalchemy import delete, func, insert, select, update

from gatepass.mfa.store import TotpFactor
from gatepass.storage.sql.base import SqlStore
from gatepass.storage.sql.tables import passkeys, recovery_codes, totp_factors


class SqlTotpStore(SqlStore):
    async def get(self, user_id: str) -> TotpFactor | None:
        query = select(totp_factors).where(totp_factors.c.user_id == user_id)
        async with self._transaction() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return TotpFactor(
            row.user_id, row.sealed_secret, row.confirmed_at, row.last_used_step, row.created_at
        )

    async def begin(self, user_id: str, sealed_secret: str, now: float) -> bool:
        mine = totp_factors.c.user_id == user_id
        async with self._transaction() as conn:
            await conn.execute(
                delete(totp_factors).where(mine & totp_factors.c.confirmed_at.is_(None))
            )
            if (await conn.execute(select(totp_factors.c.user_id).where(mine))).first():
                return False
            await conn.execute(
                insert(totp_factors).values(
                    user_id=user_id, sealed_secret=sealed_secret, confirmed_at=None,
                    last_used_step=0, created_at=now,
                )
            )  # fmt: skip
        return True

    async def confirm(self, user_id: str, step: int, now: float) -> bool:
        statement = (
            update(totp_factors)
            .where(totp_factors.c.user_id == user_id, totp_factors.c.confirmed_at.is_(None))
            .values(confirmed_at=now, last_used_step=step)
        )
        async with self._transaction() as conn:
            result = await conn.execute(statement)
        return result.rowcount == 1

    async def use_step(self, user_id: str, step: int) -> bool:
        statement = (
            update(totp_factors)
            .where(
                totp_factors.c.user_id == user_id,
                totp_factors.c.confirmed_at.is_not(None),
                totp_factors.c.last_used_step < step,
            )
            .values(last_used_step=step)
        )
        async with self._transaction() as conn:
            result = await conn.execute(statement)
        return result.rowcount == 1

    async def delete(self, user_id: str) -> bool:
        async with self._transaction() as conn:
            result = await conn.execute(
                delete(totp_factors).where(totp_factors.c.user_id == user_id)
            )
        return result.rowcount > 0


class SqlRecoveryCodeStore(SqlStore):
    async def replace(self, user_id: str, digests: list[str], now: float) -> None:
        rows = [
            {"user_id": user_id, "digest": d, "created_at": now, "used_at": None} for d in digests
        ]
        async with self._transaction() as conn:
            await conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
            if rows:
                await conn.execute(insert(recovery_codes), rows)

    async def use(self, user_id: str, digest: str, now: float) -> bool:
        statement = (
            update(recovery_codes)
            .where(
                recovery_codes.c.user_id == user_id,
                recovery_codes.c.digest == digest,
                recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
        async with self._transaction() as conn:
            result = await conn.execute(statement)
        return result.rowcount == 1

    async def remaining(self, user_id: str) -> int:
        query = select(func.count()).where(
            recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None)
        )
        async with self._transaction() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def delete_all(self, user_id: str) -> int:
        statement = delete(recovery_codes).where(recovery_codes.c.user_id == user_id)
        async with self._transaction() as conn:
            result = await conn.execute(statement)
        return int(result.rowcount)


class SqlPasskeyPresence(SqlStore):
    """Whether a user has a passkey, and forgetting them all (reset-mfa) — read straight
    from the passkeys table, whatever else the passkey code keeps."""

    async def has_factor(self, user_id: str) -> bool:
        query = select(passkeys.c.credential_id).where(passkeys.c.user_id == user_id).limit(1)
        async with self._transaction() as conn:
            return (await conn.execute(query)).first() is not None

    async def delete_all(self, user_id: str) -> int:
        async with self._transaction() as conn:
            result = await conn.execute(delete(passkeys).where(passkeys.c.user_id == user_id))
        return int(result.rowcount)
