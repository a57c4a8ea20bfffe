"""Two `gatepass serve` processes acting as one issuer, and the HTTP steps the fault tests'
loads are made of (sign-up, log-in, a session-checked page, the three token grants),
each with a fresh httpx client so that no cookie leaks from one step to the next.

B serves under A's name (GATEPASS_ISSUER is A's URL), as two processes behind a balancer.
"""

import asyncio
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from tests import oauth_client
from tests.faults.load import Outcome
from tests.live_server import LiveServer, live_server
from tests.oauth_client import App, authorization_request, code_exchange
from tests.support import PASSWORD, SECRET_KEY, csrf_of

SESSION = "gp_session"
REDIRECT_URI = "https://app.faults.example/callback"
API_SCOPE = "api.read"
REQUEST_SECONDS = 20.0  # no answer within this is a hang, recorded as such by the load
# A store stopped under load (test_postgres_restart.py, test_redis_restart.py): the load runs
# BEFORE_SECONDS, the store is down OUTAGE_SECONDS, and once it is back and both processes
# answer again, the load runs AFTER_SECONDS more.
BEFORE_SECONDS = 2.0
OUTAGE_SECONDS = 3.0
AFTER_SECONDS = 2.0
RECOVERY_SECONDS = 30.0  # an upper bound for reconnecting; never a performance figure
LOAD_CAP_SECONDS = 50.0  # the load stops earlier, when told; this only bounds a stuck test
MAX_REQUESTS = 3000
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


def register(server: LiveServer) -> App:
    """A confidential first-party client allowed all three grants."""
    scopes = ["openid", "offline_access", API_SCOPE]
    grant_types = ["authorization_code", "refresh_token", "client_credentials"]
    return oauth_client.register_app(server.cli, "faults", REDIRECT_URI, scopes, grant_types)


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
    verifier, path = authorization_request(app.client_id, REDIRECT_URI, state="s")
    async with client(base_url, session) as http:
        landed = await http.get(path)
        location = landed.headers.get("location", "")
        codes = parse_qs(urlsplit(location).query).get("code")
        if landed.status_code != 303 or not location.startswith(REDIRECT_URI) or not codes:
            return landed
        form = code_exchange(codes[0], verifier, REDIRECT_URI)
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


async def signed_up(pair: Pair, n: int, label: str) -> tuple[str, str]:
    """A new user, signed up on A or B as `n` says: its session and e-mail address."""
    email = f"{label}-{n}-{time.monotonic_ns()}@example.com"
    response = await sign_up(pair.either(n), pair.issuer, email)
    session = session_of(response)
    assert response.status_code == 303, (response.status_code, response.text[:300])
    assert session
    return session, email


async def recovered(pair: Pair, session: str, email: str) -> bool:
    """Whether both processes show the signed-in user's account page again, within
    RECOVERY_SECONDS."""

    async def both() -> bool:
        for server in pair.servers:
            if not shows_account(await account_page(server.url, session), email):
                return False
        return True

    deadline = time.monotonic() + RECOVERY_SECONDS
    while time.monotonic() < deadline:
        if await both():
            return True
        await asyncio.sleep(0.1)
    return False


def unanswered_or_broken(outcomes: list[Outcome]) -> list[str]:
    """Hangs, resets, 500s, 503s without Retry-After and leaked traces: never allowed."""
    bad = []
    for o in outcomes:
        if o.status is None or (o.status >= 500 and o.status != 503):
            bad.append(o.describe())
        elif o.status == 503 and not (o.retry_after and int(o.retry_after) > 0):
            bad.append(f"503 without Retry-After: {o.describe()}")
        elif not has_clean_body(o.body):
            bad.append(f"leaked internals: {o.describe()}")
    return bad
