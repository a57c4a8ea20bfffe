"""ProviderStore and IdentityStore contracts (federation/store.py) on SQLite and PostgreSQL,
and migration 0010 against the schema the stores are written for."""

from dataclasses import replace

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from gatepass.errors import ValidationError
from gatepass.federation.model import AlreadyLinked, DuplicateProvider, LinkedIdentity
from gatepass.federation.store import StoredProvider
from gatepass.storage.backends import Backends
from gatepass.storage.sql.tables import metadata
from tests.federation.core_fixtures import a_user, sql_backend, sql_backends, sql_settings

__all__ = ["sql_backend", "sql_backends", "sql_settings"]

RECORD = StoredProvider(
    name="corp",
    kind="oidc",
    issuer="https://id.corp.example",
    client_id="gatepass",
    sealed_secret="v1.sealed",
    scopes=("openid", "email"),
    display_name="Corp SSO",
    created_at=1_800_000_000.0,
)


async def test_an_added_provider_reads_back_equal_and_listed_by_name(
    sql_backends: Backends,
) -> None:
    store = sql_backends.providers
    await store.add(replace(RECORD, name="zeta"))
    await store.add(RECORD)
    assert await store.get("corp") == RECORD
    assert [p.name for p in await store.list_all()] == ["corp", "zeta"]


async def test_a_second_provider_of_the_same_name_is_refused_and_writes_nothing(
    sql_backends: Backends,
) -> None:
    store = sql_backends.providers
    await store.add(RECORD)
    with pytest.raises(DuplicateProvider):
        await store.add(replace(RECORD, issuer="https://evil.example"))
    assert await store.get("corp") == RECORD


async def test_a_deleted_provider_is_gone_and_deleting_it_again_says_so(
    sql_backends: Backends,
) -> None:
    store = sql_backends.providers
    await store.add(RECORD)
    assert await store.delete("corp") is True
    assert await store.get("corp") is None
    assert await store.list_all() == []
    assert await store.delete("corp") is False


def _link(user_id: str, subject: str = "s-1", at: float = 100.0) -> LinkedIdentity:
    return LinkedIdentity("corp", subject, user_id, "a@example.com", at, at)


async def test_a_link_reads_back_and_lists_under_its_user_oldest_first(
    sql_backends: Backends,
) -> None:
    store = sql_backends.identities
    user = await a_user(sql_backends)
    await store.add(_link(user, "s-2", at=200.0))
    await store.add(_link(user, "s-1", at=100.0))
    assert await store.get("corp", "s-1") == _link(user, "s-1", at=100.0)
    assert [i.subject for i in await store.for_user(user)] == ["s-1", "s-2"]
    assert await store.get("other", "s-1") is None


async def test_an_identity_links_to_one_user_only(sql_backends: Backends) -> None:
    store = sql_backends.identities
    first, second = await a_user(sql_backends), await a_user(sql_backends)
    await store.add(_link(first))
    with pytest.raises(AlreadyLinked):
        await store.add(_link(second))
    with pytest.raises(AlreadyLinked):
        await store.add(_link(first))
    assert (await store.get("corp", "s-1")) == _link(first)
    assert await store.for_user(second) == []


async def test_a_link_to_no_user_is_refused(sql_backends: Backends) -> None:
    with pytest.raises(ValidationError):
        await sql_backends.identities.add(_link("00000000-0000-0000-0000-000000000000"))
    assert await sql_backends.identities.get("corp", "s-1") is None


async def test_only_its_user_can_delete_a_link(sql_backends: Backends) -> None:
    store = sql_backends.identities
    owner, other = await a_user(sql_backends), await a_user(sql_backends)
    await store.add(_link(owner))
    assert await store.delete(other, "corp", "s-1") is False
    assert await store.get("corp", "s-1") is not None
    assert await store.delete(owner, "corp", "s-1") is True
    assert await store.get("corp", "s-1") is None


async def test_touch_moves_last_used_at_only(sql_backends: Backends) -> None:
    store = sql_backends.identities
    user = await a_user(sql_backends)
    await store.add(_link(user))
    await store.touch("corp", "s-1", 500.0)
    await store.touch("corp", "unknown", 500.0)  # a no-op, not an error
    assert await store.get("corp", "s-1") == replace(_link(user), last_used_at=500.0)


async def test_deleting_the_user_deletes_their_links(sql_backends: Backends) -> None:
    user = await a_user(sql_backends)
    await sql_backends.identities.add(_link(user))
    assert await sql_backends.users.delete(user)
    assert await sql_backends.identities.get("corp", "s-1") is None


async def test_the_migrated_schema_matches_the_federation_tables(sql_backends: Backends) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection)
        found = compare_metadata(context, metadata)
        mine = ("upstream_providers", "user_identities")
        return [d for d in found if any(name in repr(d) for name in mine)]

    async with sql_backends.engine.connect() as conn:
        assert await conn.run_sync(differences) == []
