"""Shared test helpers: settings per backend, real stores, and a signed-in web client."""

import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from redis.asyncio import Redis
from sqlalchemy import text

from gatepass.clock import Clock
from gatepass.config import Secret, Settings
from gatepass.storage.backends import Backends, open_backends
from gatepass.tokens.revocation_event import RevocationKind
from gatepass.web.app import create_app

POSTGRES_ADMIN_URL = os.environ.get(
    "GATEPASS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("GATEPASS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BACKENDS = ("sqlite", "postgres", "redis")
ISSUER = "http://127.0.0.1:8000"
PASSWORD = "correct horse battery staple"
# A fixed master key, so tests never read or create a key file in the working directory.
SECRET_KEY = "dGVzdCBtYXN0ZXIga2V5IC0gbmV2ZXIgdXNlIGluIHByb2R1Y3Rpb24h"
TABLES = (
    "sessions",
    "throttle_hits",
    "audit_events",
    "users",
    "signing_keys",
    "clients",
    "authorization_codes",
    "consents",
    "revocations",
    "refresh_tokens",
    "token_families",
    "upstream_providers",
    "user_identities",
    "account_links",
    "totp_factors",
    "recovery_codes",
    "passkeys",
)


def settings_for(
    backend: str, tmp_path: Path, postgres_url: str, redis_prefix: str, **overrides: Any
) -> Settings:
    """Settings that put SQL on SQLite or PostgreSQL, and sessions on Redis for 'redis'."""
    database_url = postgres_url if backend == "postgres" else f"sqlite:///{tmp_path}/test.db"
    settings = Settings(
        issuer=ISSUER,
        database_url=database_url,
        redis_url=REDIS_URL if backend == "redis" else None,
        redis_prefix=redis_prefix,
        secret_key=Secret(SECRET_KEY),
        # Mail without an SMTP server is written here, never into the checkout.
        mail_folder=str(tmp_path / "mail"),
    )
    return replace(settings, **overrides)


async def wipe(backends: Backends, settings: Settings) -> None:
    """Leave nothing behind: empty the PostgreSQL tables, delete this run's Redis keys."""
    if backends.engine.dialect.name == "postgresql":
        async with backends.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
    if backends.redis is not None:
        await delete_prefix(backends.redis, settings.redis_prefix)


async def grant_revoked(backends: Backends, grant_id: str, now: float) -> bool:
    """Whether the revocation log holds `grant_id` as a grant revoked at `now`."""
    return bool(await backends.revocations.find([(RevocationKind.GRANT, grant_id)], now))


async def delete_prefix(client: Redis, prefix: str) -> None:
    keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
    if keys:
        await client.delete(*keys)


@asynccontextmanager
async def test_backends(settings: Settings) -> AsyncIterator[Backends]:
    backends = await open_backends(settings, migrate=True)
    try:
        await wipe(backends, settings)
        yield backends
    finally:
        await wipe(backends, settings)
        await backends.close()


@asynccontextmanager
async def web_client(
    settings: Settings,
    backends: Backends,
    clock: Clock | None = None,
    address: str = "127.0.0.1",
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to the real app in-process, lifespan included."""
    app = create_app(settings, backends=backends, clock=clock)
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=settings.issuer) as client,
    ):
        yield client


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def metric_value(exposition: str, series: str) -> float:
    """The value of one series (name and labels, as /metrics writes them), 0 when absent."""
    for line in exposition.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match is not None, "the page has no CSRF token"
    return match.group(1)


async def post_form(
    client: httpx.AsyncClient, path: str, data: dict[str, str], *, page: str | None = None
) -> httpx.Response:
    """GET the form's page for a fresh CSRF token, then POST the form like a browser."""
    html = (await client.get(page or path)).text
    return await client.post(path, data={"csrf_token": csrf_of(html), **data})


async def sign_up(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, name: str = "Test User"
) -> httpx.Response:
    return await post_form(client, "/signup", {"email": email, "password": password, "name": name})


async def log_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await post_form(client, "/login", {"email": email, "password": password})


async def assert_scratch_removed(redis_prefix: str, database: str) -> None:
    """Nothing left of a run's scratch stores: no key under its Redis prefix, no database."""
    client = Redis.from_url(REDIS_URL)
    try:
        left = [key async for key in client.scan_iter(match=f"{redis_prefix}*")]
    finally:
        await client.aclose()
    assert left == []
    conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        query = "SELECT count(*) FROM pg_database WHERE datname = $1"
        assert await conn.fetchval(query, database) == 0
    finally:
        await conn.close()
