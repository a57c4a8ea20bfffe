"""The SigningKeyStore contract (keys/store.py), sentence by sentence, on every SQL backend."""

import pytest

from gatepass.keys.model import StoredSigningKey
from gatepass.keys.store import DuplicateKey, SigningKeyStore
from gatepass.storage.backends import Backends


@pytest.fixture(params=("sqlite", "postgres"))
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def store(backends: Backends) -> SigningKeyStore:
    return backends.signing_keys


def record(kid: str, created_at: float = 100.0, **times: float | None) -> StoredSigningKey:
    return StoredSigningKey(
        kid=kid,
        alg="ES256",
        public_jwk='{"kty":"EC"}',
        sealed_private="v1.sealed",
        created_at=created_at,
        published_at=times.get("published_at", created_at) or created_at,
        active_at=times.get("active_at", created_at) or created_at,
        retired_at=times.get("retired_at"),
        expires_at=times.get("expires_at"),
    )


async def test_after_add_list_all_contains_an_equal_record(store: SigningKeyStore) -> None:
    key = record("k1", retired_at=500.0, expires_at=900.0)
    await store.add(key)
    assert await store.list_all() == [key]


async def test_add_of_an_existing_kid_raises_and_changes_nothing(store: SigningKeyStore) -> None:
    await store.add(record("k1"))
    with pytest.raises(DuplicateKey):
        await store.add(record("k1", created_at=200.0))
    assert [k.created_at for k in await store.list_all()] == [100.0]


async def test_list_all_is_oldest_first(store: SigningKeyStore) -> None:
    for kid, at in (("b", 300.0), ("a", 100.0), ("c", 200.0)):
        await store.add(record(kid, at))
    assert [k.kid for k in await store.list_all()] == ["a", "c", "b"]


async def test_retire_sets_both_times_but_never_postpones(store: SigningKeyStore) -> None:
    await store.add(record("k1"))
    assert await store.retire("k1", retired_at=500.0, expires_at=900.0)
    assert not await store.retire("k1", retired_at=600.0, expires_at=1000.0)
    assert await store.retire("k1", retired_at=400.0, expires_at=800.0)
    [key] = await store.list_all()
    assert (key.retired_at, key.expires_at) == (400.0, 800.0)
    assert not await store.retire("nope", retired_at=1.0, expires_at=2.0)


async def test_delete_expired_removes_only_what_has_expired(store: SigningKeyStore) -> None:
    await store.add(record("gone", 100.0, expires_at=500.0))
    await store.add(record("later", 200.0, expires_at=501.0))
    await store.add(record("forever", 300.0))
    assert await store.delete_expired(500.0) == 1
    assert [k.kid for k in await store.list_all()] == ["later", "forever"]
