"""TokenFamilyStore on SQL: a family row, and one row per refresh token it has had.

Rotation is a compare-and-set on the family's generation (`UPDATE ... WHERE generation =
g`): the database serialises racing updates of one row, on SQLite and PostgreSQL alike,
so exactly one caller moves a family from g to g + 1. The successor's digest is inserted
in the same transaction, so a family never points at a generation without its token.
"""

from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from gatepass.storage.sql.base import SqlStore
from gatepass.storage.sql.tables import refresh_tokens, token_families
from gatepass.tokens.families import Presented, TokenFamily

# A revoked or ended family is kept this long, so a late presentation of one of its
# refresh tokens is still recognised (and refused) as belonging to a dead family.
KEEP_ENDED_SECONDS = 86_400


def _family(row: Any) -> TokenFamily:
    return TokenFamily(
        id=row.id,
        client_id=row.client_id,
        user_id=row.user_id,
        scopes=tuple(row.scope.split()),
        resource=row.resource,
        auth_time=row.auth_time,
        session_id=row.session_id,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
        idle_ttl=row.idle_ttl,
        retry_window=row.retry_window,
        generation=row.generation,
        rotated_at=row.rotated_at,
        revoked_at=row.revoked_at,
        amr=tuple(row.amr.split()),
        idp=row.idp,
    )


def _live(now: float) -> Any:
    """SQL for TokenFamily.live: not revoked, before the absolute and the idle end."""
    families = token_families.c
    idle_ok = or_(families.idle_ttl == 0, families.last_used_at + families.idle_ttl > now)
    return and_(families.revoked_at.is_(None), families.expires_at > now, idle_ok)


class SqlTokenFamilyStore(SqlStore):
    async def create(self, family: TokenFamily, refresh_digest: str | None) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                insert(token_families).values(
                    id=family.id,
                    client_id=family.client_id,
                    user_id=family.user_id,
                    scope=" ".join(family.scopes),
                    resource=family.resource,
                    auth_time=family.auth_time,
                    session_id=family.session_id,
                    created_at=family.created_at,
                    last_used_at=family.last_used_at,
                    expires_at=family.expires_at,
                    idle_ttl=family.idle_ttl,
                    retry_window=family.retry_window,
                    generation=family.generation,
                    rotated_at=family.rotated_at,
                    revoked_at=family.revoked_at,
                    amr=" ".join(family.amr),
                    idp=family.idp,
                )
            )
            if refresh_digest is not None:
                await conn.execute(
                    insert(refresh_tokens).values(
                        digest=refresh_digest, family_id=family.id, generation=family.generation
                    )
                )

    async def get(self, family_id: str) -> TokenFamily | None:
        async with self._read() as conn:
            row = (
                await conn.execute(select(token_families).where(token_families.c.id == family_id))
            ).first()
        return _family(row) if row is not None else None

    async def find_refresh(self, refresh_digest: str) -> Presented | None:
        query = (
            select(token_families, refresh_tokens.c.generation.label("presented_generation"))
            .join(refresh_tokens, refresh_tokens.c.family_id == token_families.c.id)
            .where(refresh_tokens.c.digest == refresh_digest)
        )
        async with self._read() as conn:
            row = (await conn.execute(query)).first()
        return Presented(_family(row), row.presented_generation) if row is not None else None

    async def advance(
        self, family_id: str, generation: int, successor_digest: str, now: float
    ) -> bool:
        families = token_families.c
        try:
            async with self._transaction() as conn:
                moved = await conn.execute(
                    update(token_families)
                    .where(
                        families.id == family_id,
                        families.generation == generation,
                        families.revoked_at.is_(None),
                    )
                    .values(generation=generation + 1, rotated_at=now, last_used_at=now)
                )
                if moved.rowcount != 1:
                    return False
                await conn.execute(
                    insert(refresh_tokens).values(
                        digest=successor_digest, family_id=family_id, generation=generation + 1
                    )
                )
        except IntegrityError:
            # The successor's digest exists already: only possible if this very rotation was
            # recorded before (the transaction is rolled back, the family stays where it is).
            return False
        return True

    async def revoke(self, family_id: str, now: float) -> bool:
        async with self._transaction() as conn:
            result = await conn.execute(
                update(token_families)
                .where(token_families.c.id == family_id, token_families.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        return bool(result.rowcount)

    async def list_for_user(self, user_id: str, now: float) -> list[TokenFamily]:
        query = (
            select(token_families)
            .where(token_families.c.user_id == user_id, _live(now))
            .order_by(token_families.c.last_used_at.desc(), token_families.c.id)
        )
        async with self._read() as conn:
            rows = (await conn.execute(query)).all()
        return [_family(row) for row in rows]

    async def sweep(self, now: float) -> int:
        """Forget families ended or revoked more than a day ago (their refresh tokens go
        with them, by the foreign key); returns how many went."""
        families = token_families.c
        before = now - KEEP_ENDED_SECONDS
        idle_ended = and_(
            families.idle_ttl > 0, families.last_used_at + families.idle_ttl <= before
        )
        gone = or_(families.expires_at <= before, families.revoked_at <= before, idle_ended)
        async with self._transaction() as conn:
            ids = select(families.id).where(gone).scalar_subquery()
            await conn.execute(delete(refresh_tokens).where(refresh_tokens.c.family_id.in_(ids)))
            result = await conn.execute(delete(token_families).where(gone))
        return result.rowcount
