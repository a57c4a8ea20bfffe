"""The services under test: a PostgreSQL database, a Redis prefix and a SQLite file of our own.

Everything created here is removed on the way out, and only loopback hosts are used.
"""

import asyncio
import os
import secrets
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
from redis.asyncio import Redis

from gatepass.accounts.model import User
from gatepass.clock import SystemClock
from gatepass.config import Secret, Settings
from gatepass.crypto.passwords import Argon2Parameters, PasswordHasher
from gatepass.errors import ConfigError
from gatepass.sessions.manager import SessionManager
from gatepass.sessions.policy import SessionPolicy
from gatepass.storage.backends import Backends, check_redis, open_backends, open_redis

POSTGRES_URL = os.environ.get(
    "GATEPASS_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("GATEPASS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
BACKENDS = ("sqlite", "postgres", "redis")
SEED_CONCURRENCY = 16

# The fixed workload: every figure in a run is measured against these sessions.
USERS = 50
SESSIONS_PER_USER = 6
PASSWORD = "correct horse battery staple"  # noqa: S105 - a benchmark fixture
ADDRESS = "203.0.113.7"
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


# The run's own master key: the signing keys and client secrets of a run are sealed under
# it, and no key file is ever read or created in the working directory.
_MASTER_KEY = Secret(secrets.token_urlsafe(32))


def master_key() -> Secret:
    return _MASTER_KEY


class BenchError(Exception):
    """A one-line reason the benchmark cannot run (e.g. a service is down)."""


def require_loopback(url: str, variable: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK:
        raise BenchError(f"{variable}: the benchmark only targets 127.0.0.1, not {host!r}")


@dataclass
class Stack:
    """One backend configured as gatepass would run it, with its fixed workload."""

    name: str
    settings: Settings
    backends: Backends
    manager: SessionManager
    hasher: PasswordHasher
    user_ids: list[str]
    secrets: list[str]  # cookie values of live sessions
    session_ids: list[str]  # their digests, i.e. the storage keys


def argon2_parameters(settings: Settings) -> Argon2Parameters:
    return Argon2Parameters(
        settings.argon2_memory_kib, settings.argon2_time_cost, settings.argon2_parallelism
    )


def manager_for(settings: Settings, backends: Backends) -> SessionManager:
    policy = SessionPolicy(
        settings.session_idle_ttl, settings.session_absolute_ttl, settings.max_sessions_per_user
    )
    return SessionManager(backends.sessions, policy, SystemClock())


async def _admin(statement: str) -> None:
    try:
        conn = await asyncpg.connect(POSTGRES_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        raise BenchError(f"GATEPASS_BENCH_POSTGRES_URL: cannot connect: {exc}") from None
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A database of this run's own (`gatepass_bench_<random>`), dropped at the end."""
    name = f"gatepass_bench_{secrets.token_hex(6)}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def delete_prefix(client: Redis, prefix: str) -> int:
    keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
    if keys:
        await client.delete(*keys)
    return len(keys)


async def _seed(name: str, settings: Settings, backends: Backends, hasher: PasswordHasher) -> Stack:
    """USERS users with SESSIONS_PER_USER sessions each, started by SessionManager.start."""
    manager = manager_for(settings, backends)
    password_hash = hasher.hash_sync(PASSWORD)  # one hash for all: sign-up is not measured
    now = time.time()
    users = [
        User(str(uuid.uuid4()), f"user{n}@bench.example", "", password_hash, False, now, now)
        for n in range(USERS)
    ]
    stack = Stack(name, settings, backends, manager, hasher, [u.id for u in users], [], [])
    # SQLite has one writer at a time; concurrent logins there only queue (or time out).
    gate = asyncio.Semaphore(1 if backends.engine.dialect.name == "sqlite" else SEED_CONCURRENCY)

    async def seed(user: User) -> None:
        async with gate:
            await backends.users.add(user)
            for _ in range(SESSIONS_PER_USER):
                started = await manager.start(user.id, ADDRESS, USER_AGENT)
                stack.secrets.append(started.secret)
                stack.session_ids.append(started.session.id)

    await asyncio.gather(*(seed(user) for user in users))
    return stack


@asynccontextmanager
async def open_stack(
    name: str, postgres_url: str, workdir: Path, prefix: str
) -> AsyncIterator[Stack]:
    """Open one backend with gatepass's own `open_backends` and seed the workload."""
    database_url = postgres_url if name == "postgres" else f"sqlite:///{workdir}/{name}.db"
    settings = Settings(
        database_url=database_url,
        redis_url=REDIS_URL if name == "redis" else None,
        redis_prefix=prefix,
        secret_key=master_key(),
    )
    backends = await open_backends(settings, migrate=True)
    try:
        hasher = PasswordHasher(argon2_parameters(settings))
        yield await _seed(name, settings, backends, hasher)
    finally:
        if backends.redis is not None:
            await delete_prefix(backends.redis, prefix)
        await backends.close()


@asynccontextmanager
async def services() -> AsyncIterator[tuple[str, Path, str]]:
    """(PostgreSQL URL, SQLite directory, Redis key prefix), all removed at the end."""
    require_loopback(REDIS_URL, "GATEPASS_BENCH_REDIS_URL")
    require_loopback(POSTGRES_URL, "GATEPASS_BENCH_POSTGRES_URL")
    client = open_redis(REDIS_URL)  # fail before any work when Redis is not there
    try:
        await check_redis(client, REDIS_URL)
    except ConfigError as exc:
        reason = str(exc).removeprefix(f"{exc.setting}: ")
        raise BenchError(f"GATEPASS_BENCH_REDIS_URL: {reason}") from None
    finally:
        await client.aclose()
    prefix = f"gpbench:{secrets.token_hex(4)}:"
    with tempfile.TemporaryDirectory(prefix="gatepass-bench-") as workdir:
        async with postgres_database() as postgres_url:
            yield postgres_url, Path(workdir), prefix
