"""The ConsentStore contract, sentence by sentence, on the SQL backends (and Consents)."""

import httpx

from gatepass.clock import FixedClock
from gatepass.oauth.clients import Client
from gatepass.oauth.consent_store import Consent
from gatepass.oauth.consents import Consents
from gatepass.storage.backends import Backends
from tests.authorize.conftest import EMAIL, MakeClient


async def _user_id(backends: Backends) -> str:
    user = await backends.users.find_by_email(EMAIL)
    assert user is not None
    return user.id


async def test_save_then_get_list_and_replace(
    signed_in: httpx.AsyncClient, backends: Backends, oauth_client: Client, make_client: MakeClient
) -> None:
    user_id, store = await _user_id(backends), backends.consents
    first = Consent(user_id, oauth_client.client_id, ("openid",), 100.0)
    await store.save(first)
    assert await store.get(user_id, oauth_client.client_id) == first
    replaced = Consent(user_id, oauth_client.client_id, ("openid", "email"), 200.0)
    await store.save(replaced)
    assert await store.get(user_id, oauth_client.client_id) == replaced
    other = await make_client(name="Other")
    newest = Consent(user_id, other.client_id, ("openid",), 300.0)
    await store.save(newest)
    assert await store.list_for_user(user_id) == [newest, replaced]


async def test_delete_forgets_and_reports(
    signed_in: httpx.AsyncClient, backends: Backends, oauth_client: Client
) -> None:
    user_id, store = await _user_id(backends), backends.consents
    await store.save(Consent(user_id, oauth_client.client_id, ("openid",), 1.0))
    assert await store.delete(user_id, oauth_client.client_id) is True
    assert await store.get(user_id, oauth_client.client_id) is None
    assert await store.list_for_user(user_id) == []
    assert await store.delete(user_id, oauth_client.client_id) is False


async def test_remember_widens_and_covers(
    signed_in: httpx.AsyncClient, backends: Backends, oauth_client: Client
) -> None:
    user_id = await _user_id(backends)
    consents = Consents(backends.consents, FixedClock())
    assert not await consents.covers(user_id, oauth_client, ["openid"])
    await consents.remember(user_id, oauth_client.client_id, ["openid"])
    await consents.remember(user_id, oauth_client.client_id, ["email"])
    assert await consents.covers(user_id, oauth_client, ["openid", "email"])
    assert not await consents.covers(user_id, oauth_client, ["profile"])
