"""Two `gatepass serve` processes on one PostgreSQL and one Redis, acting as one issuer:
50 concurrent refreshes of one refresh token, spread over both, never fork the family
(docs/refresh-tokens.md).

    browser ─► A: sign up, /authorize (first-party: no consent) ─► code ─► A: /token
    50 x POST /token grant_type=refresh_token, the same token, alternately to A and B
"""

import asyncio
import json
import urllib.request
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.oauth_client import App
from tests.scale.processes import (
    Browser,
    Processes,
    app_tokens,
    new_email,
    processes,
    register_app,
)

CONCURRENT = 50


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Processes]:
    """A and B, one issuer (A's URL): B serves under A's name, as behind a balancer."""
    with processes(tmp_path_factory, 2, {}) as running:
        yield running


@pytest.fixture
async def browser(pair: Processes) -> AsyncIterator[Browser]:
    """A signed-up user's browser on A."""
    async with httpx.AsyncClient(timeout=30) as http:
        signed_up = Browser(http, pair.issuer)
        await signed_up.sign_up(pair.servers[0], new_email())
        yield signed_up


async def first_refresh_token(pair: Processes, browser: Browser, app: App) -> str:
    token: str = (await app_tokens(browser, pair.servers[0], app))["refresh_token"]
    return token


async def refresh_everywhere(pair: Processes, app: App, token: str) -> list[httpx.Response]:
    """CONCURRENT refreshes of `token` at once, alternating between the two processes."""
    async with (
        httpx.AsyncClient(base_url=pair.servers[0].url, timeout=60) as a,
        httpx.AsyncClient(base_url=pair.servers[1].url, timeout=60) as b,
    ):
        form = {"grant_type": "refresh_token", "refresh_token": token}
        return await asyncio.gather(
            *(
                (a if i % 2 == 0 else b).post("/token", data=form, headers=app.basic())
                for i in range(CONCURRENT)
            )
        )


async def refresh_once(pair: Processes, app: App, token: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=pair.servers[1].url, timeout=30) as b:
        form = {"grant_type": "refresh_token", "refresh_token": token}
        return await b.post("/token", data=form, headers=app.basic())


async def test_concurrent_refreshes_on_two_processes_share_one_successor(
    pair: Processes, browser: Browser
) -> None:
    app = register_app(pair.servers[0])
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
    pair: Processes, browser: Browser
) -> None:
    app = register_app(pair.servers[0], "--refresh-retry-window", "0")
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


def test_both_processes_publish_one_issuer(pair: Processes) -> None:
    documents = []
    for server in pair.servers:
        url = f"{server.url}/.well-known/openid-configuration"
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
            documents.append(json.load(response))
    assert documents[0] == documents[1]
    assert documents[0]["issuer"] == pair.issuer
