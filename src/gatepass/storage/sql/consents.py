"""ConsentStore on SQL: one row per user and client, scopes as a JSON array."""

import json
from typing import Any

from sqlalchemy import delete, insert, select

from gatepass.oauth.consent_store import Consent
from gatepass.storage.sql.base import SqlStore
from gatepass.storage.sql.tables import consents


def _consent(row: Any) -> Consent:
    return Consent(
        user_id=row.user_id,
        client_id=row.client_id,
        scopes=tuple(json.loads(row.scopes)),
        granted_at=row.granted_at,
    )


class SqlConsentStore(SqlStore):
    async def save(self, consent: Consent) -> None:
        # Delete then insert in one transaction: a portable upsert.
        async with self._transaction() as conn:
            await conn.execute(
                delete(consents).where(
                    consents.c.user_id == consent.user_id,
                    consents.c.client_id == consent.client_id,
                )
            )
            await conn.execute(
                insert(consents).values(
                    user_id=consent.user_id,
                    client_id=consent.client_id,
                    scopes=json.dumps(list(consent.scopes)),
                    granted_at=consent.granted_at,
                )
            )

    async def get(self, user_id: str, client_id: str) -> Consent | None:
        query = select(consents).where(
            consents.c.user_id == user_id, consents.c.client_id == client_id
        )
        async with self._transaction() as conn:
            row = (await conn.execute(query)).first()
        return _consent(row) if row is not None else None

    async def list_for_user(self, user_id: str) -> list[Consent]:
        query = (
            select(consents)
            .where(consents.c.user_id == user_id)
            .order_by(consents.c.granted_at.desc(), consents.c.client_id)
        )
        async with self._transaction() as conn:
            rows = (await conn.execute(query)).all()
        return [_consent(row) for row in rows]

    async def delete(self, user_id: str, client_id: str) -> bool:
        query = delete(consents).where(
            consents.c.user_id == user_id, consents.c.client_id == client_id
        )
        async with self._transaction() as conn:
            result = await conn.execute(query)
        return bool(result.rowcount)
