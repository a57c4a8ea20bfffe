"""A backend that is down fails closed: 503 with Retry-After, never 500, never anonymous.

SECURITY.md decision 3.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import httpx

from gatepass.config import Settings
from gatepass.crypto.secrets import new_secret
from gatepass.storage.backends import Backends, open_redis
from gatepass.storage.redis.sessions import RedisSessionStore
from gatepass.storage.redis.throttle import RedisThrottleStore
from gatepass.storage.sql.audit import SqlAuditStore
from gatepass.storage.sql.engine import create_engine
from gatepass.storage.sql.sessions import SqlSessionStore
from gatepass.storage.sql.throttle import SqlThrottleStore
from gatepass.storage.sql.users import SqlUserStore
from tests.support import PASSWORD, csrf_of, web_client
from tests.web.conftest import SESSION, assert_clean_error, carrying, sign_up_as

NOWHERE = "127.0.0.1:1"  # nothing listens on port 1


def _assert_unavailable(response: httpx.Response) -> None:
    assert_clean_error(response, 503)
    assert int(response.headers["retry-after"]) > 0


@asynccontextmanager
async def _redis_down(settings: Settings, backends: Backends) -> AsyncIterator[Backends]:
    dead = open_redis(f"redis://{NOWHERE}/0")
    try:
        yield replace(
            backends,
            redis=dead,
            sessions=RedisSessionStore(dead, settings.redis_prefix, settings.session_absolute_ttl),
            throttle=RedisThrottleStore(dead, settings.redis_prefix),
            sweepers=[],
        )
    finally:
        await dead.aclose()


@asynccontextmanager
async def _database_down(backends: Backends) -> AsyncIterator[Backends]:
    dead = create_engine(f"postgresql://gatepass@{NOWHERE}/gatepass")
    sql_backed = backends.redis is None
    try:
        yield replace(
            backends,
            engine=dead,
            users=SqlUserStore(dead),
            audit=SqlAuditStore(dead),
            sessions=SqlSessionStore(dead) if sql_backed else backends.sessions,
            throttle=SqlThrottleStore(dead) if sql_backed else backends.throttle,
            sweepers=[],
        )
    finally:
        await dead.dispose()


async def test_redis_down_fails_closed_for_session_checks__security_decision_3(
    settings: Settings, backends: Backends
) -> None:
    async with (
        _redis_down(settings, backends) as down,
        web_client(settings, down) as client,
    ):
        # A page that needs no storage still answers...
        token = csrf_of((await client.get("/login")).text)
        # ...but a session cookie is neither honoured nor ignored: 503.
        cookie = {"cookie": f"{SESSION}={new_secret()}"}
        for path in ("/account", "/", "/logout"):
            _assert_unavailable(await client.get(path, headers=cookie))
        health = await client.get("/readyz")
        assert health.status_code == 503
        assert health.json()["checks"]["redis"] == "unavailable"
        login = await client.post(
            "/login", data={"csrf_token": token, "email": "ada@example.com", "password": PASSWORD}
        )
        _assert_unavailable(login)
        assert SESSION not in login.headers.get("set-cookie", "")


async def test_database_down_fails_closed__security_decision_3(
    client: httpx.AsyncClient, settings: Settings, backends: Backends
) -> None:
    secret = await sign_up_as(client, "ada@example.com")
    async with _database_down(backends) as down, web_client(settings, down) as broken:
        token = csrf_of((await broken.get("/login")).text)
        login = await broken.post(
            "/login", data={"csrf_token": token, "email": "ada@example.com", "password": PASSWORD}
        )
        _assert_unavailable(login)
        _assert_unavailable(await carrying(broken, secret).get("/account"))
        assert (await broken.get("/readyz")).status_code == 503
    # Back up, the same session works again: the outage ended nothing by accident.
    assert (await client.get("/account")).status_code == 200
