"""The FastAPI adapter (install + current_token, require_scope, current_user) against a real
gatepass server, through httpx's ASGI transport (lifespan included): the example app,
its /me on a session the server created, and the adapter behind GatepassAuth."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI

from gatepass.resource import TokenVerifier, VerifiedToken
from gatepass.resource.adapters.fastapi import current_token, install, require_scope
from gatepass.resource.adapters.starlette import GatepassAuth
from gatepass.resource.sessions import SessionVerifier
from tests.resource.adapter_support import (
    CASES,
    Api,
    Case,
    api,  # noqa: F401 - a fixture
    bearer,
    check,
    client_id_of,
    load_example,
    reply_of,
    sign_up_at,
    user_id_at,
)

EMAIL = "ada.fastapi@example.com"


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8002") as client,
    ):
        yield client


def sessions_of(api: Api) -> SessionVerifier:  # noqa: F811
    """Configured as the server is: its SQLite file, its issuer (so `gp_session`)."""
    database_url = api.live.env["GATEPASS_DATABASE_URL"]
    return SessionVerifier(issuer=api.issuer, database_url=database_url)


@pytest.fixture
async def example(api: Api) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    app = load_example("api_fastapi").create_app(api.issuer, api.audience, sessions_of(api))
    async with serving(app) as client:
        yield client


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_the_example_answers_as_rfc_6750_says(
    case: Case,
    api: Api,  # noqa: F811
    example: httpx.AsyncClient,
) -> None:
    response = await example.get("/orders", headers=case.headers(api), params=case.query(api))
    reply = reply_of(response.status_code, response.headers, response.content)
    check(case, reply)
    if reply.status == 200:
        assert reply.body["client_id"] == client_id_of(api.read_write)


async def test_a_dependency_in_the_route_decorator_guards_too(
    api: Api,  # noqa: F811
    example: httpx.AsyncClient,
) -> None:
    assert (await example.post("/orders", headers=bearer(api.write_only))).status_code == 201
    refused = await example.post("/orders", headers=bearer(api.tampered()))
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"  # the toolkit's body, not {"detail"}


async def test_current_user_is_the_user_signed_in_at_gatepass(
    api: Api,  # noqa: F811
    example: httpx.AsyncClient,
) -> None:
    secret = sign_up_at(api.live, EMAIL)
    me = await example.get("/me", headers={"Cookie": f"gp_session={secret}"})
    assert me.status_code == 200
    assert me.json() == {"user_id": user_id_at(api.live, EMAIL)}
    # The cookie value is the secret: anything else is no session.
    anonymous = await example.get("/me")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Cookie cookie-name="gp_session"'
    assert anonymous.json() == {"error": "login_required"}
    forged_secret = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    forged = await example.get("/me", headers={"Cookie": f"gp_session={forged_secret}"})
    assert forged.status_code == 401


def _app(api: Api, verifier: TokenVerifier) -> FastAPI:  # noqa: F811
    app = FastAPI()
    app.add_middleware(GatepassAuth, verifier=verifier, required=False)
    install(app, tokens=verifier)

    @app.get("/whoami")
    async def whoami(token: Annotated[VerifiedToken, Depends(current_token)]) -> dict[str, str]:
        return {"client_id": token.client_id}

    @app.get("/orders")
    async def orders(
        token: Annotated[VerifiedToken, Depends(require_scope("orders:read"))],
    ) -> dict[str, list[str]]:
        return {"scopes": sorted(token.scopes)}

    return app


class Counting(TokenVerifier):
    """A real TokenVerifier that counts its calls."""

    calls = 0

    async def verify(self, token: str) -> VerifiedToken:
        self.calls += 1
        return await super().verify(token)


async def test_behind_gatepass_auth_the_token_is_verified_once_per_request(
    api: Api,  # noqa: F811
) -> None:
    verifier = Counting(api.issuer, api.audience)
    async with verifier, serving(_app(api, verifier)) as client:
        whoami = await client.get("/whoami", headers=bearer(api.read_write))
        assert whoami.json() == {"client_id": client_id_of(api.read_write)}
        assert verifier.calls == 1
        assert (await client.get("/orders", headers=bearer(api.write_only))).status_code == 403
        assert verifier.calls == 2
        anonymous = await client.get("/whoami")  # the middleware let it through: optional
        assert (anonymous.status_code, anonymous.headers["www-authenticate"]) == (401, "Bearer")


async def test_current_token_without_install_is_a_programming_error() -> None:
    app = FastAPI()

    @app.get("/")
    async def endpoint(token: Annotated[VerifiedToken, Depends(current_token)]) -> None:
        pass  # pragma: no cover

    async with serving(app) as client:
        with pytest.raises(RuntimeError, match="install"):
            await client.get("/", headers=bearer("x.y.z"))
