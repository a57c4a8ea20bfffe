"""Fixtures: every backend for real (SQLite, PostgreSQL, Redis), nothing mocked.

A missing PostgreSQL or Redis fails the run; a skipped test fails it too.
"""

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from gatepass.clock import FixedClock
from gatepass.config import Settings
from gatepass.storage.backends import Backends
from gatepass.storage.sql.engine import create_engine
from gatepass.storage.sql.migrate import upgrade
from tests.support import (
    BACKENDS,
    POSTGRES_ADMIN_URL,
    settings_for,
    test_backends,
    web_client,
)

# Files the server creates in its working directory: a test must never leave them in
# the checkout (they would be a real master key and database nobody asked for).
# (and "mail": the development mail folder, when no SMTP server is configured)
STRAY_FILES = ("gatepass.key", "gatepass.db", "mail")
ROOT = Path(__file__).parents[1]
_present = pytest.StashKey[set[str]]()


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_present] = {n for n in STRAY_FILES if (ROOT / n).exists()}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.stats.get("skipped"):
        reporter.write_line("FAILED: tests were skipped; every backend must run.", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    before = session.config.stash.get(_present, set())
    stray = [n for n in STRAY_FILES if (ROOT / n).exists() and n not in before]
    if reporter is not None and stray:
        reporter.write_line(f"FAILED: tests created {stray} in the checkout.", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


async def _admin(statement: str) -> None:
    conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this test run's own, migrated once, dropped at the end."""
    name = f"gatepass_test_{secrets.token_hex(6)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    async def migrate() -> None:
        engine = create_engine(url)
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(migrate())
    yield url
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def redis_prefix() -> str:
    return f"gptest:{secrets.token_hex(6)}:"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def make_settings(
    backend: str, tmp_path: Path, postgres_url: str, redis_prefix: str
) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        return settings_for(backend, tmp_path, postgres_url, redis_prefix, **overrides)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
async def backends(settings: Settings) -> AsyncIterator[Backends]:
    async with test_backends(settings) as opened:
        yield opened


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
async def client(settings: Settings, backends: Backends) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client against the real app on the current backend."""
    async with web_client(settings, backends) as http:
        yield http


@pytest.fixture
def app_client(
    backends: Backends,
) -> Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]:
    """Another client on the same backends, e.g. a second device or another address."""

    def make(settings: Settings, **kwargs: Any) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        return web_client(settings, backends, **kwargs)

    return make
