"""The client credentials grant (RFC 6749 §4.4; RFC 8707) through /token, on every
backend; every access token verified by PyJWT against /jwks.json."""

import dataclasses
from typing import Any

import httpx
import pytest

from gatepass.config import Settings
from gatepass.oauth.clients import new_client_id
from gatepass.oauth.errors import InvalidClientMetadata
from gatepass.storage.backends import Backends
from tests.token.conftest import App, MakeApp, assert_error, assert_no_store
from tests.token.test_code_exchange import verified

API_SCOPES = ("orders:read", "orders:write")
ORDERS_API = "https://orders.example.com"


async def machine(make_app: MakeApp, **changes: Any) -> App:
    """A confidential client for the grant with two API scopes and the OIDC ones besides."""
    registration: dict[str, Any] = {
        "grant_types": ("client_credentials",),
        "scopes": (*API_SCOPES, "openid", "profile", "email"),
    }
    return await make_app(**(registration | changes))


async def request_token(
    client: httpx.AsyncClient,
    app: App,
    *,
    auth: str = "basic",
    secret: str | None = None,
    **form: str,
) -> httpx.Response:
    """POST /token with grant_type=client_credentials and `form`; checks RFC 6749 §5.1's
    caching headers on every answer, errors included."""
    data = {"grant_type": "client_credentials", **form}
    headers: dict[str, str] = {}
    if auth == "basic":
        headers = app.basic(secret)
    else:
        data |= {"client_id": app.client_id, "client_secret": secret or app.secret or ""}
    response = await client.post("/token", data=data, headers=headers)
    assert_no_store(response)
    return response


