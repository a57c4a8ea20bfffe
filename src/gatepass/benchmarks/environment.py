"""The services under test, from the configured settings: a SQLite file of the run's own
(always), a PostgreSQL database of its own on the configured server (when `database_url` is
PostgreSQL), and a Redis key prefix of its own on the configured Redis (when `redis_url` is
set). Everything created here is removed on the way out; the user's data is never read.
"""

import asyncio
import secrets
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from gatepass.accounts.model import User
from gatepass.clock import SystemClock
from gatepass.config import Secret, Settings
from gatepass.crypto.passwords import Argon2Parameters, PasswordHasher
from gatepass.errors import ConfigError
from gatepass.redis_connect import RedisClient
from gatepass.sessions.manager import SessionManager
from gatepass.sessions.policy import SessionPolicy
from gatepass.storage.backends import Backends, check_redis, open_backends, open_redis
from gatepass.storage.sql.engine import create_engine

SEED_CONCURRENCY = 16

# The fixed workload: every figure in a run is measured against these sessions.
USERS = 50
SESSIONS_PER_USER = 6
LOGINS_PER_ADDRESS = 100_000
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


@dataclass(frozen=True)
class Targets:
    """What a run measures: its own SQLite file, PostgreSQL database and Redis prefix."""

    workdir: Path
    postgres_url: str | None  # the run's own database, or None: PostgreSQL not configured
    redis_url: str | None  # the configured Redis, or None
    prefix: str  # every Redis key of the run starts with it; deleted at the end
    argon2: Argon2Parameters  # the configured ones: a login costs what it costs in production

    @property
    def backends(self) -> tuple[str, ...]:
        """ "sqlite" always (embedded, costs nothing), then what the settings configure;
        "redis" keeps sessions, codes and throttles in Redis and the records in the run's
        PostgreSQL database when there is one (as the configured server would), else in
        its SQLite."""
        names = ["sqlite"]
        if self.postgres_url is not None:
            names.append("postgres")
        if self.redis_url is not None:
            names.append("redis")
        return tuple(names)


async def _admin(server_url: str, statement: str) -> None:
    """CREATE or DROP DATABASE on the configured server (outside a transaction)."""
    engine = create_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    except (OSError, SQLAlchemyError) as exc:
        raise BenchError(f"database_url: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    finally:
        await engine.dispose()


@asynccontextmanager
async def postgres_database(server_url: str) -> AsyncIterator[str]:
    """A database of this run's own (`gatepass_bench_<random>`) on the configured server,
    dropped at the end; the configured database itself is never opened for data."""
    name = f"gatepass_bench_{secrets.token_hex(6)}"
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def delete_prefix(client: RedisClient, prefix: str) -> int:
    keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
    for start in range(0, len(keys), 10_000):  # up to a million live sessions: in chunks
        await client.delete(*keys[start : start + 10_000])
    return len(keys)


def email(stack_name: str, n: int) -> str:
    """The address of the stack's n-th user: stacks may share a database."""
    return f"user{n}@{stack_name}.bench.example"


async def _seed(name: str, settings: Settings, backends: Backends, hasher: PasswordHasher) -> Stack:
    """USERS users with SESSIONS_PER_USER sessions each, started by SessionManager.start."""
    manager = manager_for(settings, backends)
    password_hash = hasher.hash_sync(PASSWORD)  # one hash for all: sign-up is not measured
    now = time.time()
    users = [
        User(str(uuid.uuid4()), email(name, n), "", password_hash, False, now, now)
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
async def open_stack(name: str, targets: Targets) -> AsyncIterator[Stack]:
    """Open one backend with gatepass's own `open_backends` and seed the workload."""
    database_url = targets.postgres_url if name in ("postgres", "redis") else None
    settings = Settings(
        database_url=database_url or f"sqlite:///{targets.workdir}/{name}.db",
        redis_url=targets.redis_url if name == "redis" else None,
        redis_prefix=targets.prefix,
        secret_key=master_key(),
        argon2_memory_kib=targets.argon2.memory_kib,
        argon2_time_cost=targets.argon2.time_cost,
        argon2_parallelism=targets.argon2.parallelism,
        # Every login of a run comes from 127.0.0.1, the login storm's too (under_load.py).
        login_address_limit=LOGINS_PER_ADDRESS,
    )
    backends = await open_backends(settings, migrate=True)
    try:
        hasher = PasswordHasher(argon2_parameters(settings))
        yield await _seed(name, settings, backends, hasher)
    finally:
        await backends.close()
        if settings.redis_url is not None:  # a client of its own: the store's may be spent
            cleaner = open_redis(settings.redis_url)
            try:
                await delete_prefix(cleaner, targets.prefix)
            finally:
                await cleaner.aclose()


def _is_postgres(url: str) -> bool:
    return url.split(":", 1)[0].split("+")[0] in ("postgresql", "postgres")


async def _check_redis(url: str) -> None:
    client = open_redis(url)  # fail before any work when Redis is not there
    try:
        await check_redis(client, url)
    except ConfigError as exc:
        reason = str(exc).removeprefix(f"{exc.setting}: ")
        raise BenchError(f"redis_url: {reason}") from None
    finally:
        await client.aclose()


@asynccontextmanager
async def services(configured: Settings) -> AsyncIterator[Targets]:
    """The run's own SQLite directory, PostgreSQL database and Redis prefix, from the
    configured `database_url` and `redis_url`; all removed at the end."""
    if configured.redis_url is not None:
        await _check_redis(configured.redis_url)
    prefix = f"gpbench:{secrets.token_hex(4)}:"
    argon2 = argon2_parameters(configured)
    with tempfile.TemporaryDirectory(prefix="gatepass-bench-") as workdir:
        if not _is_postgres(configured.database_url):
            yield Targets(Path(workdir), None, configured.redis_url, prefix, argon2)
            return
        async with postgres_database(configured.database_url) as postgres_url:
            yield Targets(Path(workdir), postgres_url, configured.redis_url, prefix, argon2)
