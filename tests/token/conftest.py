"""A client, a user and codes issued straight from the core: no /authorize needed."""

import base64
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote_plus

import httpx
import pytest

from gatepass.accounts.model import User
from gatepass.clock import Clock, SystemClock
from gatepass.config import Settings
from gatepass.crypto.master_key import load_master_key
from gatepass.oauth.authorize import AuthorizationRequest
from gatepass.oauth.clients import Client, ClientRegistration
from gatepass.oauth.codes import AuthorizationCodes
from gatepass.oauth.pkce import s256
from gatepass.oauth.registry import ClientRegistry
from gatepass.storage.backends import Backends

REDIRECT = "https://app.example.com/cb"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
NONCE = "n-0S6_WzA2Mj"
SID = "s" * 43
SCOPES = ("openid", "profile")


@dataclass(frozen=True)
class App:
    """A registered client and its secret (None for a public client)."""

    client: Client
    secret: str | None

    @property
    def client_id(self) -> str:
        return self.client.client_id

    def basic(self, secret: str | None = None) -> dict[str, str]:
        """RFC 6749 §2.3.1: id and secret form-urlencoded, then HTTP Basic."""
        raw = f"{quote_plus(self.client_id)}:{quote_plus(secret or self.secret or '')}"
        return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


class MakeApp(Protocol):
    def __call__(self, *, public: bool = False, **changes: Any) -> Awaitable[App]: ...


class IssueCode(Protocol):
    def __call__(
        self, app: App, *, clock: Clock | None = None, scopes: tuple[str, ...] = SCOPES
    ) -> Awaitable[str]: ...


@pytest.fixture
def registry(settings: Settings, backends: Backends) -> ClientRegistry:
    key = load_master_key(settings).client_secret_key()
    return ClientRegistry(backends.clients, key, SystemClock())


@pytest.fixture
def make_app(registry: ClientRegistry) -> MakeApp:
    async def make(*, public: bool = False, **changes: Any) -> App:
        registration = ClientRegistration(
            name="Photo Printer", redirect_uris=(REDIRECT,), public=public, **changes
        )
        client, secret = await registry.create(registration)
        return App(client, secret)

    return make


@pytest.fixture
async def user(backends: Backends) -> User:
    now = time.time()
    record = User(str(uuid.uuid4()), "ada@example.com", "Ada", None, False, now, now)
    await backends.users.add(record)
    return record


@pytest.fixture
def issue_code(settings: Settings, backends: Backends, user: User) -> IssueCode:
    async def issue(
        app: App, *, clock: Clock | None = None, scopes: tuple[str, ...] = SCOPES
    ) -> str:
        clock = clock or SystemClock()
        codes = AuthorizationCodes(backends.codes, clock, ttl_seconds=settings.code_ttl)
        request = AuthorizationRequest(
            client=app.client,
            redirect_uri=REDIRECT,
            scopes=scopes,
            code_challenge=s256(VERIFIER),
            nonce=NONCE,
        )
        return await codes.issue(request, user_id=user.id, session_id=SID, auth_time=clock.now())

    return issue


Exchange = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
def exchange(client: httpx.AsyncClient) -> Exchange:
    """POST /token with the code grant's usual form; `changes` add, replace or drop
    (None) fields; every answer is checked for RFC 6749 §5.1's caching headers."""

    async def post(
        app: App,
        code: str,
        *,
        auth: str = "basic",
        headers: dict[str, str] | None = None,
        http: httpx.AsyncClient | None = None,
        **changes: str | None,
    ) -> httpx.Response:
        form: dict[str, str | None] = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
        }
        sent = dict(headers or {})
        if auth == "basic":
            sent |= app.basic()
        elif auth == "post":
            form |= {"client_id": app.client_id, "client_secret": app.secret}
        elif auth == "none":
            form |= {"client_id": app.client_id}
        form |= changes
        data = {name: value for name, value in form.items() if value is not None}
        response = await (http or client).post("/token", data=data, headers=sent)
        assert_no_store(response)
        return response

    return post


def assert_no_store(response: httpx.Response) -> None:
    # RFC 6749 §5.1, OAuth 2.1 §3.2.3 (SECURITY.md R13): never cached, errors included.
    assert response.headers["cache-control"] == "no-store"


def assert_error(response: httpx.Response, error: str, status: int = 400) -> None:
    """RFC 6749 §5.2: a JSON object with `error` (and here always a description)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"] == error
    assert_no_store(response)