async def access_claims(
    client: httpx.AsyncClient, response: httpx.Response, settings: Settings, audience: str
) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return await verified(
        client,
        response.json()["access_token"],
        audience=audience,
        issuer=settings.issuer,
        options={"require": ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"]},
    )


@pytest.mark.parametrize(
    "auth", ["basic", "post"], ids=["client_secret_basic", "client_secret_post"]
)
async def test_a_confidential_client_gets_an_access_token_for_itself__rfc6749_4_4_3(
    auth: str, make_app: MakeApp, client: httpx.AsyncClient, settings: Settings
) -> None:
    app = await machine(make_app)
    response = await request_token(client, app, auth=auth)

    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert 0 < body["expires_in"] <= settings.access_token_ttl
    # RFC 6749 §4.4.3: no refresh token; no user, so no id token either.
    assert not {"refresh_token", "id_token"} & set(body)
    claims = await access_claims(client, response, settings, settings.access_token_audience)
    assert claims["header"]["typ"] == "at+jwt"
    assert claims["sub"] == claims["client_id"] == app.client_id
    assert "gid" not in claims  # no grant, no family to revoke
    assert "auth_time" not in claims  # nobody authenticated


async def test_without_scope_the_default_is_every_api_scope_of_the_client__rfc6749_3_3(
    make_app: MakeApp, client: httpx.AsyncClient, settings: Settings
) -> None:
    app = await machine(make_app)
    response = await request_token(client, app)
    claims = await access_claims(client, response, settings, settings.access_token_audience)
    # The OIDC scopes the client also registered describe a user: never given here.
    assert response.json()["scope"] == claims["scope"] == "orders:read orders:write"


async def test_a_requested_scope_narrows_the_token__rfc6749_3_3(
    make_app: MakeApp, client: httpx.AsyncClient, settings: Settings
) -> None:
    app = await machine(make_app)
    response = await request_token(client, app, scope="orders:read")
    claims = await access_claims(client, response, settings, settings.access_token_audience)
    assert response.json()["scope"] == claims["scope"] == "orders:read"


@pytest.mark.parametrize(
    "scope",
    [
        "orders:delete",
        "orders:read orders:delete",
        "openid",
        "orders:read profile",
        "offline_access",
        " ",
    ],
    ids=[
        "an unregistered scope",
        "an unregistered scope beside a registered one",
        "openid",
        "profile beside a registered scope",
        "offline_access",
        "only white space",
    ],
)
async def test_a_scope_beyond_the_clients_api_scopes_is_invalid_scope__rfc6749_5_2(
    scope: str, make_app: MakeApp, client: httpx.AsyncClient
) -> None:
    app = await machine(make_app)
    assert_error(await request_token(client, app, scope=scope), "invalid_scope")


async def test_a_client_with_only_oidc_scopes_gets_invalid_scope_by_default__rfc6749_3_3(
    make_app: MakeApp, client: httpx.AsyncClient
) -> None:
    app = await machine(make_app, scopes=("openid", "profile"))
    assert_error(await request_token(client, app), "invalid_scope")


async def test_a_resource_becomes_the_audience__rfc8707_2(
    make_app: MakeApp, client: httpx.AsyncClient, settings: Settings
) -> None:
    app = await machine(make_app, default_audience="https://other.example.com")
    response = await request_token(client, app, resource=ORDERS_API)
    claims = await access_claims(client, response, settings, ORDERS_API)
    assert claims["aud"] == ORDERS_API  # the request's resource wins over the default


async def test_the_clients_default_audience_is_the_audience_without_a_resource__rfc8707(
    make_app: MakeApp, client: httpx.AsyncClient, settings: Settings
) -> None:
    app = await machine(make_app, default_audience=ORDERS_API)
    response = await request_token(client, app)
    claims = await access_claims(client, response, settings, ORDERS_API)
    assert claims["aud"] == ORDERS_API


async def test_without_either_the_audience_is_the_servers(
    make_app: MakeApp, client: httpx.AsyncClient, settings: Settings
) -> None:
    app = await machine(make_app)
    claims = await access_claims(
        client, await request_token(client, app), settings, settings.access_token_audience
    )
    assert claims["aud"] == settings.access_token_audience


@pytest.mark.parametrize(
    "resource",
    [
        "orders",
        "https://orders.example.com/#x",
        "https://orders.example.com/a b",
        "ISSUER",
        "ISSUER/",
    ],
    ids=["relative", "with a fragment", "with a space", "the issuer", "the issuer with a slash"],
)
async def test_a_bad_resource_is_invalid_target__rfc8707_2(
    resource: str, make_app: MakeApp, client: httpx.AsyncClient, settings: Settings
) -> None:
    app = await machine(make_app)
    sent = resource.replace("ISSUER", settings.issuer)
    assert_error(await request_token(client, app, resource=sent), "invalid_target")


@pytest.mark.parametrize(
    "auth", ["basic", "post"], ids=["client_secret_basic", "client_secret_post"]
)
async def test_a_wrong_secret_is_invalid_client_with_www_authenticate__rfc6749_5_2(
    auth: str, make_app: MakeApp, client: httpx.AsyncClient
) -> None:
    app = await machine(make_app)
    response = await request_token(client, app, auth=auth, secret="not-" + (app.secret or ""))
    assert_error(response, "invalid_client", 401)
    assert response.headers["www-authenticate"].startswith("Basic ")
    assert "access_token" not in response.json()


async def test_a_client_not_registered_for_the_grant_is_unauthorized_client__rfc6749_5_2(
    make_app: MakeApp, client: httpx.AsyncClient
) -> None:
    app = await make_app(scopes=API_SCOPES)  # authorization_code only
    assert_error(await request_token(client, app), "unauthorized_client")


async def test_a_public_client_cannot_register_the_grant__rfc6749_4_4(make_app: MakeApp) -> None:
    with pytest.raises(InvalidClientMetadata):
        await machine(make_app, public=True)


async def test_a_public_client_record_with_the_grant_is_still_refused__rfc6749_4_4(
    make_app: MakeApp, backends: Backends, client: httpx.AsyncClient
) -> None:
    # Registration refuses this; a record edited behind its back must not mint tokens.
    template = (await machine(make_app)).client
    public = dataclasses.replace(template, client_id=new_client_id(), secret_digest=None)
    await backends.clients.add(public)
    response = await client.post(
        "/token", data={"grant_type": "client_credentials", "client_id": public.client_id}
    )
    assert_error(response, "unauthorized_client")


async def test_discovery_advertises_the_grant__rfc8414_2(client: httpx.AsyncClient) -> None:
    metadata = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert "client_credentials" in metadata["grant_types_supported"]
