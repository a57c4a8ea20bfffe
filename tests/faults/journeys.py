"""What browsers and an OAuth client do against several `gatepass serve` processes, through
a tiny client-side balancer, and a record of every answer they were given.

    Balancer        round-robin over the processes in rotation; a refused connection (a
                    process that is down) is tried on the next one, anything else is not
    Browser         one cookie jar for every process (cookies ignore ports): one visitor
                    behind a balancer, whichever process answers
    App             a confidential, first-party client: client_credentials,
                    authorization_code (+ PKCE), refresh_token
    Ledger          what the clients hold: access tokens, refresh-token chains, sessions

The processes share one issuer (the first one's URL): forms carry it as their Origin, as
a browser that only ever saw the public URL would.
"""

import asyncio
import base64
import http.cookiejar
import json
import secrets
import ssl
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import httpx

from tests import oauth_client
from tests.faults.processes import Cluster
from tests.oauth_client import App, code_exchange
from tests.support import PASSWORD, csrf_of

REDIRECT_URI = "https://app.faults.example/callback"
MACHINE_SCOPE = "faults:read"  # what the app asks for itself (client_credentials)
SESSION_COOKIE = "gp_session"  # plain-http loopback issuer: no __Host- prefix
TIMEOUT = httpx.Timeout(30.0)  # a loaded 2-core host; a slow answer is no fault here
# A connection per request: a request either reaches a process or is refused, never lost
# to the race of reusing an idle connection the process is closing (which a client cannot
# tell from a dropped request).
NO_KEEPALIVE = httpx.Limits(max_keepalive_connections=0)
REFUSED_PAUSE_SECONDS = 0.05
ANSWERED_OR_FAILED = (
    "http11.receive_response_headers.complete",
    "http11.receive_response_headers.failed",
)
MAX_REFUSALS = 200  # ten seconds of every process refusing: the cluster is down


class AllRefused(Exception):
    """Every process refused the connection for too long."""


class Balancer:
    """Round-robin over the processes in rotation. A refused connection never reached a
    process, so it is safe to send again: it goes to the next one. Anything else (a reset,
    a connection closed before the answer) is the caller's to see.

    `held[url]` counts the requests a process holds: sent in full, not yet answered."""

    def __init__(self, urls: Sequence[str]) -> None:
        self.urls = list(urls)
        self.out: set[str] = set()
        self.refused = 0
        self.held: Counter[str] = Counter()
        self._next = 0

    def take_out(self, url: str) -> None:
        self.out.add(url)

    def put_back(self, url: str) -> None:
        self.out.discard(url)

    def _pick(self) -> str:
        live = [u for u in self.urls if u not in self.out] or self.urls
        self._next += 1
        return live[self._next % len(live)]

    async def send(
        self, http: httpx.AsyncClient, method: str, path: str, *, to: str | None = None, **kw: Any
    ) -> httpx.Response:
        """`method path` on `to`, or on the next process in rotation (another one if refused)."""
        for attempt in range(1, MAX_REFUSALS + 1):
            url = to or self._pick()
            try:
                return await self._send(http, url, method, path, **kw)
            except httpx.ConnectError:
                self.refused += 1
                if to is not None:
                    raise
                if attempt % len(self.urls) == 0:  # every one refused: wait for one
                    await asyncio.sleep(REFUSED_PAUSE_SECONDS)
        raise AllRefused(f"{method} {path}: every process refused for too long")

    async def _send(
        self, http: httpx.AsyncClient, url: str, method: str, path: str, **kw: Any
    ) -> httpx.Response:
        holding = False

        async def trace(event: str, _info: dict[str, Any]) -> None:
            # httpcore's trace events: the request is in the process's hands from its last
            # byte sent until the answer's headers arrive (or the connection fails).
            nonlocal holding
            if event == "http11.send_request_body.complete":
                holding = True
                self.held[url] += 1
            elif event in ANSWERED_OR_FAILED and holding:
                holding = False
                self.held[url] -= 1

        try:
            return await http.request(method, url + path, extensions={"trace": trace}, **kw)
        finally:
            if holding:
                self.held[url] -= 1


# Only plain http on loopback here, but every client builds a TLS context unless given one:
# one for all, so a new browser costs no certificate loading.
_TLS = ssl.create_default_context()


def browser() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=TIMEOUT, limits=NO_KEEPALIVE, verify=_TLS)


def bare_client() -> httpx.AsyncClient:
    """A client that keeps no cookie: whatever it sends, the caller put in the headers."""
    jar = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(timeout=TIMEOUT, limits=NO_KEEPALIVE, cookies=jar, verify=_TLS)


def session_of(http: httpx.AsyncClient) -> str:
    value = http.cookies.get(SESSION_COOKIE)
    assert value, "no session cookie"
    return value


def register_app(cluster: Cluster) -> App:
    scopes = ["openid", "offline_access", MACHINE_SCOPE]
    grant_types = ["authorization_code", "refresh_token", "client_credentials"]
    return oauth_client.register_app(cluster.cli, "faults", REDIRECT_URI, scopes, grant_types)


def new_email() -> str:
    return f"faults-{secrets.token_hex(6)}@example.com"


def claims_of(jwt: str) -> dict[str, Any]:
    """A JWT's payload, unverified: only to name what a token says (its jti, iat)."""
    payload = jwt.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


