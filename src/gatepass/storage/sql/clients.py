"""ClientStore on SQL: list-valued fields are JSON arrays in text columns."""

import json
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from gatepass.oauth.clients import Client
from gatepass.oauth.store import DuplicateClient
from gatepass.storage.sql.base import SqlStore
from gatepass.storage.sql.tables import clients


def _client(row: Row[Any]) -> Client:
    return Client(
        client_id=row.client_id,
        name=row.name,
        secret_digest=row.secret_digest,
        redirect_uris=tuple(json.loads(row.redirect_uris)),
        post_logout_redirect_uris=tuple(json.loads(row.post_logout_redirect_uris)),
        grant_types=tuple(json.loads(row.grant_types)),
        scopes=tuple(json.loads(row.scopes)),
        first_party=bool(row.first_party),
        id_token_alg=row.id_token_alg,
        created_at=row.created_at,
        updated_at=row.updated_at,
        refresh_token_idle_ttl=row.refresh_token_idle_ttl,
        refresh_token_absolute_ttl=row.refresh_token_absolute_ttl,
        refresh_retry_window=row.refresh_retry_window,
        default_audience=row.default_audience,
        require_mfa=row.require_mfa,
    )


class SqlClientStore(SqlStore):
    async def add(self, client: Client) -> None:
        try:
            async with self._transaction() as conn:
                await conn.execute(
                    insert(clients).values(
                        client_id=client.client_id,
                        name=client.name,
                        secret_digest=client.secret_digest,
                        redirect_uris=json.dumps(list(client.redirect_uris)),
                        post_logout_redirect_uris=json.dumps(
                            list(client.post_logout_redirect_uris)
                        ),
                        grant_types=json.dumps(list(client.grant_types)),
                        scopes=json.dumps(list(client.scopes)),
                        first_party=client.first_party,
                        id_token_alg=client.id_token_alg,
                        created_at=client.created_at,
                        updated_at=client.updated_at,
                        refresh_token_idle_ttl=client.refresh_token_idle_ttl,
                        refresh_token_absolute_ttl=client.refresh_token_absolute_ttl,
                        refresh_retry_window=client.refresh_retry_window,
                        default_audience=client.default_audience,
                        require_mfa=client.require_mfa,
                    )
                )
        except IntegrityError:
            raise DuplicateClient(client.client_id) from None

    async def get(self, client_id: str) -> Client | None:
        async with self._read() as conn:
            query = select(clients).where(clients.c.client_id == client_id)
            row = (await conn.execute(query)).first()
        return _client(row) if row is not None else None

    async def list_all(self, limit: int = 1000) -> list[Client]:
        order = (clients.c.created_at, clients.c.client_id)
        async with self._read() as conn:
            rows = await conn.execute(select(clients).order_by(*order).limit(limit))
        return [_client(row) for row in rows]

    async def set_secret_digest(self, client_id: str, digest: str, *, now: float) -> Client | None:
        statement = (
            update(clients)
            .where(clients.c.client_id == client_id)
            .values(secret_digest=digest, updated_at=now)
            .returning(clients)
        )
        async with self._transaction() as conn:
            row = (await conn.execute(statement)).first()
        return _client(row) if row is not None else None

    async def set_require_mfa(
        self, client_id: str, require_mfa: bool | None, *, now: float
    ) -> Client | None:
        statement = (
            update(clients)
            .where(clients.c.client_id == client_id)
            .values(require_mfa=require_mfa, updated_at=now)
            .returning(clients)
        )
        async with self._transaction() as conn:
            row = (await conn.execute(statement)).first()
        return _client(row) if row is not None else None

    async def delete(self, client_id: str) -> bool:
        async with self._transaction() as conn:
            result = await conn.execute(delete(clients).where(clients.c.client_id == client_id))
        return result.rowcount > 0
