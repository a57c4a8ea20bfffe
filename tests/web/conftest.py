"""Helpers for the web tests: cookies as a browser sees them, a second device, storage views."""

import asyncio
import functools
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from gatepass import cli
from gatepass.accounts.service import Accounts
from gatepass.audit.log import AuditLog
from gatepass.clock import SystemClock
from gatepass.config import Settings
from gatepass.crypto.passwords import Argon2Parameters, PasswordHasher
from gatepass.sessions.manager import SessionManager
from gatepass.sessions.policy import SessionPolicy
from gatepass.storage.backends import Backends
from tests.support import PASSWORD, log_in, post_form, sign_up

SESSION = "gp_session"
CSRF = "gp_csrf"
HOST_SESSION = "__Host-gp_session"

AppClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@dataclass(frozen=True)
class SetCookie:
    """One `Set-Cookie` header: name, value and attributes (names lower-cased)."""

    name: str
    value: str
    attributes: dict[str, str]

    def has(self, flag: str) -> bool:
        return flag.lower() in self.attributes


def set_cookies(response: httpx.Response) -> dict[str, SetCookie]:
    """The cookies a response sets, by name, parsed as a browser would."""
    found: dict[str, SetCookie] = {}
    for header in response.headers.get_list("set-cookie"):
        first, *rest = (part.strip() for part in header.split(";"))
        name, _, value = first.partition("=")
        attributes = {}
        for attribute in rest:
            key, _, val = attribute.partition("=")
            attributes[key.strip().lower()] = val.strip()
        found[name] = SetCookie(name, value.strip('"'), attributes)
    return found


def session_set_by(response: httpx.Response, name: str = SESSION) -> str:
    """The session secret a login or sign-up response hands to the browser."""
    cookies = set_cookies(response)
    assert name in cookies, f"no {name} cookie in {list(cookies)}"
    return cookies[name].value


def carrying(client: httpx.AsyncClient, value: str, name: str = SESSION) -> httpx.AsyncClient:
    """Make the client's jar hold exactly one cookie: `name=value` (a replayed or planted one)."""
    client.cookies.clear()
    client.cookies.set(name, value, domain=client.base_url.host)
    return client


async def is_signed_in(client: httpx.AsyncClient) -> bool:
    """True when /account shows the account; False when it sends the visitor to log in."""
    response = await client.get("/account")
    if response.status_code == 200:
        return True
    assert response.status_code == 303, response.status_code
    assert response.headers["location"].startswith("/login")
    return False


async def sign_up_as(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    """Sign up (which signs in) and return the session secret."""
    response = await sign_up(client, email, password)
    assert response.status_code == 303, response.text
    return session_set_by(response)


async def log_in_as(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    response = await log_in(client, email, password)
    assert response.status_code == 303, response.text
    return session_set_by(response)


async def log_out(client: httpx.AsyncClient) -> httpx.Response:
    response = await post_form(client, "/logout", {}, page="/account")
    assert response.status_code == 303
    return response


def assert_clean_error(response: httpx.Response, status: int) -> None:
    """A clear error page with the expected status: never a 500, never a traceback."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    body = response.text
    for leak in ("Traceback", 'File "', "Exception", "sqlalchemy", "redis.exceptions"):
        assert leak not in body, f"{leak!r} leaked into the error body"


@dataclass(frozen=True)
class Cores:
    """The cores the app uses, on the same storage: to look at and to administer."""

    accounts: Accounts
    sessions: SessionManager
    audit: AuditLog


@functools.cache
def _hasher() -> PasswordHasher:
    # Built once: each PasswordHasher hashes a dummy password when it is made.
    defaults = Settings()
    return PasswordHasher(
        Argon2Parameters(
            defaults.argon2_memory_kib, defaults.argon2_time_cost, defaults.argon2_parallelism
        )
    )


@pytest.fixture
def services(settings: Settings, backends: Backends) -> Cores:
    clock = SystemClock()
    policy = SessionPolicy(
        settings.session_idle_ttl, settings.session_absolute_ttl, settings.max_sessions_per_user
    )
    return Cores(
        accounts=Accounts(backends.users, _hasher(), clock),
        sessions=SessionManager(backends.sessions, policy, clock),
        audit=AuditLog(backends.audit, clock),
    )


@pytest.fixture
def second_device(settings: Settings, app_client: AppClient) -> AppClient:
    """Another browser on another address, against the same storage."""

    @asynccontextmanager
    async def make(
        address: str = "198.51.100.2", user_agent: str | None = None, **kwargs: Any
    ) -> AsyncIterator[httpx.AsyncClient]:
        async with app_client(settings, address=address, **kwargs) as other:
            if user_agent is not None:
                other.headers["user-agent"] = user_agent
            yield other

    return make


async def stored_session_data(backends: Backends, settings: Settings) -> list[str]:
    """Every key and value that session storage holds, as text (SQL rows and Redis keys)."""
    found: list[str] = []
    async with backends.engine.connect() as conn:
        for row in await conn.execute(text("SELECT * FROM sessions")):
            found.extend(str(value) for value in row)
    if backends.redis is not None:
        async for raw_key in backends.redis.scan_iter(match=f"{settings.redis_prefix}*"):
            key = raw_key.decode()
            found.append(key)
            kind = (await backends.redis.type(key)).decode()
            if kind == "string":
                found.append((await backends.redis.get(key)).decode())
            elif kind == "hash":
                for field, value in (await backends.redis.hgetall(key)).items():
                    found.extend((field.decode(), value.decode()))
    return found


async def count_users(backends: Backends) -> int:
    async with backends.engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM users"))).scalar_one())


async def run_cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, *argv: str) -> int:
    """Run the `gatepass` command against the same storage, as an operator would."""
    for name in [n for n in os.environ if n.startswith("GATEPASS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("GATEPASS_ISSUER", settings.issuer)
    monkeypatch.setenv("GATEPASS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("GATEPASS_REDIS_PREFIX", settings.redis_prefix)
    if settings.secret_key is not None:  # else the CLI would create ./gatepass.key here
        monkeypatch.setenv("GATEPASS_SECRET_KEY", settings.secret_key.reveal())
    if settings.redis_url is not None:
        monkeypatch.setenv("GATEPASS_REDIS_URL", settings.redis_url)
    # The command runs its own event loop, so it gets a thread of its own.
    return await asyncio.to_thread(cli.main, list(argv))
