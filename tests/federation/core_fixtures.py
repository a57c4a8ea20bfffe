"""Fixtures and helpers for the federation core's tests (imported explicitly by them).

- `upstream`: a second, real `gatepass serve` (SQLite) acting as the upstream OpenID
  provider, with confidential clients registered by its CLI and people who signed up
  through its /signup page;
- `rogue`: a small, real HTTP server (Starlette under uvicorn, in a thread) that plays an
  OpenID provider whose answers each test decides: forged, expired or foreign id tokens,
  broken token endpoints. Only what a hostile or broken provider would send is faked;
  the relying party talks to it over real HTTP.
"""

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import uvicorn
from joserfc import jws
from joserfc.jwk import RSAKey
from joserfc.jws import JWSRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gatepass.config import Settings
from gatepass.federation.model import PendingLogin, UpstreamProvider
from gatepass.federation.relying_party import RelyingParty
from gatepass.storage.backends import Backends
from tests.interop.user_agent import User, visit
from tests.live_server import LiveServer, free_port, live_server
from tests.support import PASSWORD, csrf_of, settings_for, test_backends

CALLBACK = "http://127.0.0.1:9/login/{name}/callback"  # never served: the browser stops there


# --- SQL backends only (the federation stores are SQL whatever holds the sessions) ---


@pytest.fixture(params=("sqlite", "postgres"))
def sql_backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def sql_settings(
    sql_backend: str, tmp_path: Path, postgres_url: str, redis_prefix: str
) -> Settings:
    return settings_for(sql_backend, tmp_path, postgres_url, redis_prefix)


@pytest.fixture
async def sql_backends(sql_settings: Settings) -> Any:
    async with test_backends(sql_settings) as opened:
        yield opened


async def a_user(backends: Backends, email: str | None = None) -> str:
    """A user row (identities reference users by foreign key); its id."""
    from tests.contract.conftest import a_user as make_user

    user = make_user(email)
    await backends.users.add(user)
    return user.id


# --- the real upstream: another gatepass ---------------------------------------------


@dataclass
class Upstream:
    live: LiveServer

    @property
    def issuer(self) -> str:
        return self.live.url

    def register(self, redirect_uri: str) -> tuple[str, str]:
        """A confidential client registered with `gatepass client create`: (id, secret)."""
        name = f"rp-{secrets.token_hex(4)}"
        created = json.loads(
            self.live.cli("client", "create", name, "--json", "--redirect-uri", redirect_uri)
        )
        return created["client_id"], created["client_secret"]

    async def sign_up(self) -> User:
        """A person who signed up through the upstream's real /signup page."""
        person = User(f"up-{secrets.token_hex(6)}@example.com", PASSWORD, "Grace Hopper")
        async with httpx.AsyncClient(base_url=self.issuer, timeout=30) as device:
            page = await device.get("/signup")
            response = await device.post(
                "/signup",
                data={
                    "csrf_token": csrf_of(page.text),
                    "email": person.email,
                    "name": person.name,
                    "password": person.password,
                },
                headers={"Origin": self.issuer},
            )
        assert response.status_code == 303, response.text
        return person

    def provider(self, name: str = "upstream", **overrides: Any) -> UpstreamProvider:
        client_id, secret = self.register(CALLBACK.format(name=name))
        values: dict[str, Any] = {
            "name": name,
            "kind": "oidc",
            "issuer": self.issuer,
            "client_id": client_id,
            "client_secret": secret,
            "scopes": ("openid", "email", "profile"),
            "display_name": "Upstream gatepass",
        }
        return UpstreamProvider(**(values | overrides))


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstream]:
    with live_server(tmp_path_factory.mktemp("upstream")) as live:
        yield Upstream(live)


async def sign_in_upstream(
    rp: RelyingParty, provider: UpstreamProvider, person: User, *, decision: str = "allow"
) -> tuple[PendingLogin, dict[str, str]]:
    """Begin, then be the browser at the upstream (login, consent) until it redirects to
    our callback: the pending login and the callback's query."""
    redirect_uri = CALLBACK.format(name=provider.name)
    url, pending = await rp.begin(provider, redirect_uri)
    async with httpx.AsyncClient(timeout=30, follow_redirects=False) as browser:
        back = await visit(browser, url, leaving_for=redirect_uri, user=person, decision=decision)
    return pending, dict(back.params)


