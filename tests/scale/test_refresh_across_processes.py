"""Two `gatepass serve` processes on one PostgreSQL and one Redis, acting as one issuer:
50 concurrent refreshes of one refresh token, spread over both, never fork the family
(docs/refresh-tokens.md).

    browser ─► A: sign up, /authorize (first-party: no consent) ─► code ─► A: /token
    50 x POST /token grant_type=refresh_token, the same token, alternately to A and B
"""

import asyncio
import base64
import hashlib
import json
import secrets
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.live_server import LiveServer, live_server, scratch_postgres_and_redis
from tests.support import PASSWORD, POSTGRES_ADMIN_URL, REDIS_URL, SECRET_KEY, csrf_of

REDIRECT_URI = "https://app.scale.example/callback"
CONCURRENT = 50


@dataclass(frozen=True)
class Pair:
    """Two processes, one issuer (A's URL): B serves under A's name, as behind a balancer."""

    a: LiveServer
    b: LiveServer

    @property
    def issuer(self) -> str:
        return self.a.url


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    with scratch_postgres_and_redis(POSTGRES_ADMIN_URL, REDIS_URL) as stores:
        # One master key for both, as a deployment shares GATEPASS_SECRET_KEY.
        shared = stores | {"GATEPASS_SECRET_KEY": SECRET_KEY}
        # B starts after A has migrated the database and created the signing keys.
        with (
            live_server(tmp_path_factory.mktemp("process-a"), shared) as a,
            live_server(
                tmp_path_factory.mktemp("process-b"), shared | {"GATEPASS_ISSUER": a.url}
            ) as b,
        ):
            yield Pair(a, b)


@dataclass(frozen=True)
class App:
    client_id: str
    secret: str

    def basic(self) -> dict[str, str]:
        raw = f"{self.client_id}:{self.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def register(pair: Pair, *extra: str) -> App:
    args = ["client", "create", f"scale-{secrets.token_hex(4)}", "--json", "--first-party"]
    args += ["--redirect-uri", REDIRECT_URI, "--scope", "openid", "--scope", "offline_access"]
    args += ["--grant-type", "authorization_code", "--grant-type", "refresh_token", *extra]
    created: dict[str, Any] = json.loads(pair.a.cli(*args))
    return App(created["client_id"], created["client_secret"])


@pytest.fixture
async def browser(pair: Pair) -> AsyncIterator[httpx.AsyncClient]:
    """A signed-up user's browser on A."""
    async with httpx.AsyncClient(base_url=pair.a.url, timeout=30) as client:
        page = await client.get("/signup")
        signed_up = await client.post(
            "/signup",
            data={
                "csrf_token": csrf_of(page.text),
                "email": f"scale-{secrets.token_hex(6)}@example.com",
                "password": PASSWORD,
            },
            headers={"Origin": pair.issuer},
            follow_redirects=False,
        )
        assert signed_up.status_code == 303, signed_up.text
        yield client


async def first_refresh_token(pair: Pair, browser: httpx.AsyncClient, app: App) -> str:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid offline_access",
        "state": "s",
        "code_challenge": challenge.decode().rstrip("="),
        "code_challenge_method": "S256",
    }
    landed = await browser.get("/authorize?" + urlencode(query), follow_redirects=False)
    assert landed.status_code == 303, landed.text
    [code] = parse_qs(urlsplit(landed.headers["location"]).query)["code"]
    tokens = await browser.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        headers=app.basic(),
    )
    assert tokens.status_code == 200, tokens.text
    token: str = tokens.json()["refresh_token"]
    return token


async def refresh_everywhere(pair: Pair, app: App, token: str) -> list[httpx.Response]:
    """CONCURRENT refreshes of `token` at once, alternating between the two processes."""
    async with (
        httpx.AsyncClient(base_url=pair.a.url, timeout=60) as a,
        httpx.AsyncClient(base_url=pair.b.url, timeout=60) as b,
    ):
        form = {"grant_type": "refresh_token", "refresh_token": token}
        return await asyncio.gather(
            *(
                (a if i % 2 == 0 else b).post("/token", data=form, headers=app.basic())
                for i in range(CONCURRENT)
            )
        )


async def refresh_once(pair: Pair, app: App, token: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=pair.b.url, timeout=30) as b:
        form = {"grant_type": "refresh_token", "refresh_token": token}
        return await b.post("/token", data=form, headers=app.basic())


async def test_concurrent_refreshes_on_two_processes_share_one_successor(
    pair: Pair, browser: httpx.AsyncClient
) -> None:
    app = register(pair)
    token = await first_refresh_token(pair, browser, app)
    responses = await refresh_everywhere(pair, app, token)
    assert [r.status_code for r in responses] == [200] * CONCURRENT, responses[0].text
    successors = {response.json()["refresh_token"] for response in responses}
    assert len(successors) == 1
    [successor] = successors
    assert successor != token
    # Every access token is different, and all belong to the one family.
    assert len({response.json()["access_token"] for response in responses}) == CONCURRENT
    # The family did not fork and was not revoked: the successor rotates as usual.
    assert (await refresh_once(pair, app, successor)).status_code == 200


async def test_with_a_strict_window_at_most_one_refresh_wins_and_nothing_stays_live(
    pair: Pair, browser: httpx.AsyncClient
) -> None:
    app = register(pair, "--refresh-retry-window", "0")
    token = await first_refresh_token(pair, browser, app)
    responses = await refresh_everywhere(pair, app, token)
    won = [r.json()["refresh_token"] for r in responses if r.status_code == 200]
    refused = [r.json()["error"] for r in responses if r.status_code != 200]
    assert len(won) <= 1
    assert refused
    assert set(refused) == {"invalid_grant"}
    # Someone presented a rotated token: the family is revoked, the winner's token too.
    for live in won:
        assert (await refresh_once(pair, app, live)).json()["error"] == "invalid_grant"


def test_both_processes_publish_one_issuer(pair: Pair) -> None:
    documents = []
    for server in (pair.a, pair.b):
        url = f"{server.url}/.well-known/openid-configuration"
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
            documents.append(json.load(response))
    assert documents[0] == documents[1]
    assert documents[0]["issuer"] == pair.issuer