@dataclass
class Chain:
    """One refresh-token family as its client sees it."""

    refresh_token: str  # the latest one received
    access_tokens: list[str] = field(default_factory=list)
    rotations: int = 0


@dataclass
class Ledger:
    """Every answer that gave a client something to keep."""

    access_tokens: list[str] = field(default_factory=list)  # client_credentials tokens
    chains: list[Chain] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)
    answered: int = 0
    lost: Counter[str] = field(default_factory=Counter)  # requests that got no answer
    failures: list[str] = field(default_factory=list)  # what must not happen
    lost_is_failure: bool = False  # a graceful restart must answer every request


class Journeys:
    """The steps, each one or two requests through `balancer`; every answer is checked
    for what the step expects, and a server error is always a failure."""

    def __init__(self, cluster: Cluster, balancer: Balancer, app: App, ledger: Ledger) -> None:
        self.issuer = cluster.issuer
        self.balancer = balancer
        self.app = app
        self.ledger = ledger
        self.bare = bare_client()  # for the app's requests and session checks

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.bare.aclose()

    async def send(
        self, http: httpx.AsyncClient, method: str, path: str, **kw: Any
    ) -> httpx.Response:
        response = await self.balancer.send(http, method, path, **kw)
        self.ledger.answered += 1
        if response.status_code >= 500:
            self.ledger.failures.append(
                f"{method} {path.split('?')[0]}: {response.status_code} {response.text[:200]}"
            )
        return response

    async def sign_up(self, http: httpx.AsyncClient, email: str, **kw: Any) -> str:
        page = await self.send(http, "GET", "/signup", **kw)
        data = {"csrf_token": csrf_of(page.text), "email": email, "password": PASSWORD}
        done = await self.send(http, "POST", "/signup", data=data, headers=self._origin(), **kw)
        assert done.status_code == 303, done.text
        return session_of(http)

    async def login_form(self, http: httpx.AsyncClient, path: str = "/login", **kw: Any) -> str:
        """The login page's CSRF token (an anonymous visitor gets its key as a cookie)."""
        page = await self.send(http, "GET", path, **kw)
        assert page.status_code == 200, page.text
        return csrf_of(page.text)

    async def post_login(
        self, http: httpx.AsyncClient, email: str, csrf: str, next_path: str = "", **kw: Any
    ) -> httpx.Response:
        data = {"csrf_token": csrf, "email": email, "password": PASSWORD}
        if next_path:
            data["next"] = next_path
        return await self.send(http, "POST", "/login", data=data, headers=self._origin(), **kw)

    async def log_in(self, http: httpx.AsyncClient, email: str) -> str | None:
        """A fresh session for `email` on `http`, or None when an answer was lost."""
        csrf = await self.login_form(http)
        done = await self.post_login(http, email, csrf)
        if done.status_code != 303:
            self.ledger.failures.append(f"POST /login: {done.status_code} {done.text[:200]}")
            return None
        return session_of(http)

    async def session_works(self, secret: str, **kw: Any) -> bool:
        """Whether the session cookie `secret` still opens /account."""
        cookie = {"Cookie": f"{SESSION_COOKIE}={secret}"}
        page = await self.send(self.bare, "GET", "/account", headers=cookie, **kw)
        return page.status_code == 200

    async def authorize(self, http: httpx.AsyncClient, **kw: Any) -> tuple[str, str]:
        """A signed-in browser's code (first party: no consent page), with its verifier."""
        verifier, path = authorization_request(self.app.client_id)
        landed = await self.send(http, "GET", path, **kw)
        return code_of(landed), verifier

    async def redeem(self, code: str, verifier: str, **kw: Any) -> httpx.Response:
        return await self.token(code_exchange(code, verifier, REDIRECT_URI), **kw)

    async def refresh(self, token: str, **kw: Any) -> httpx.Response:
        return await self.token({"grant_type": "refresh_token", "refresh_token": token}, **kw)

    async def client_credentials(self, **kw: Any) -> httpx.Response:
        return await self.token({"grant_type": "client_credentials", "scope": MACHINE_SCOPE}, **kw)

    async def token(self, form: dict[str, str], **kw: Any) -> httpx.Response:
        return await self.send(
            self.bare, "POST", "/token", data=form, headers=self.app.basic(), **kw
        )

    async def introspect(self, token: str, **kw: Any) -> dict[str, Any]:
        answer = await self.send(
            self.bare, "POST", "/introspect", data={"token": token}, headers=self.app.basic(), **kw
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def _origin(self) -> dict[str, str]:
        return {"Origin": self.issuer}


def authorization_request(client_id: str, **extra: str) -> tuple[str, str]:
    """A PKCE verifier and the /authorize path that asks a code for it, with a fresh state
    and nonce."""
    return oauth_client.authorization_request(
        client_id,
        REDIRECT_URI,
        state=secrets.token_urlsafe(8),
        nonce=secrets.token_urlsafe(8),
        **extra,
    )


def code_of(landed: httpx.Response) -> str:
    """The code in a redirect to the client; the answer shown if it is not one."""
    location: str = landed.headers.get("location", "")
    shown = f"{landed.status_code} {location} {landed.text[:300]}"
    assert landed.status_code == 303, shown
    assert location.startswith(REDIRECT_URI), shown
    [code] = parse_qs(urlsplit(location).query)["code"]
    return code
