"""A user, and access tokens minted straight from the app's key ring: no /authorize needed.

`mint` signs with the very keys the app publishes (the app starts first, so the ring
finds them), so a token differs from a real one only in what the test changes.
"""

import time
import uuid
from collections.abc import Awaitable, Sequence
from typing import Protocol

import httpx
import pytest

from gatepass.accounts.model import User
from gatepass.clock import Clock, SystemClock
from gatepass.config import Settings
from gatepass.keys.ring import KeyRing
from gatepass.storage.backends import Backends
from gatepass.web.app import build_access_tokens, build_key_ring

CLIENT_ID = "gpc_userinfo_test"
PATH = "/userinfo"


class Mint(Protocol):
    def __call__(
        self,
        *,
        scope: Sequence[str] = ("openid",),
        subject: str | None = None,
        audience: str | None = None,
        grant_id: str | None = None,
        clock: Clock | None = None,
    ) -> Awaitable[str]: ...


@pytest.fixture
async def user(backends: Backends) -> User:
    now = time.time()
    record = User(str(uuid.uuid4()), "ada@example.com", "Ada Lovelace", None, False, now, now)
    await backends.users.add(record)
    return record


@pytest.fixture
async def ring(settings: Settings, backends: Backends, client: httpx.AsyncClient) -> KeyRing:
    """The app's keys: `client` started the app, which created them."""
    keys = build_key_ring(settings, backends, SystemClock())
    await keys.start()
    return keys


@pytest.fixture
def mint(settings: Settings, ring: KeyRing, user: User) -> Mint:
    async def issue(
        *,
        scope: Sequence[str] = ("openid",),
        subject: str | None = None,
        audience: str | None = None,
        grant_id: str | None = None,
        clock: Clock | None = None,
    ) -> str:
        core = build_access_tokens(settings, ring, clock or SystemClock())
        issued = await core.issue(
            subject=subject or user.id,
            client_id=CLIENT_ID,
            scope=scope,
            audience=audience,
            grant_id=grant_id,
        )
        return issued.token

    return issue


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def ask(
    client: httpx.AsyncClient,
    method: str,
    token: str | None,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    data: dict[str, str] | None = None,
    content: bytes | None = None,
) -> httpx.Response:
    """GET or POST /userinfo with `token` in the Authorization header (None: no header)."""
    sent = dict(headers or {})
    if token is not None:
        sent |= bearer(token)
    response = await client.request(
        method, PATH, headers=sent, params=params, data=data, content=content
    )
    # Userinfo answers carry personal data or say why not: never cached.
    assert response.headers["cache-control"] == "no-store", response.headers
    return response


def challenge_of(response: httpx.Response) -> dict[str, str]:
    """The auth-params of a `Bearer` WWW-Authenticate value (quoted-strings, no escapes)."""
    value = response.headers["www-authenticate"]
    scheme, _, rest = value.partition(" ")
    assert scheme == "Bearer", value
    params: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in rest.split('", '))):
        name, _, quoted = part.partition("=")
        params[name] = quoted.strip('"')
    return params


def assert_refused(
    response: httpx.Response, status: int, error: str | None, settings: Settings
) -> dict[str, str]:
    """An RFC 6750 §3 refusal: the status, a Bearer challenge with the realm, and the
    error in both the challenge and the JSON body (neither for a bare challenge)."""
    assert response.status_code == status, response.text
    params = challenge_of(response)
    assert params["realm"] == settings.issuer
    if error is None:
        assert set(params) == {"realm"}
        assert response.content == b""
    else:
        assert params["error"] == error
        assert params["error_description"]
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error"] == error
    return params
