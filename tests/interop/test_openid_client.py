"""The same code flow with panva's openid-client (npm) as the relying party: discovery,
PKCE, state, nonce and iss checks, the id token's signature (jose, against jwks_uri),
the access token verified by jose, UserInfo with its sub check (node/rp.mjs)."""

from typing import Any

import httpx

from tests.interop.flow import WEB_APP_CALLBACK
from tests.interop.node_rp import NodeRelyingParty
from tests.interop.relying_party import SCOPE, Provider
from tests.interop.support import Gatepass, RegisterClient
from tests.interop.user_agent import User, visit


async def test_openid_client_signs_in_and_verifies_every_token(
    gatepass: Gatepass,
    provider: Provider,
    register_client: RegisterClient,
    browser: httpx.AsyncClient,
    account: User,
    node_rp: NodeRelyingParty,
) -> None:
    client = register_client(WEB_APP_CALLBACK)
    setup: dict[str, Any] = {
        "issuer": gatepass.issuer,
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "redirect_uri": client.redirect_uri,
    }
    request = await node_rp.run("start", setup)
    callback = await visit(browser, request["url"], leaving_for=WEB_APP_CALLBACK, user=account)
    done = await node_rp.run(
        "finish",
        setup
        | request
        | {
            "callback": str(callback),
            "access_token_alg": gatepass.variant.access_token_alg,
            "audience": gatepass.access_token_audience,
        },
    )

    assert done["token"]["token_type"].lower() == "bearer"
    assert done["token"]["expires_in"] == gatepass.variant.access_token_ttl
    assert done["token"]["scope"] == SCOPE
    id_claims, access = done["id_token_claims"], done["access_token_claims"]
    assert id_claims["iss"] == provider.issuer
    assert id_claims["aud"] == client.client_id
    assert id_claims["nonce"] == request["nonce"]
    assert done["access_token_header"]["alg"] == gatepass.variant.access_token_alg
    assert access["client_id"] == client.client_id
    assert access["sub"] == id_claims["sub"]
    assert access["exp"] - access["iat"] == gatepass.variant.access_token_ttl
    assert done["userinfo"]["sub"] == id_claims["sub"]
    assert done["userinfo"]["email"] == account.email
    assert done["userinfo"]["name"] == account.name
