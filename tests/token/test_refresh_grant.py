"""The refresh token grant at /token (RFC 6749 §6, OIDC Core §12, RFC 9700 §4.14.2) on every
backend: issued for offline_access, rotated on every use, the same successor for a retry,
a reused token revokes its family."""

from typing import Any

import httpx
import jwt as pyjwt
import pytest

from gatepass.accounts.model import User
from gatepass.storage.backends import Backends
from tests.support import grant_revoked
from tests.token.conftest import App, Exchange, IssueCode, MakeApp, assert_error, assert_no_store

REFRESHING = {"grant_types": ("authorization_code", "refresh_token")}
OFFLINE = ("openid", "profile", "offline_access")


async def refresh(client: httpx.AsyncClient, app: App, token: str, **extra: str) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": token, **extra}
    response = await client.post("/token", data=form, headers=app.basic())
    assert_no_store(response)
    return response


def claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = pyjwt.decode(token, options={"verify_signature": False})
    return claims


async def first_tokens(
    app: App, issue_code: IssueCode, exchange: Exchange, scopes: tuple[str, ...] = OFFLINE
) -> dict[str, Any]:
    response = await exchange(app, await issue_code(app, scopes=scopes))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_offline_access_buys_a_refresh_token_that_rotates__rfc6749_6(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange, client: httpx.AsyncClient
) -> None:
    app = await make_app(**REFRESHING)
    first = await first_tokens(app, issue_code, exchange)
    assert len(first["refresh_token"]) == 43
    response = await refresh(client, app, first["refresh_token"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["refresh_token"] not in (None, first["refresh_token"])
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "openid profile offline_access"
    access = claims_of(body["access_token"])
    assert access["gid"] == claims_of(first["access_token"])["gid"]
    # OIDC Core §12.2: a new id token, same subject and auth_time, and no nonce.
    id_token, first_id = claims_of(body["id_token"]), claims_of(first["id_token"])
    assert (id_token["sub"], id_token["auth_time"]) == (first_id["sub"], first_id["auth_time"])
    assert "nonce" not in id_token
    again = await refresh(client, app, body["refresh_token"])
    assert again.status_code == 200
    assert again.json()["refresh_token"] != body["refresh_token"]


async def test_without_offline_access_there_is_no_refresh_token__oidc_11(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange
) -> None:
    app = await make_app(**REFRESHING)
    body = await first_tokens(app, issue_code, exchange, scopes=("openid", "profile"))
    assert "refresh_token" not in body


async def test_a_first_party_client_gets_one_without_asking(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange
) -> None:
    app = await make_app(first_party=True, **REFRESHING)
    body = await first_tokens(app, issue_code, exchange, scopes=("openid",))
    assert "refresh_token" in body


async def test_a_retry_within_the_window_returns_the_same_successor(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange, client: httpx.AsyncClient
) -> None:
    app = await make_app(**REFRESHING)
    first = await first_tokens(app, issue_code, exchange)
    one = await refresh(client, app, first["refresh_token"])
    two = await refresh(client, app, first["refresh_token"])
    assert two.status_code == 200, two.text
    assert one.json()["refresh_token"] == two.json()["refresh_token"]
    assert one.json()["access_token"] != two.json()["access_token"]
    assert (await refresh(client, app, two.json()["refresh_token"])).status_code == 200


async def test_reuse_after_the_successor_was_used_revokes_the_family__rfc9700_4_14_2(
    make_app: MakeApp,
    issue_code: IssueCode,
    exchange: Exchange,
    client: httpx.AsyncClient,
    backends: Backends,
) -> None:
    app = await make_app(**REFRESHING)
    first = await first_tokens(app, issue_code, exchange)
    second = (await refresh(client, app, first["refresh_token"])).json()
    third = (await refresh(client, app, second["refresh_token"])).json()
    assert_error(await refresh(client, app, first["refresh_token"]), "invalid_grant")
    # The newest refresh token is dead too, and every access token of the family.
    assert_error(await refresh(client, app, third["refresh_token"]), "invalid_grant")
    gid = claims_of(third["access_token"])["gid"]
    assert await grant_revoked(backends, gid, claims_of(third["access_token"])["iat"])


async def test_a_narrower_scope_may_be_asked_a_wider_one_may_not__rfc6749_6(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange, client: httpx.AsyncClient
) -> None:
    app = await make_app(**REFRESHING)
    first = await first_tokens(app, issue_code, exchange)
    narrow = await refresh(client, app, first["refresh_token"], scope="openid")
    assert narrow.status_code == 200, narrow.text
    assert claims_of(narrow.json()["access_token"])["scope"] == "openid"
    # The family keeps its whole scope (R11): the next refresh may ask for it all again.
    full = await refresh(client, app, narrow.json()["refresh_token"])
    assert full.json()["scope"] == "openid profile offline_access"
    wide = await refresh(client, app, full.json()["refresh_token"], scope="openid email")
    assert_error(wide, "invalid_scope")


async def test_another_client_cannot_use_the_refresh_token(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange, client: httpx.AsyncClient
) -> None:
    app, other = await make_app(**REFRESHING), await make_app(**REFRESHING)
    first = await first_tokens(app, issue_code, exchange)
    assert_error(await refresh(client, other, first["refresh_token"]), "invalid_grant")
    # Refused, not revoked: the rightful client still refreshes.
    assert (await refresh(client, app, first["refresh_token"])).status_code == 200


async def test_a_client_without_the_grant_is_unauthorized(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange, client: httpx.AsyncClient
) -> None:
    app = await make_app(**REFRESHING)
    first = await first_tokens(app, issue_code, exchange)
    plain = await make_app()
    assert_error(await refresh(client, plain, first["refresh_token"]), "unauthorized_client")


@pytest.mark.parametrize(
    "token",
    ["", "x" * 43, "not a token at all", "é" * 43],
    ids=["empty", "unknown", "junk", "utf8"],
)
async def test_a_missing_or_bogus_refresh_token_is_refused(
    make_app: MakeApp, client: httpx.AsyncClient, token: str
) -> None:
    app = await make_app(**REFRESHING)
    response = await refresh(client, app, token)
    assert_error(response, "invalid_request" if token == "" else "invalid_grant")


async def test_a_disabled_user_gets_no_more_tokens_and_the_family_ends(
    make_app: MakeApp,
    issue_code: IssueCode,
    exchange: Exchange,
    client: httpx.AsyncClient,
    backends: Backends,
    user: User,
) -> None:
    app = await make_app(**REFRESHING)
    first = await first_tokens(app, issue_code, exchange)
    await backends.users.update(user.id, now=0, disabled=True)
    assert_error(await refresh(client, app, first["refresh_token"]), "invalid_grant")
    await backends.users.update(user.id, now=0, disabled=False)
    assert_error(await refresh(client, app, first["refresh_token"]), "invalid_grant")


async def test_a_replayed_code_kills_the_refresh_token_it_bought__rfc6749_4_1_2(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange, client: httpx.AsyncClient
) -> None:
    app = await make_app(**REFRESHING)
    code = await issue_code(app, scopes=OFFLINE)
    first = (await exchange(app, code)).json()
    assert_error(await exchange(app, code), "invalid_grant")
    assert_error(await refresh(client, app, first["refresh_token"]), "invalid_grant")


async def test_a_client_with_a_strict_window_loses_the_family_on_any_retry(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange, client: httpx.AsyncClient
) -> None:
    app = await make_app(refresh_retry_window=0, **REFRESHING)
    first = await first_tokens(app, issue_code, exchange)
    rotated = await refresh(client, app, first["refresh_token"])
    assert rotated.status_code == 200
    assert_error(await refresh(client, app, first["refresh_token"]), "invalid_grant")
    assert_error(await refresh(client, app, rotated.json()["refresh_token"]), "invalid_grant")


async def test_the_clients_default_audience_names_its_tokens_audience__rfc8707(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange, client: httpx.AsyncClient
) -> None:
    app = await make_app(default_audience="https://orders.example.com", **REFRESHING)
    first = await first_tokens(app, issue_code, exchange)
    assert claims_of(first["access_token"])["aud"] == "https://orders.example.com"
    refreshed = (await refresh(client, app, first["refresh_token"])).json()
    assert claims_of(refreshed["access_token"])["aud"] == "https://orders.example.com"


async def test_the_code_exchange_and_a_refresh_read_the_user_once(
    make_app: MakeApp,
    issue_code: IssueCode,
    exchange: Exchange,
    client: httpx.AsyncClient,
    backends: Backends,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whether the user may still have tokens and what the id token says of them come
    from one read of the user's record, not one each."""
    reads: list[str] = []
    get = backends.users.get

    async def counted(user_id: str) -> User | None:
        reads.append(user_id)
        return await get(user_id)

    monkeypatch.setattr(backends.users, "get", counted)
    app = await make_app(**REFRESHING)
    first = await first_tokens(app, issue_code, exchange)
    assert len(reads) == 1
    assert "email" not in claims_of(first["id_token"])  # profile only: name, not e-mail
    response = await refresh(client, app, first["refresh_token"])
    assert response.status_code == 200, response.text
    assert len(reads) == 2
    assert claims_of(response.json()["id_token"])["name"] == claims_of(first["id_token"])["name"]