# --- the rogue provider ----------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class Rogue:
    """What the rogue provider answers; tests change it between requests."""

    issuer: str
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, private=True))
    kid: str = "rogue-1"
    discovery_overrides: dict[str, Any] = field(default_factory=dict)
    extra_keys: list[dict[str, Any]] = field(default_factory=list)
    # (form) -> (status, body): the token endpoint; default: a good id token.
    token_answer: Callable[[dict[str, str]], tuple[int, Any]] | None = None
    claims_overrides: dict[str, Any] = field(default_factory=dict)
    userinfo: dict[str, Any] | None = None
    nonce: str = ""
    client_id: str = "rogue-client"
    requests: list[tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=list)
    jwks_fetches: int = 0

    def discovery(self) -> dict[str, Any]:
        document = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "id_token_signing_alg_values_supported": ["RS256"],
            "authorization_response_iss_parameter_supported": True,
        }
        return {**document, **self.discovery_overrides}

    def jwks(self) -> dict[str, Any]:
        public = {**self.key.as_dict(private=False), "kid": self.kid, "alg": "RS256"}
        return {"keys": [public, *self.extra_keys]}

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        base = {
            "iss": self.issuer,
            "sub": "rogue-subject",
            "aud": self.client_id,
            "exp": now + 300,
            "iat": now,
            "nonce": self.nonce,
            "email": "rogue@example.com",
            "email_verified": True,
            "name": "Rogue User",
        }
        return {**base, **self.claims_overrides, **overrides}

    def sign(
        self,
        claims: dict[str, Any],
        *,
        key: RSAKey | None = None,
        kid: str | None = None,
        alg: str = "RS256",
    ) -> str:
        header = {"alg": alg, "kid": kid or self.kid, "typ": "JWT"}
        payload = json.dumps(claims).encode()
        registry = JWSRegistry(algorithms=[alg])
        return jws.serialize_compact(header, payload, key or self.key, registry=registry)

    def id_token(self) -> str:
        return self.sign(self.claims())

    def provider(self, **overrides: Any) -> UpstreamProvider:
        values: dict[str, Any] = {
            "name": "rogue",
            "kind": "oidc",
            "issuer": self.issuer,
            "client_id": self.client_id,
            "client_secret": "rogue-secret",
            "scopes": ("openid", "email"),
            "display_name": "Rogue",
        }
        return UpstreamProvider(**(values | overrides))


def _rogue_app(rogue: Rogue) -> Starlette:
    async def discovery(_request: Request) -> Response:
        return JSONResponse(rogue.discovery())

    async def jwks(_request: Request) -> Response:
        rogue.jwks_fetches += 1
        return JSONResponse(rogue.jwks())

    async def token(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        rogue.requests.append(("token", dict(request.headers), form))
        if rogue.token_answer is not None:
            status, body = rogue.token_answer(form)
        else:
            status = 200
            body = {"access_token": "at-1", "token_type": "Bearer", "id_token": rogue.id_token()}
        if isinstance(body, bytes):
            return Response(body, status_code=status, media_type="application/json")
        return JSONResponse(body, status_code=status)

    async def userinfo(request: Request) -> Response:
        rogue.requests.append(("userinfo", dict(request.headers), {}))
        if rogue.userinfo is None:
            return JSONResponse({"sub": "rogue-subject"})
        return JSONResponse(rogue.userinfo)

    return Starlette(
        routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/jwks", jwks),
            Route("/token", token, methods=["POST"]),
            Route("/userinfo", userinfo),
        ]
    )


@pytest.fixture
def rogue() -> Iterator[Rogue]:
    port = free_port()
    state = Rogue(issuer=f"http://127.0.0.1:{port}")
    config = uvicorn.Config(
        _rogue_app(state), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the rogue provider did not start"
        time.sleep(0.02)
    try:
        yield state
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def begin_rogue(rp: RelyingParty, rogue: Rogue, **overrides: Any) -> PendingLogin:
    """Begin a login at the rogue provider; its id tokens will carry the nonce sent."""
    provider = rogue.provider(**overrides)
    _url, pending = await rp.begin(provider, CALLBACK.format(name=provider.name))
    rogue.nonce = pending.nonce
    return pending


def callback(pending: PendingLogin, rogue: Rogue, **extra: str) -> dict[str, str]:
    return {"code": "code-1", "state": pending.state, "iss": rogue.issuer, **extra}
