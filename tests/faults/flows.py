"""Two `gatepass serve` processes acting as one issuer, and the HTTP steps the fault tests'
loads are made of (sign-up, log-in, a session-checked page, the three token grants),
each with a fresh httpx client so that no cookie leaks from one step to the next.

B serves under A's name (GATEPASS_ISSUER is A's URL), as two processes behind a balancer.
"""

import base64
import hashlib
import json
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.live_server import LiveServer, live_server
from tests.support import PASSWORD, SECRET_KEY, csrf_of

SESSION = "gp_session"
REDIRECT_URI = "https://app.faults.example/callback"
API_SCOPE = "api.read"
REQUEST_SECONDS = 20.0  # no answer within this is a hang, recorded as such by the load
# Every request comes from 127.0.0.1: without room, the login throttle (per address and
# per account) would answer 429 and hide what the fault does. Many logins per user too.
ROOMY = {
    "GATEPASS_LOGIN_ADDRESS_LIMIT": "100000",
    "GATEPASS_LOGIN_ACCOUNT_LIMIT": "1000",
    "GATEPASS_MAX_SESSIONS_PER_USER": "10000",
}


@dataclass(frozen=True)
class Pair:
    a: LiveServer
    b: LiveServer

    @property
    def issuer(self) -> str:
        return self.a.url

    @property
    def servers(self) -> tuple[LiveServer, LiveServer]:
        return (self.a, self.b)

    def either(self, n: int) -> str:
        """A's URL for even `n`, B's for odd: spread the load over both processes."""
        return self.servers[n % 2].url


@contextmanager
def serve_pair(workdir: Path, stores: Mapping[str, str]) -> Iterator[Pair]:
    """A and B on the same stores and master key; B starts once A has migrated."""
    shared = {**stores, "GATEPASS_SECRET_KEY": SECRET_KEY, **ROOMY}
    (workdir / "a").mkdir()
    (workdir / "b").mkdir()
    with (
        live_server(workdir / "a", shared) as a,
        live_server(workdir / "b", shared | {"GATEPASS_ISSUER": a.url}) as b,
    ):
        yield Pair(a, b)


@dataclass(frozen=True)
class App:
    """A confidential first-party client allowed all three grants."""

    client_id: str
    secret: str

    def basic(self) -> dict[str, str]:
        raw = f"{self.client_id}:{self.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def register(server: LiveServer) -> App:
    args = ["client", "create", f"faults-{secrets.token_hex(4)}", "--json", "--first-party"]
    args += ["--redirect-uri", REDIRECT_URI]
    args += ["--scope", "openid", "offline_access", API_SCOPE]
    args += ["--grant-type", "authorization_code", "refresh_token", "client_credentials"]
    created: dict[str, Any] = json.loads(server.cli(*args))
    return App(created["client_id"], created["client_secret"])


def client(base_url: str, session: str | None = None) -> httpx.AsyncClient:
    cookies = {SESSION: session} if session else None
    return httpx.AsyncClient(base_url=base_url, cookies=cookies, timeout=REQUEST_SECONDS)


def session_of(response: httpx.Response) -> str | None:
    """The session secret the response hands the browser, if any."""
    value = response.cookies.get(SESSION)
    return value or None


async def _form(base_url: str, issuer: str, path: str, data: dict[str, str]) -> httpx.Response:
    """GET the page for its CSRF token, POST the form as a browser on the issuer's origin.
    A failed GET is the answer (it is what the visitor saw)."""
    async with client(base_url) as http:
        page = await http.get(path)
        if page.status_code != 200:
            return page
        form = {"csrf_token": csrf_of(page.text), **data}
        return await http.post(path, data=form, headers={"Origin": issuer})


async def sign_up(base_url: str, issuer: str, email: str) -> httpx.Response:
    return await _form(base_url, issuer, "/signup", {"email": email, "password": PASSWORD})


async def log_in(base_url: str, issuer: str, email: str) -> httpx.Response:
    return await _form(base_url, issuer, "/login", {"email": email, "password": PASSWORD})


async def account_page(base_url: str, session: str) -> httpx.Response:
    async with client(base_url, session) as http:
        return await http.get("/account")


def shows_account(response: httpx.Response, email: str) -> bool:
    """The page rendered as signed in, for this user."""
    return response.status_code == 200 and email in response.text


async def authorization_code(base_url: str, session: str, app: App) -> httpx.Response:
    """The code flow with PKCE for a signed-in browser: /authorize, then /token. A refused
    /authorize is the answer."""
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
    async with client(base_url, session) as http:
        landed = await http.get("/authorize?" + urlencode(query))
        location = landed.headers.get("location", "")
        codes = parse_qs(urlsplit(location).query).get("code")
        if landed.status_code != 303 or not location.startswith(REDIRECT_URI) or not codes:
            return landed
        form = {
            "grant_type": "authorization_code",
            "code": codes[0],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        }
        return await http.post("/token", data=form, headers=app.basic())


async def refresh(base_url: str, app: App, token: str) -> httpx.Response:
    async with client(base_url) as http:
        form = {"grant_type": "refresh_token", "refresh_token": token}
        return await http.post("/token", data=form, headers=app.basic())


async def client_credentials(base_url: str, app: App) -> httpx.Response:
    async with client(base_url) as http:
        form = {"grant_type": "client_credentials", "scope": API_SCOPE}
        return await http.post("/token", data=form, headers=app.basic())


async def revoke(base_url: str, app: App, token: str) -> httpx.Response:
    async with client(base_url) as http:
        form = {"token": token, "token_type_hint": "refresh_token"}
        return await http.post("/revoke", data=form, headers=app.basic())


def has_clean_body(text: str) -> bool:
    """No stack trace or library name leaked into an answer."""
    leaks = ("Traceback", 'File "', "sqlalchemy", "asyncpg", "redis.exceptions")
    return not any(leak in text for leak in leaks)
