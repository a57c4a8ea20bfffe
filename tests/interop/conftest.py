"""Interop fixtures: a real `gatepass serve` per storage set-up, clients registered with the
real CLI, an httpx "browser" with a cookie jar, and Authlib as the relying party.

Two servers, each configured with a different access-token algorithm, audience and
lifetime, so the tests check that what is configured is what comes out:

- `sqlite`: one SQLite file (the embedded default);
- `postgres-redis`: a PostgreSQL database of its own and Redis under a prefix of its own,
  both removed at the end.

Nothing here is mocked and nothing is skipped: a missing PostgreSQL or Redis fails.
"""

import json
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.interop.node_rp import NodeRelyingParty, install
from tests.interop.relying_party import (
    Provider,
    RegisteredClient,
    discover,
    relying_party,
)
from tests.interop.support import VARIANTS, Gatepass, RegisterClient, Variant
from tests.interop.user_agent import User
from tests.live_server import live_server, scratch_postgres_and_redis
from tests.support import PASSWORD, POSTGRES_ADMIN_URL, REDIS_URL, csrf_of


def _settings(variant: Variant) -> dict[str, str]:
    settings = {
        "GATEPASS_ACCESS_TOKEN_ALG": variant.access_token_alg,
        "GATEPASS_ACCESS_TOKEN_TTL": str(variant.access_token_ttl),
    }
    if variant.audience is not None:
        settings["GATEPASS_DEFAULT_AUDIENCE"] = variant.audience
    return settings


@pytest.fixture(scope="package", params=VARIANTS, ids=[v.name for v in VARIANTS])
def gatepass(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gatepass]:
    variant: Variant = request.param
    workdir = tmp_path_factory.mktemp(f"interop-{variant.name}")
    if variant.name == "sqlite":
        with live_server(workdir, _settings(variant)) as live:
            yield Gatepass(live, variant)
        return
    with (
        scratch_postgres_and_redis(POSTGRES_ADMIN_URL, REDIS_URL) as stores,
        live_server(workdir, _settings(variant) | stores) as live,
    ):
        yield Gatepass(live, variant)


@pytest.fixture
def register_client(gatepass: Gatepass) -> RegisterClient:
    """Register a client with `gatepass client create --json`, as an operator would."""

    def register(
        redirect_uri: str,
        *,
        public: bool = False,
        post_logout_redirect_uri: str | None = None,
    ) -> RegisteredClient:
        args = ["client", "create", f"interop-{secrets.token_hex(4)}", "--json"]
        args += ["--redirect-uri", redirect_uri]
        if public:
            args.append("--public")
        if post_logout_redirect_uri is not None:
            args += ["--post-logout-redirect-uri", post_logout_redirect_uri]
        created: dict[str, Any] = json.loads(gatepass.live.cli(*args))
        assert created["confidential"] is not public
        assert ("client_secret" in created) is not public
        return RegisteredClient(
            client_id=created["client_id"],
            client_secret=created.get("client_secret"),
            redirect_uri=redirect_uri,
            token_endpoint_auth_method=created["token_endpoint_auth_method"],
            post_logout_redirect_uri=post_logout_redirect_uri,
        )

    return register


@pytest.fixture
async def browser(gatepass: Gatepass) -> AsyncIterator[httpx.AsyncClient]:
    """The user agent: a cookie jar, and redirects followed by the flow helpers one by one."""
    async with httpx.AsyncClient(
        base_url=gatepass.issuer,
        headers={"User-Agent": "gatepass-interop browser"},
        follow_redirects=False,
        timeout=30,
    ) as client:
        yield client


@pytest.fixture
async def account(gatepass: Gatepass) -> User:
    """A user who signed up through the real /signup page, in a browser of their own
    (so the flow's browser starts signed out and meets the login page)."""
    created = User(f"interop-{secrets.token_hex(6)}@example.com", PASSWORD, "Ada Lovelace")
    async with httpx.AsyncClient(base_url=gatepass.issuer, timeout=30) as other_device:
        page = await other_device.get("/signup")
        response = await other_device.post(
            "/signup",
            data={
                "csrf_token": csrf_of(page.text),
                "email": created.email,
                "name": created.name,
                "password": created.password,
            },
            headers={"Origin": gatepass.issuer},
        )
    assert response.status_code == 303, response.text
    return created


@pytest.fixture
async def provider(gatepass: Gatepass) -> Provider:
    """The provider's metadata, fetched by Authlib's client (OIDC Discovery §4)."""
    async with relying_party() as rp:
        return await discover(rp, gatepass.issuer)


@pytest.fixture(scope="session")
def node_rp(tmp_path_factory: pytest.TempPathFactory) -> NodeRelyingParty:
    """openid-client from npm, installed once per run outside the checkout."""
    return install(tmp_path_factory.mktemp("openid-client"))
