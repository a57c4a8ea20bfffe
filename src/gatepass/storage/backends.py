"""Open the stores that the configuration names: SQL always, Redis when configured."""

from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from redis.asyncio import RedisCluster
from redis.exceptions import RedisClusterException, RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from gatepass.accounts.link_store import AccountLinkStore
from gatepass.accounts.store import UserStore
from gatepass.audit.store import AuditStore
from gatepass.config import Settings
from gatepass.errors import ConfigError
from gatepass.federation.store import IdentityStore, ProviderStore
from gatepass.keys.store import SigningKeyStore
from gatepass.oauth.code_store import AuthorizationCodeStore
from gatepass.oauth.consent_store import ConsentStore
from gatepass.oauth.store import ClientStore
from gatepass.redis_connect import RedisClient, close_client, open_client, parse_redis_url
from gatepass.sessions.store import SessionStore
from gatepass.storage.redis.codes import RedisAuthorizationCodeStore
from gatepass.storage.redis.revocation_feed import RedisRevocationFeed
from gatepass.storage.redis.sessions import RedisSessionStore
from gatepass.storage.redis.throttle import RedisThrottleStore
from gatepass.storage.sql.account_links import SqlAccountLinkStore
from gatepass.storage.sql.audit import SqlAuditStore
from gatepass.storage.sql.clients import SqlClientStore
from gatepass.storage.sql.codes import SqlAuthorizationCodeStore
from gatepass.storage.sql.consents import SqlConsentStore
from gatepass.storage.sql.engine import check_connection, create_engine
from gatepass.storage.sql.federation import SqlIdentityStore, SqlProviderStore
from gatepass.storage.sql.migrate import pending, upgrade
from gatepass.storage.sql.revocations import SqlRevocationStore
from gatepass.storage.sql.sessions import SqlSessionStore
from gatepass.storage.sql.signing_keys import SqlSigningKeyStore
from gatepass.storage.sql.throttle import SqlThrottleStore
from gatepass.storage.sql.token_families import SqlTokenFamilyStore
from gatepass.storage.sql.users import SqlUserStore
from gatepass.throttle.store import ThrottleStore
from gatepass.tokens.revocation import NoFeed
from gatepass.tokens.store import RevocationFeed, RevocationStore, TokenFamilyStore

REDIS_SETTING = "GATEPASS_REDIS_URL"
REDIS_TIMEOUT_SECONDS = 2.0


class Sweeper(Protocol):
    """A SQL store that judges expiry on read and deletes what expired when asked."""

    async def sweep(self, now: float) -> int: ...


@dataclass
class Backends:
    engine: AsyncEngine
    users: UserStore
    sessions: SessionStore
    throttle: ThrottleStore
    audit: AuditStore
    clients: ClientStore
    signing_keys: SigningKeyStore
    codes: AuthorizationCodeStore
    consents: ConsentStore  # durable: SQL whatever holds the sessions
    revocations: RevocationStore  # durable too (SECURITY.md decision 6)
    families: TokenFamilyStore  # durable: a Redis crash must not revive a revoked family
    providers: ProviderStore  # upstream providers added by the CLI (federation)
    identities: IdentityStore  # upstream identities linked to users
    account_links: AccountLinkStore  # mailed single-use links (accounts/links.py)
    redis: RedisClient | None = None
    # Announces what `revocations` records: Redis pub/sub and stream, or nothing.
    revocation_feed: RevocationFeed = field(default_factory=NoFeed)
    sweepers: list[Sweeper] = field(default_factory=list)

    async def health(self) -> dict[str, str]:
        """ "ok" or "unavailable" per backend; reasons are not for the public."""
        checks: dict[str, str] = {}
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except (SQLAlchemyError, OSError):
            checks["database"] = "unavailable"
        if self.redis is not None:
            try:
                await ping(self.redis)
                checks["redis"] = "ok"
            except (RedisError, RedisClusterException, OSError):
                checks["redis"] = "unavailable"
        return checks

    async def sweep(self, now: float) -> int:
        """Delete expired SQL sessions, throttle records and codes (Redis expires its own)."""
        return sum([await store.sweep(now) for store in self.sweepers])

    async def close(self) -> None:
        if self.redis is not None:
            await close_client(self.redis)
        await self.engine.dispose()


def open_redis(url: str) -> RedisClient:
    """A standalone, Sentinel or Cluster client (redis_connect.py); pools as docs/redis.md."""
    try:
        return open_client(
            url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            health_check_interval=30,
        )
    except ValueError as exc:
        raise ConfigError(REDIS_SETTING, f"malformed URL: {exc}") from None


async def ping(client: RedisClient) -> None:
    """PING the server, or every master of a cluster: ready means every slot is served."""
    if isinstance(client, RedisCluster):
        await client.ping(target_nodes=RedisCluster.PRIMARIES)
    else:
        await client.ping()


async def check_redis(client: RedisClient, url: str) -> None:
    try:
        await ping(client)
    except (RedisError, RedisClusterException, OSError) as exc:
        target = parse_redis_url(url)
        hosts = ",".join(f"{host}:{port}" for host, port in target.hosts)
        where = hosts or urlsplit(url).hostname or url
        raise ConfigError(REDIS_SETTING, f"cannot connect to {where}: {exc}") from None


async def open_backends(settings: Settings, *, migrate: bool = False) -> Backends:
    """Connect (failing with one line that names the setting) and build every store.

    With `migrate`, the schema is brought up to date first; otherwise a database
    that lags the code is refused with a hint to run `gatepass migrate`.
    """
    engine = create_engine(settings.database_url)
    await check_connection(engine, settings.database_url)
    if migrate:
        await upgrade(engine)
    elif await pending(engine):
        await engine.dispose()
        raise ConfigError("GATEPASS_DATABASE_URL", "schema is out of date; run `gatepass migrate`")
    sql_sessions, sql_throttle = SqlSessionStore(engine), SqlThrottleStore(engine)
    sql_codes = SqlAuthorizationCodeStore(engine)
    sql_revocations = SqlRevocationStore(engine)
    sql_families = SqlTokenFamilyStore(engine)
    sql_links = SqlAccountLinkStore(engine)
    backends = Backends(
        engine=engine,
        users=SqlUserStore(engine),
        sessions=sql_sessions,
        throttle=sql_throttle,
        audit=SqlAuditStore(engine),
        clients=SqlClientStore(engine),
        signing_keys=SqlSigningKeyStore(engine),
        codes=sql_codes,
        consents=SqlConsentStore(engine),
        revocations=sql_revocations,
        families=sql_families,
        providers=SqlProviderStore(engine),
        identities=SqlIdentityStore(engine),
        account_links=sql_links,
        sweepers=[
            sql_sessions,
            sql_throttle,
            sql_codes,
            sql_revocations,
            sql_families,
            sql_links,
        ],
    )
    if settings.redis_url is not None:
        client = open_redis(settings.redis_url)
        try:
            await check_redis(client, settings.redis_url)
        except ConfigError:
            await close_client(client)
            await engine.dispose()
            raise
        backends.redis = client
        backends.sessions = RedisSessionStore(
            client, settings.redis_prefix, settings.session_absolute_ttl
        )
        backends.throttle = RedisThrottleStore(client, settings.redis_prefix)
        backends.codes = RedisAuthorizationCodeStore(client, settings.redis_prefix)
        backends.revocation_feed = RedisRevocationFeed(client, settings.redis_prefix)
        # Redis expires its own; these stay in SQL.
        backends.sweepers = [sql_revocations, sql_families, sql_links]
    return backends
