"""ClientStore contract (oauth/store.py), sentence by sentence, on every backend."""

import dataclasses

import pytest

from gatepass.oauth.clients import Client, new_client_id
from gatepass.oauth.store import ClientStore, DuplicateClient
from gatepass.storage.backends import Backends

START = 1_800_000_000.0


@pytest.fixture
def clients(backends: Backends) -> ClientStore:
    return backends.clients


def a_client(*, at: float = START, confidential: bool = True) -> Client:
    return Client(
        client_id=new_client_id(),
        name="Example App",
        secret_digest="ab" * 32 if confidential else None,
        redirect_uris=("https://app.example.com/cb", "http://127.0.0.1/cb"),
        post_logout_redirect_uris=("https://app.example.com/bye",),
        grant_types=("authorization_code", "refresh_token"),
        scopes=("openid", "profile", "offline_access", "api:read"),
        first_party=True,
        id_token_alg="ES256",
        created_at=at,
        updated_at=at,
    )


async def test_after_add_get_returns_an_equal_client(clients: ClientStore) -> None:
    client = a_client()
    await clients.add(client)
    assert await clients.get(client.client_id) == client


async def test_a_public_client_round_trips_without_a_digest(clients: ClientStore) -> None:
    client = dataclasses.replace(a_client(confidential=False), post_logout_redirect_uris=())
    await clients.add(client)
    assert await clients.get(client.client_id) == client


async def test_after_add_list_all_includes_it_oldest_first(clients: ClientStore) -> None:
    later, earlier = a_client(at=START + 10), a_client(at=START)
    await clients.add(later)
    await clients.add(earlier)
    assert await clients.list_all() == [earlier, later]


async def test_list_all_honours_its_limit(clients: ClientStore) -> None:
    for i in range(3):
        await clients.add(a_client(at=START + i))
    assert len(await clients.list_all(limit=2)) == 2


async def test_an_unknown_client_is_not_found(clients: ClientStore) -> None:
    await clients.add(a_client())
    assert await clients.get(new_client_id()) is None


async def test_a_second_add_with_the_same_id_raises_and_writes_nothing(
    clients: ClientStore,
) -> None:
    first = a_client()
    await clients.add(first)
    with pytest.raises(DuplicateClient):
        await clients.add(dataclasses.replace(first, name="Impostor", secret_digest="cd" * 32))
    assert await clients.get(first.client_id) == first
    assert await clients.list_all() == [first]


async def test_set_secret_digest_replaces_the_digest_and_updated_at(clients: ClientStore) -> None:
    client = a_client()
    await clients.add(client)
    updated = await clients.set_secret_digest(client.client_id, "ef" * 32, now=START + 5)
    expected = dataclasses.replace(client, secret_digest="ef" * 32, updated_at=START + 5)
    assert updated == expected
    assert await clients.get(client.client_id) == expected


async def test_set_secret_digest_of_an_unknown_client_returns_none(clients: ClientStore) -> None:
    assert await clients.set_secret_digest(new_client_id(), "ef" * 32, now=START) is None
    assert await clients.list_all() == []


async def test_after_delete_get_and_list_all_omit_the_client(clients: ClientStore) -> None:
    gone, kept = a_client(), a_client(at=START + 1)
    await clients.add(gone)
    await clients.add(kept)
    assert await clients.delete(gone.client_id) is True
    assert await clients.get(gone.client_id) is None
    assert await clients.list_all() == [kept]


async def test_delete_of_an_unknown_client_returns_false(clients: ClientStore) -> None:
    assert await clients.delete(new_client_id()) is False


def with_token_settings(client: Client) -> Client:
    return dataclasses.replace(
        client,
        refresh_token_idle_ttl=3600,
        refresh_token_absolute_ttl=365 * 86_400,
        refresh_retry_window=0,  # a setting, not NULL: must not come back as None
        default_audience="https://api.example.com/" + "v" * 1900,
    )


async def test_token_settings_round_trip_through_get_and_list_all(clients: ClientStore) -> None:
    client = with_token_settings(a_client())
    await clients.add(client)
    assert await clients.get(client.client_id) == client
    assert await clients.list_all() == [client]


async def test_a_client_without_token_settings_reads_back_none(clients: ClientStore) -> None:
    client = a_client()
    await clients.add(client)
    stored = await clients.get(client.client_id)
    assert stored is not None
    assert stored.refresh_token_idle_ttl is None
    assert stored.refresh_token_absolute_ttl is None
    assert stored.refresh_retry_window is None
    assert stored.default_audience is None


async def test_set_secret_digest_keeps_the_token_settings(clients: ClientStore) -> None:
    client = with_token_settings(a_client())
    await clients.add(client)
    updated = await clients.set_secret_digest(client.client_id, "ef" * 32, now=START + 5)
    assert updated == dataclasses.replace(client, secret_digest="ef" * 32, updated_at=START + 5)
