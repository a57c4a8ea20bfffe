"""AuthorizationCodeStore on SQL: one row per code, live until consumed, then its tombstone.

`consume` is one conditional UPDATE ... RETURNING: it matches only a live, unredeemed,
unexpired row and turns it into a tombstone in the same statement, so of concurrent
redemptions exactly one gets the row (PostgreSQL re-checks the WHERE clause after the
row lock; SQLite runs one writer at a time). Expiry is judged from the `now` given, and
`sweep` deletes rows whose code or tombstone has expired.
"""

from typing import Any

from sqlalchemy import delete, insert, select, update

from gatepass.oauth.code_store import AuthorizationCode, Tombstone
from gatepass.storage.sql.base import SqlStore
from gatepass.storage.sql.tables import authorization_codes as codes

_FIELDS = (
    codes.c.digest,
    codes.c.client_id,
    codes.c.redirect_uri,
    codes.c.code_challenge,
    codes.c.user_id,
    codes.c.session_id,
    codes.c.scope,
    codes.c.nonce,
    codes.c.resource,
    codes.c.amr,
    codes.c.idp,
    codes.c.auth_time,
    codes.c.issued_at,
    codes.c.code_expires_at,
)


def _code(row: Any) -> AuthorizationCode:
    return AuthorizationCode(
        digest=row.digest,
        client_id=row.client_id,
        redirect_uri=row.redirect_uri,
        code_challenge=row.code_challenge,
        user_id=row.user_id,
        session_id=row.session_id,
        scopes=tuple(row.scope.split(" ")) if row.scope else (),
        auth_time=row.auth_time,
        issued_at=row.issued_at,
        expires_at=row.code_expires_at,
        nonce=row.nonce,
        resource=row.resource,
        amr=tuple(row.amr.split()),
        idp=row.idp,
    )


class SqlAuthorizationCodeStore(SqlStore):
    async def add(self, code: AuthorizationCode, ttl_seconds: int) -> None:
        expires_at = code.issued_at + ttl_seconds
        async with self._transaction() as conn:
            await conn.execute(
                insert(codes).values(
                    digest=code.digest,
                    client_id=code.client_id,
                    redirect_uri=code.redirect_uri,
                    code_challenge=code.code_challenge,
                    user_id=code.user_id,
                    session_id=code.session_id,
                    scope=" ".join(code.scopes),
                    nonce=code.nonce,
                    resource=code.resource,
                    amr=" ".join(code.amr),
                    idp=code.idp,
                    auth_time=code.auth_time,
                    issued_at=code.issued_at,
                    code_expires_at=expires_at,
                    expires_at=expires_at,
                )
            )

    async def consume(
        self, digest: str, *, grant_id: str, now: float, tombstone_seconds: int
    ) -> AuthorizationCode | None:
        statement = (
            update(codes)
            .where(
                codes.c.digest == digest,
                codes.c.redeemed_at.is_(None),
                codes.c.code_expires_at > now,
            )
            .values(grant_id=grant_id, redeemed_at=now, expires_at=now + tombstone_seconds)
            .returning(*_FIELDS)
        )
        async with self._transaction() as conn:
            row = (await conn.execute(statement)).first()
        return _code(row) if row is not None else None

    async def find_redeemed(self, digest: str, now: float) -> Tombstone | None:
        statement = select(*_FIELDS, codes.c.grant_id, codes.c.redeemed_at).where(
            codes.c.digest == digest,
            codes.c.redeemed_at.is_not(None),
            codes.c.expires_at > now,
        )
        async with self._transaction() as conn:
            row = (await conn.execute(statement)).first()
        if row is None:
            return None
        return Tombstone(code=_code(row), grant_id=row.grant_id, redeemed_at=row.redeemed_at)

    async def mark_redeemed(
        self, digest: str, grant_id: str, *, now: float, ttl_seconds: int
    ) -> bool:
        statement = (
            update(codes)
            .where(
                codes.c.digest == digest,
                codes.c.redeemed_at.is_not(None),
                codes.c.expires_at > now,
            )
            .values(grant_id=grant_id, expires_at=now + ttl_seconds)
        )
        async with self._transaction() as conn:
            result = await conn.execute(statement)
        return result.rowcount > 0

    async def sweep(self, now: float) -> int:
        """Delete codes and tombstones past their expiry; returns how many."""
        async with self._transaction() as conn:
            result = await conn.execute(delete(codes).where(codes.c.expires_at <= now))
        return result.rowcount
