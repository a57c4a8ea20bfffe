"""RevokedGrantStore contract (tokens/store.py), sentence by sentence, on every backend.

The store is SQL whatever holds the sessions (SECURITY.md decision 6), so every backend
runs it on SQLite or PostgreSQL.
"""

import asyncio
import uuid

import pytest

from gatepass.storage.backends import Backends
from gatepass.tokens.store import RevokedGrantStore
from tests.contract.conftest import START


@pytest.fixture
def store(backends: Backends) -> RevokedGrantStore:
    return backends.revoked_grants


def grant() -> str:
    return uuid.uuid4().hex


async def test_a_revoked_grant_is_revoked_until_its_expiry(store: RevokedGrantStore) -> None:
    gid = grant()
    assert await store.revoke(gid, now=START, expires_at=START + 900)
    assert await store.is_revoked(gid, START)
    assert await store.is_revoked(gid, START + 899)
    assert not await store.is_revoked(gid, START + 900)


async def test_a_grant_never_revoked_is_not_revoked(store: RevokedGrantStore) -> None:
    await store.revoke(grant(), now=START, expires_at=START + 900)
    assert not await store.is_revoked(grant(), START)


async def test_only_the_first_of_concurrent_revocations_reports_true(
    store: RevokedGrantStore,
) -> None:
    gid = grant()
    results = await asyncio.gather(
        *(store.revoke(gid, now=START, expires_at=START + 900 + i) for i in range(10))
    )
    assert sorted(results) == [False] * 9 + [True]
    assert await store.is_revoked(gid, START + 899)


async def test_sweep_forgets_expired_revocations(backends: Backends) -> None:
    gid = grant()
    await backends.revoked_grants.revoke(gid, now=START, expires_at=START + 10)
    await backends.sweep(START + 10)
    assert not await backends.revoked_grants.is_revoked(gid, START)
