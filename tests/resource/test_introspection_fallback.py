"""When the feed cannot vouch for a token, introspection at a real gatepass decides
(resource/introspection.py): active tokens pass, revoked ones and failures stay refused."""

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import jwt as pyjwt
import pytest

from gatepass.resource import RevocationSet, Verdict, introspection_fallback
from gatepass.tokens.revocation_event import TokenFacts
from tests.live_server import LiveServer, live_server


@pytest.fixture(scope="module")
def gatepass(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("gatepass")) as server:
        yield server


@pytest.fixture(scope="module")
def api_client(gatepass: LiveServer) -> dict[str, Any]:
    args = ["client", "create", "Orders API", "--json", "--scope", "orders:read"]
    created: dict[str, Any] = json.loads(gatepass.cli(*args, "--grant-type", "client_credentials"))
    return created


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


def basic(client: dict[str, Any]) -> dict[str, str]:
    raw = f"{client['client_id']}:{client['client_secret']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


async def token_and_facts(
    http: httpx.AsyncClient, gatepass: LiveServer, client: dict[str, Any]
) -> tuple[str, TokenFacts]:
    form = {"grant_type": "client_credentials"}
    response = await http.post(f"{gatepass.url}/token", data=form, headers=basic(client))
    token: str = response.json()["access_token"]
    claims = pyjwt.decode(token, options={"verify_signature": False})
    return token, TokenFacts(claims["jti"], claims["sub"], claims["iat"])


async def test_introspection_vouches_for_active_tokens_and_never_for_revoked_ones(
    http: httpx.AsyncClient, gatepass: LiveServer, api_client: dict[str, Any]
) -> None:
    token, facts = await token_and_facts(http, gatepass, api_client)
    await asyncio.sleep(1.1)  # issued before the set: one that never caught up refuses it
    fallback = introspection_fallback(
        gatepass.url, api_client["client_id"], api_client["client_secret"], http=http
    )
    plain, helped = RevocationSet(), RevocationSet(fallback=fallback)
    now = time.time()
    assert plain.verdict(facts, now) is Verdict.FEED_UNAVAILABLE
    assert await helped.check(facts, now, token) is Verdict.ACCEPT
    revoked = await http.post(
        f"{gatepass.url}/revoke", data={"token": token}, headers=basic(api_client)
    )
    assert revoked.status_code == 200
    # The issuer says inactive: refused as revoked.
    assert await helped.check(facts, time.time(), token) is Verdict.REVOKED


async def test_a_failing_fallback_leaves_the_token_refused(
    http: httpx.AsyncClient, gatepass: LiveServer, api_client: dict[str, Any]
) -> None:
    token, facts = await token_and_facts(http, gatepass, api_client)
    await asyncio.sleep(1.1)
    wrong_secret = introspection_fallback(gatepass.url, api_client["client_id"], "x", http=http)
    nobody_home = introspection_fallback("http://127.0.0.1:9", "c", "s", http=http)
    for fallback in (wrong_secret, nobody_home):
        verdict = await RevocationSet(fallback=fallback).check(facts, time.time(), token)
        assert verdict is not Verdict.ACCEPT
