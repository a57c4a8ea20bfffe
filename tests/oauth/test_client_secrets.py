"""Client secrets (oauth/client_secrets.py, the registry): 256 bits, HMAC-SHA256 at rest."""

import base64
import secrets

import pytest

from gatepass.clock import FixedClock
from gatepass.oauth.client_secrets import ClientSecrets, new_secret
from gatepass.oauth.clients import Client, ClientRegistration
from gatepass.oauth.errors import InvalidClient, InvalidRequest
from gatepass.oauth.registry import ClientRegistry
from gatepass.oauth.store import ClientStore
from gatepass.storage.backends import Backends


def test_a_secret_carries_at_least_256_bits__rfc6749_10_10() -> None:
    many = [new_secret() for _ in range(500)]
    assert len(set(many)) == 500
    for secret in many:
        assert len(base64.urlsafe_b64decode(secret + "=")) * 8 >= 256


def test_a_digest_is_hmac_sha256_and_never_the_secret() -> None:
    hasher = ClientSecrets(secrets.token_bytes(32))
    secret = new_secret()
    digest = hasher.digest("gpc_a", secret)
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert secret not in digest


def test_the_digest_depends_on_the_key_and_the_client() -> None:
    secret = new_secret()
    one, other = ClientSecrets(secrets.token_bytes(32)), ClientSecrets(secrets.token_bytes(32))
    assert one.digest("gpc_a", secret) != other.digest("gpc_a", secret)
    assert one.digest("gpc_a", secret) != one.digest("gpc_b", secret)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        ClientSecrets(b"too short")


def test_repr_hides_the_key() -> None:
    key = secrets.token_bytes(32)
    assert key.hex() not in repr(ClientSecrets(key))


# --- the registry on every backend (clients live in SQL for all three) -----------------


@pytest.fixture
def registry(backends: Backends) -> ClientRegistry:
    return ClientRegistry(backends.clients, secrets.token_bytes(32), FixedClock())


CONFIDENTIAL = ClientRegistration(
    name="Web App", redirect_uris=("https://app.example.com/cb",), grant_types=()
)
PUBLIC = ClientRegistration(name="Phone", redirect_uris=("com.example.app:/cb",), public=True)


async def test_a_confidential_client_authenticates_with_its_secret(
    registry: ClientRegistry,
) -> None:
    client, secret = await registry.create(CONFIDENTIAL)
    assert secret is not None
    assert await registry.authenticate(client.client_id, secret) == client


async def test_the_store_holds_no_plaintext_secret(
    registry: ClientRegistry, backends: Backends
) -> None:
    client, secret = await registry.create(CONFIDENTIAL)
    assert secret is not None
    stored = await backends.clients.get(client.client_id)
    assert stored is not None
    assert stored.secret_digest is not None
    assert secret not in repr(stored)
    assert secret not in stored.secret_digest
    assert "secret_digest" not in repr(stored)  # kept out of logs too
    async with backends.engine.connect() as conn:
        rows = (await conn.exec_driver_sql("SELECT * FROM clients")).all()
    assert secret not in repr(rows)


async def _refused(registry: ClientRegistry, client_id: str, secret: str | None) -> None:
    with pytest.raises(InvalidClient) as caught:
        await registry.authenticate(client_id, secret)
    assert caught.value.status_code == 401
    assert "WWW-Authenticate" in caught.value.headers()


async def test_a_wrong_secret_fails(registry: ClientRegistry) -> None:
    client, _ = await registry.create(CONFIDENTIAL)
    await _refused(registry, client.client_id, new_secret())


async def test_the_secret_of_another_client_fails(registry: ClientRegistry) -> None:
    first, _ = await registry.create(CONFIDENTIAL)
    _, second_secret = await registry.create(CONFIDENTIAL)
    await _refused(registry, first.client_id, second_secret)


@pytest.mark.parametrize("secret", ["", None], ids=["an empty secret", "no secret"])
async def test_a_confidential_client_without_its_secret_fails(
    registry: ClientRegistry, secret: str | None
) -> None:
    client, _ = await registry.create(CONFIDENTIAL)
    await _refused(registry, client.client_id, secret)


async def test_an_oversized_secret_fails(registry: ClientRegistry) -> None:
    client, secret = await registry.create(CONFIDENTIAL)
    assert secret is not None
    await _refused(registry, client.client_id, secret * 20)


async def test_an_unknown_client_fails_like_a_wrong_secret(registry: ClientRegistry) -> None:
    client, secret = await registry.create(CONFIDENTIAL)
    assert secret is not None
    unknown = "gpc_" + "A" * 43
    with pytest.raises(InvalidClient) as unknown_error:
        await registry.authenticate(unknown, secret)
    with pytest.raises(InvalidClient) as wrong_error:
        await registry.authenticate(client.client_id, new_secret())
    assert unknown_error.value.as_response() == wrong_error.value.as_response()
    await _refused(registry, "not-a-client-id", secret)


async def test_a_public_client_has_no_secret_and_authenticates_with_none(
    registry: ClientRegistry,
) -> None:
    client, secret = await registry.create(PUBLIC)
    assert secret is None
    assert not client.confidential
    assert client.token_endpoint_auth_method == "none"
    assert await registry.authenticate(client.client_id, None) == client


async def test_a_public_client_presenting_a_secret_fails(registry: ClientRegistry) -> None:
    client, _ = await registry.create(PUBLIC)
    await _refused(registry, client.client_id, new_secret())


async def test_rotating_the_secret_invalidates_the_old_one(registry: ClientRegistry) -> None:
    client, old = await registry.create(CONFIDENTIAL)
    assert old is not None
    rotated = await registry.rotate_secret(client.client_id)
    assert rotated is not None
    updated, new = rotated
    assert new != old
    assert updated.secret_digest != client.secret_digest
    assert await registry.authenticate(client.client_id, new) == updated
    await _refused(registry, client.client_id, old)


async def test_rotating_a_public_client_is_refused(registry: ClientRegistry) -> None:
    client, _ = await registry.create(PUBLIC)
    with pytest.raises(InvalidRequest, match="public client"):
        await registry.rotate_secret(client.client_id)


async def test_rotating_an_unknown_client_returns_none(registry: ClientRegistry) -> None:
    assert await registry.rotate_secret("gpc_" + "B" * 43) is None


async def test_a_deleted_client_no_longer_authenticates(registry: ClientRegistry) -> None:
    client, secret = await registry.create(CONFIDENTIAL)
    assert await registry.delete(client.client_id)
    assert await registry.get(client.client_id) is None
    await _refused(registry, client.client_id, secret)


async def test_another_server_key_does_not_verify_the_secret(backends: Backends) -> None:
    store: ClientStore = backends.clients
    first = ClientRegistry(store, secrets.token_bytes(32), FixedClock())
    client, secret = await first.create(CONFIDENTIAL)
    other = ClientRegistry(store, secrets.token_bytes(32), FixedClock())
    with pytest.raises(InvalidClient):
        await other.authenticate(client.client_id, secret)


def test_client_records_are_hashable_values() -> None:
    client = Client("gpc_x", "n", None, (), (), (), (), False, "RS256", 0.0, 0.0)
    assert hash(client) == hash(client)
