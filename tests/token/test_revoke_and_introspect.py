"""/revoke (RFC 7009) and /introspect (RFC 7662) on every backend: a client ends its own
tokens, a confidential client asks whether a token is active."""

import time
from typing import Any

import httpx
import jwt as pyjwt
import pytest

from gatepass.accounts.model import User
from gatepass.storage.backends import Backends
from tests.token.conftest import App, Exchange, IssueCode, MakeApp, assert_error, assert_no_store

REFRESHING = {"grant_types": ("authorization_code", "refresh_token")}
OFFLINE = ("openid", "profile", "offline_access")


async def post(
    client: httpx.AsyncClient, path: str, app: App, auth: str = "basic", **form: str
) -> httpx.Response:
    headers = app.basic() if auth == "basic" else {}
    if auth == "none":
        form = {**form, "client_id": app.client_id}
    response = await client.post(path, data=form, headers=headers)
    assert_no_store(response)
    return response


async def introspect(client: httpx.AsyncClient, app: App, token: str) -> dict[str, Any]:
    response = await post(client, "/introspect", app, token=token)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def tokens(
    app: App, issue_code: IssueCode, exchange: Exchange, auth: str = "basic"
) -> dict[str, Any]:
    response = await exchange(app, await issue_code(app, scopes=OFFLINE), auth=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def refresh(client: httpx.AsyncClient, app: App, token: str) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": token}
    return await client.post("/token", data=form, headers=app.basic())


async def test_revoking_a_refresh_token_ends_its_family__rfc7009_2_1(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange, client: httpx.AsyncClient
) -> None:
    app = await make_app(**REFRESHING)
    issued = await tokens(app, issue_code, exchange)
    response = await post(client, "/revoke", app, token=issued["refresh_token"])
    assert response.status_code == 200
    assert response.content == b""
    assert_error(await refresh(client, app, issued["refresh_token"]), "invalid_grant")
    # §2.1: the access tokens of the same grant are invalidated too.
    assert await introspect(client, app, issued["access_token"]) == {"active": False}
    bearer = {"Authorization": f"Bearer {issued['access_token']}"}
    assert (await client.get("/userinfo", headers=bearer)).status_code == 401


async def test_revoking_an_access_token_ends_it_alone(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange, client: httpx.AsyncClient
) -> None:
    app = await make_app(**REFRESHING)
    issued = await tokens(app, issue_code, exchange)
    revoked = await post(
        client, "/revoke", app, token=issued["access_token"], token_type_hint="access_token"
    )
    assert revoked.status_code == 200
    assert await introspect(client, app, issued["access_token"]) == {"active": False}
    refreshed = await refresh(client, app, issued["refresh_token"])
    assert refreshed.status_code == 200
    assert (await introspect(client, app, refreshed.json()["access_token"]))["active"] is True


async def test_a_wrong_hint_is_only_a_hint(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange, client: httpx.AsyncClient
) -> None:
    app = await make_app(**REFRESHING)
    issued = await tokens(app, issue_code, exchange)
    hint = {"token_type_hint": "access_token"}
    assert (await post(client, "/revoke", app, token=issued["refresh_token"], **hint)).is_success
    assert_error(await refresh(client, app, issued["refresh_token"]), "invalid_grant")


@pytest.mark.parametrize(
    "token",
    ["x" * 43, "garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "y" * 10_000],
    ids=["unknown refresh", "junk", "not base64", "alg none", "huge"],
)
async def test_an_unknown_or_invalid_token_is_200_all_the_same__rfc7009_2_2(
    make_app: MakeApp, client: httpx.AsyncClient, token: str
) -> None:
    app = await make_app(**REFRESHING)
    assert (await post(client, "/revoke", app, token=token)).status_code == 200
    assert await introspect(client, app, token) == {"active": False}


async def test_a_client_cannot_revoke_another_clients_tokens(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange, client: httpx.AsyncClient
) -> None:
    app, other = await make_app(**REFRESHING), await make_app(**REFRESHING)
    issued = await tokens(app, issue_code, exchange)
    for name in ("refresh_token", "access_token"):
        response = await post(client, "/revoke", other, token=issued[name])
        assert_error(response, "unauthorized_client")
    assert (await introspect(client, app, issued["access_token"]))["active"] is True
    assert (await refresh(client, app, issued["refresh_token"])).status_code == 200


async def test_a_public_client_revokes_its_own_refresh_token(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange, client: httpx.AsyncClient
) -> None:
    app = await make_app(public=True, **REFRESHING)
    issued = await tokens(app, issue_code, exchange, auth="none")
    response = await post(client, "/revoke", app, auth="none", token=issued["refresh_token"])
    assert response.status_code == 200
    form = {
        "grant_type": "refresh_token",
        "refresh_token": issued["refresh_token"],
        "client_id": app.client_id,
    }
    assert_error(await client.post("/token", data=form), "invalid_grant")


async def test_the_token_parameter_is_required(
    make_app: MakeApp, client: httpx.AsyncClient
) -> None:
    app = await make_app()
    for path in ("/revoke", "/introspect"):
        response = await post(client, path, app, token="", token_type_hint="access_token")
        assert_error(response, "invalid_request")


async def test_a_wrong_secret_is_invalid_client(
    make_app: MakeApp, client: httpx.AsyncClient
) -> None:
    app = await make_app()
    for path in ("/revoke", "/introspect"):
        response = await client.post(path, data={"token": "x"}, headers=app.basic("wrong"))
        assert_error(response, "invalid_client", 401)
        assert response.headers["www-authenticate"].startswith("Basic")


async def test_an_active_access_token_is_described__rfc7662_2_2(
    make_app: MakeApp,
    issue_code: IssueCode,
    exchange: Exchange,
    client: httpx.AsyncClient,
    user: User,
) -> None:
    app = await make_app(**REFRESHING)
    issued = await tokens(app, issue_code, exchange)
    # Any confidential client may ask about an access token: a resource server does.
    api = await make_app()
    body = await introspect(client, api, issued["access_token"])
    claims = pyjwt.decode(issued["access_token"], options={"verify_signature": False})
    assert body["active"] is True
    assert body["token_type"] == "Bearer"
    assert body["sub"] == user.id
    assert body["client_id"] == app.client_id
    assert body["scope"] == "openid profile offline_access"
    for name in ("iss", "aud", "exp", "iat", "jti"):
        assert body[name] == claims[name]
    assert "gid" not in body


async def test_a_refresh_token_is_described_to_its_own_client_only(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange, client: httpx.AsyncClient
) -> None:
    app, other = await make_app(**REFRESHING), await make_app(**REFRESHING)
    issued = await tokens(app, issue_code, exchange)
    body = await introspect(client, app, issued["refresh_token"])
    assert body["active"] is True
    assert body["token_type"] == "refresh_token"
    assert body["client_id"] == app.client_id
    assert body["exp"] > time.time() + 86_400
    assert await introspect(client, other, issued["refresh_token"]) == {"active": False}
    # Rotated: the old token is no longer the live one.
    await refresh(client, app, issued["refresh_token"])
    assert await introspect(client, app, issued["refresh_token"]) == {"active": False}


async def test_a_public_client_may_not_introspect(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange, client: httpx.AsyncClient
) -> None:
    app = await make_app(public=True, **REFRESHING)
    issued = await tokens(app, issue_code, exchange, auth="none")
    response = await post(client, "/introspect", app, auth="none", token=issued["access_token"])
    assert_error(response, "invalid_client", 401)


async def test_a_disabled_users_tokens_are_inactive(
    make_app: MakeApp,
    issue_code: IssueCode,
    exchange: Exchange,
    client: httpx.AsyncClient,
    backends: Backends,
    user: User,
) -> None:
    app = await make_app(**REFRESHING)
    issued = await tokens(app, issue_code, exchange)
    await backends.users.update(user.id, now=time.time(), disabled=True)
    assert await introspect(client, app, issued["access_token"]) == {"active": False}
    assert await introspect(client, app, issued["refresh_token"]) == {"active": False}


async def test_an_id_token_is_not_an_access_token(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange, client: httpx.AsyncClient
) -> None:
    app = await make_app(**REFRESHING)
    issued = await tokens(app, issue_code, exchange)
    assert await introspect(client, app, issued["id_token"]) == {"active": False}
    assert (await post(client, "/revoke", app, token=issued["id_token"])).status_code == 200
    assert (await introspect(client, app, issued["access_token"]))["active"] is True


async def test_discovery_lists_both_endpoints_and_their_client_auth__rfc8414_2(
    client: httpx.AsyncClient,
) -> None:
    metadata = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert metadata["revocation_endpoint"] == metadata["issuer"] + "/revoke"
    assert metadata["introspection_endpoint"] == metadata["issuer"] + "/introspect"
    assert "none" in metadata["revocation_endpoint_auth_methods_supported"]
    assert "none" not in metadata["introspection_endpoint_auth_methods_supported"]
