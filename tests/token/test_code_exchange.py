"""A code for tokens (RFC 6749 §4.1.3, §4.1.4, §5.1; OIDC Core §3.1.3), every client kind,
every JWT verified by PyJWT against /jwks.json."""

import base64
import hashlib
import time
from typing import Any

import httpx
import jwt as pyjwt
import pytest

from gatepass.accounts.model import User
from gatepass.config import Settings
from tests.token.conftest import NONCE, SID, Exchange, IssueCode, MakeApp

HASH_OF = {"RS256": hashlib.sha256, "ES256": hashlib.sha256, "EdDSA": hashlib.sha512}


async def verified(client: httpx.AsyncClient, token: str, **checks: Any) -> dict[str, Any]:
    """The claims, as an independent library verifies them against the published keys."""
    key_set = pyjwt.PyJWKSet.from_dict((await client.get("/jwks.json")).json())
    header = pyjwt.get_unverified_header(token)
    [key] = [k for k in key_set.keys if k.key_id == header["kid"]]
    claims: dict[str, Any] = pyjwt.decode(token, key.key, algorithms=[header["alg"]], **checks)
    claims["header"] = header
    return claims


def at_hash(token: str, alg: str) -> str:
    digest = HASH_OF[alg](token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).decode().rstrip("=")


@pytest.mark.parametrize(
    ("public", "auth", "alg"),
    [
        (False, "basic", "RS256"),
        (False, "post", "ES256"),
        (True, "none", "EdDSA"),
    ],
    ids=[
        "a confidential client with client_secret_basic",
        "a confidential client with client_secret_post",
        "a public client with none and PKCE",
    ],
)
async def test_a_valid_code_buys_an_access_token_and_an_id_token__rfc6749_4_1_4_oidc_3_1_3_3(
    public: bool,
    auth: str,
    alg: str,
    make_app: MakeApp,
    issue_code: IssueCode,
    exchange: Exchange,
    client: httpx.AsyncClient,
    settings: Settings,
    user: User,
) -> None:
    app = await make_app(public=public, id_token_alg=alg)
    response = await exchange(app, await issue_code(app), auth=auth)

    assert response.status_code == 200, response.text
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "openid profile"
    assert 0 < body["expires_in"] <= settings.access_token_ttl
    assert "refresh_token" not in body

    access = await verified(
        client,
        body["access_token"],
        audience=settings.access_token_audience,
        issuer=settings.issuer,
        options={"require": ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"]},
    )
    assert access["header"]["typ"] == "at+jwt"
    assert (access["sub"], access["client_id"]) == (user.id, app.client_id)
    assert access["scope"] == "openid profile"
    assert access["gid"]  # the grant a replay would revoke
    assert not {"email", "name"} & set(access)  # no personal data (RFC 9068 §6)

    id_claims = await verified(
        client, body["id_token"], audience=app.client_id, issuer=settings.issuer
    )
    assert id_claims["header"]["alg"] == alg  # the client's id_token_alg
    assert id_claims["sub"] == user.id
    assert id_claims["nonce"] == NONCE
    assert id_claims["sid"] == SID
    assert abs(id_claims["auth_time"] - time.time()) < 60
    assert id_claims["at_hash"] == at_hash(body["access_token"], alg)


async def test_without_openid_there_is_no_id_token__oidc_3_1_3_3(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange
) -> None:
    app = await make_app()
    response = await exchange(app, await issue_code(app, scopes=("profile",)))
    assert response.status_code == 200, response.text
    assert "id_token" not in response.json()
    assert response.json()["scope"] == "profile"


async def test_a_disabled_user_gets_no_tokens__asvs_7_4_2(
    make_app: MakeApp, issue_code: IssueCode, exchange: Exchange, backends: Any, user: User
) -> None:
    app = await make_app()
    code = await issue_code(app)
    await backends.users.update(user.id, now=time.time(), disabled=True)
    response = await exchange(app, code)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_discovery_advertises_the_token_endpoint__rfc8414_2(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    metadata = (await client.get("/.well-known/openid-configuration")).json()
    assert metadata["token_endpoint"] == f"{settings.issuer}/token"
    assert "authorization_code" in metadata["grant_types_supported"]
