"""Several `gatepass serve` processes acting as one issuer, and browsers in front of them.

Every process gets the same PostgreSQL database, Redis prefix, master key and issuer URL
(the first process's), as docs/operations.md asks of a deployment behind a load
balancer; the test plays the balancer by naming the process each request goes to.
"""

import secrets
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests import oauth_client
from tests.live_server import LiveServer, live_server, scratch_postgres_and_redis
from tests.oauth_client import App, authorization_request, code_exchange
from tests.support import PASSWORD, POSTGRES_ADMIN_URL, REDIS_URL, SECRET_KEY, csrf_of

SESSION_COOKIE = "gp_session"  # its name on a loopback http issuer (sessions/policy.py)
HTTP_SECONDS = 60.0  # a bound for a slow, shared machine; never asserted on
REDIRECT_URI = "https://app.scale.example/callback"
# The shortest JWKS lifetime gatepass allows, and a short re-read of the key ring: a
# rotated key then signs 10 + 2 s after the rotation (keys/ring.py), soon enough for a
# test to watch every process switch on real time.
JWKS_MAX_AGE = 10
KEY_REFRESH_SECONDS = 2
LOGIN_ACCOUNT_LIMIT = 5
LOGIN_WINDOW_SECONDS = 900  # the default: far longer than any burst here


@dataclass(frozen=True)
class Processes:
    """The running processes; the first one's URL is everyone's issuer."""

    servers: tuple[LiveServer, ...]
    settings: Mapping[str, str]  # what every process shares: stores, master key, issuer

    @property
    def issuer(self) -> str:
        return self.servers[0].url

    @property
    def audience(self) -> str:
        return self.issuer + "/api"  # the default audience of access tokens

    def another(self, workdir: Path) -> AbstractContextManager[LiveServer]:
        """One more process on the same storage, started now, stopped at the block's end."""
        return live_server(workdir, self.settings)


@contextmanager
def processes(
    tmp_path_factory: pytest.TempPathFactory, count: int, settings: Mapping[str, str]
) -> Iterator[Processes]:
    """`count` processes on a scratch database and Redis prefix, all removed at the end."""
    with scratch_postgres_and_redis(POSTGRES_ADMIN_URL, REDIS_URL) as stores, ExitStack() as stack:
        shared = stores | {"GATEPASS_SECRET_KEY": SECRET_KEY} | dict(settings)
        # The first migrates the empty database and creates the signing keys; the others
        # start on what it made, under its URL, as hosts behind one public name.
        first = stack.enter_context(live_server(tmp_path_factory.mktemp("process-0"), shared))
        shared |= {"GATEPASS_ISSUER": first.url}
        later = [
            live_server(tmp_path_factory.mktemp(f"process-{n}"), shared) for n in range(1, count)
        ]
        others = _start_together(later, stack)
        yield Processes((first, *others), shared)


def _start_together(
    servers: Sequence[AbstractContextManager[LiveServer]], stack: ExitStack
) -> list[LiveServer]:
    """Start the servers at once (a start is mostly waiting for imports), each stopped by
    `stack`; if one fails, the ones that started are stopped with the stack."""
    with ThreadPoolExecutor(max_workers=max(1, len(servers))) as pool:
        starts = [pool.submit(server.__enter__) for server in servers]
    started, failures = [], []
    for server, start in zip(servers, starts, strict=True):
        try:
            started.append(start.result())
        except Exception as exc:  # re-raised below, once the others are in the stack
            failures.append(exc)
        else:
            stack.push(server.__exit__)
    if failures:
        raise failures[0]
    return started


def new_email() -> str:
    return f"scale-{secrets.token_hex(6)}@example.com"


@dataclass(frozen=True)
class Browser:
    """One person's browser: one cookie jar, each request sent to the process named.

    Cookies do not care about ports (RFC 6265 §8.5), so what one loopback process sets
    goes to all of them, as a browser's cookies go to every host behind a balancer.
    """

    http: httpx.AsyncClient
    issuer: str

    async def get(self, server: LiveServer, path: str) -> httpx.Response:
        return await self.http.get(server.url + path)

    async def submit(
        self,
        server: LiveServer,
        path: str,
        data: Mapping[str, str],
        *,
        page: str | None = None,
        page_on: LiveServer | None = None,
    ) -> httpx.Response:
        """POST a form to `server` like a browser: its CSRF token from the form's page
        (fetched from `page_on`, by default the same process), Origin the issuer."""
        html = (await self.get(page_on or server, page or path)).text
        return await self.http.post(
            server.url + path,
            data={"csrf_token": csrf_of(html), **data},
            headers={"Origin": self.issuer},
        )

    @property
    def session(self) -> str | None:
        """The session cookie's value, if the browser holds one."""
        return self.http.cookies.get(SESSION_COOKIE)

    async def sign_up(self, server: LiveServer, email: str) -> None:
        form = {"email": email, "password": PASSWORD}
        signed_up = await self.submit(server, "/signup", form)
        assert signed_up.status_code == 303, signed_up.text

    async def log_in(
        self, server: LiveServer, email: str, password: str = PASSWORD
    ) -> httpx.Response:
        return await self.submit(server, "/login", {"email": email, "password": password})


@asynccontextmanager
async def browser(processes: Processes, **cookies: str) -> AsyncIterator[Browser]:
    async with httpx.AsyncClient(
        timeout=HTTP_SECONDS, follow_redirects=False, cookies=cookies
    ) as http:
        yield Browser(http, processes.issuer)


def register_app(server: LiveServer, *extra: str) -> App:
    """A confidential first-party client (no consent page) with a refresh token grant;
    `extra` are more `client create` options."""
    scopes = ["openid", "offline_access"]
    grant_types = ["authorization_code", "refresh_token"]
    return oauth_client.register_app(server.cli, "scale", REDIRECT_URI, scopes, grant_types, *extra)


async def app_tokens(browser: Browser, server: LiveServer, app: App) -> dict[str, Any]:
    """The signed-in browser authorizes `app` at `server`, which redeems the code there:
    the token response (access, refresh and id token)."""
    verifier, path = authorization_request(app.client_id, REDIRECT_URI, state="s")
    landed = await browser.get(server, path)
    assert landed.status_code == 303, landed.text
    [code] = parse_qs(urlsplit(landed.headers["location"]).query)["code"]
    form = code_exchange(code, verifier, REDIRECT_URI)
    tokens = await browser.http.post(server.url + "/token", data=form, headers=app.basic())
    assert tokens.status_code == 200, tokens.text
    body: dict[str, Any] = tokens.json()
    return body


async def refresh(server: LiveServer, app: App, token: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=HTTP_SECONDS) as http:
        form = {"grant_type": "refresh_token", "refresh_token": token}
        return await http.post("/token", data=form, headers=app.basic())


async def userinfo(server: LiveServer, access_token: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=HTTP_SECONDS) as http:
        return await http.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})


async def introspect(server: LiveServer, app: App, token: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, timeout=HTTP_SECONDS) as http:
        answer = await http.post("/introspect", data={"token": token}, headers=app.basic())
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body
