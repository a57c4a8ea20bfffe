"""Sessions for apps on gatepass's site: the session cookie checked against gatepass's store.

    cookie value ─► shape check ─► digest ─► read and slide, one round trip:
                                               Redis  GETEX <prefix>s:<digest> EX idle
                                               SQL    UPDATE sessions ... RETURNING
                ─► absolute end passed? delete the record, as the server does
                ─► VerifiedSession(user_id, session_id, created_at, expires_at)
       anything else ─► SessionRejected (401)   store down ─► SessionStoreUnavailable (503)

An app served from the same site as gatepass (so the browser sends it gatepass's cookie)
learns who is signed in without a call to gatepass: it reads the very record the identity
server reads, with the same rules (sessions/manager.py `resume`, storage/*/sessions.py
`touch`). A request here counts as activity exactly as one at gatepass does: the idle
expiry slides to now + `idle_ttl`. Logout, "log out everywhere", a disabled or deleted
user all delete the records, so the next request here is refused.

The layering keeps this module apart from the server's storage code, so the read path is
written again here, small: the Redis hot record `user_id|created_at|absolute_expires_at`
(whole seconds), and the SQL `sessions` table in session_sql.py. Both are part of
gatepass's storage layout; tests/resource/test_sessions.py reads sessions the real
server created, so a change on either side that breaks the other fails there.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import ClassVar, Protocol
from urllib.parse import urlsplit

from redis.exceptions import RedisClusterException, RedisError

from gatepass.clock import Clock, SystemClock
from gatepass.crypto.secrets import digest, looks_like_secret
from gatepass.errors import ConfigError
from gatepass.redis_connect import close_client, open_client
from gatepass.resource.errors import RETRY_AFTER_SECONDS, Challenge, ResourceError
from gatepass.tokens.bearer import NO_STORE

DEFAULT_IDLE_TTL = 1800  # GATEPASS_SESSION_IDLE_TTL's default
STORE_TIMEOUT_SECONDS = 2.0
SQLITE_BUSY_TIMEOUT_SECONDS = 5.0
# Down, timing out, or not gatepass's store (no table, a key of another type): all answer
# 503 and a log line, never a 500 and never a guess.
_REDIS_DOWN = (RedisError, RedisClusterException, OSError)
log = logging.getLogger("gatepass.resource.sessions")


@dataclass(frozen=True)
class VerifiedSession:
    """A live gatepass session, as of the request that presented it."""

    user_id: str
    session_id: str  # digest of the cookie: a safe handle, the `sid` of gatepass's id tokens
    created_at: float  # the login
    expires_at: float  # when it ends unless used again: idle expiry or absolute end, earlier


class SessionRejected(ResourceError):
    """No live session: no cookie, a malformed or unknown one, idle or absolute end passed.

    One error for every reason, so a caller learns nothing about a guessed cookie; the
    reason is in `debug`, for logs only. A session cookie has no standard HTTP
    authentication scheme; the challenge borrows the `Cookie` scheme of
    draft-broyer-http-cookie-auth, since RFC 9110 §15.5.2 requires a 401 to carry one.
    """

    status_code: ClassVar[int] = 401
    error: ClassVar[str] = "login_required"

    def __init__(self, debug: str = "", *, cookie_name: str = "gp_session") -> None:
        super().__init__("no live session")
        self.debug = debug
        self.cookie_name = cookie_name

    def challenge(self, realm: str | None = None) -> Challenge:
        params = {} if realm is None else {"realm": realm}
        params["cookie-name"] = self.cookie_name
        www = "Cookie " + ", ".join(f'{k}="{_quotable(v)}"' for k, v in params.items())
        return self.status_code, {**NO_STORE, "WWW-Authenticate": www}, {"error": self.error}


class SessionStoreUnavailable(ResourceError):
    """The session store (Redis or SQL) cannot answer now: 503, never a guess
    (SECURITY.md decision 3: session checks fail closed)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def challenge(self, realm: str | None = None) -> Challenge:
        headers = {**NO_STORE, "Retry-After": str(RETRY_AFTER_SECONDS)}
        body = {
            "error": "temporarily_unavailable",
            "error_description": "The service cannot check credentials right now.",
        }
        return 503, headers, body


def _quotable(value: str) -> str:
    return "".join(c for c in value if c.isprintable() and c not in '"\\' and c.isascii())


def unavailable(store: str, exc: BaseException) -> SessionStoreUnavailable:
    first_line = (str(exc).splitlines() or [""])[0]
    reason = f"{store}: {exc.__class__.__name__}: {first_line}"[:300]
    log.warning("session store unavailable: %s", reason)
    return SessionStoreUnavailable(reason)


@dataclass(frozen=True)
class Record:
    user_id: str
    created_at: float
    absolute_expires_at: float


class _Reader(Protocol):
    """The read path of one store: `touch` checks the idle expiry and slides it."""

    async def touch(self, session_id: str, now: float, idle_seconds: int) -> Record | None: ...

    async def delete(self, session_id: str, user_id: str) -> None: ...

    async def aclose(self) -> None: ...


class _RedisReader:
    """`<prefix>s:<digest>` holds `user_id|created_at|absolute_expires_at`, TTL = idle."""

    def __init__(self, url: str, prefix: str) -> None:
        try:  # one server, Sentinel or Cluster: the server's URL forms (docs/redis.md)
            self._redis = open_client(
                url,
                socket_timeout=STORE_TIMEOUT_SECONDS,
                socket_connect_timeout=STORE_TIMEOUT_SECONDS,
                health_check_interval=30,
            )
        except ValueError as exc:
            raise ConfigError("redis_url", f"malformed URL: {exc}") from None
        self._prefix = prefix

    async def touch(self, session_id: str, now: float, idle_seconds: int) -> Record | None:
        try:
            # Check and slide in one round trip, the command as RedisSessionStore.touch
            # sends it (its comment: why not getex(), why bytes).
            key = f"{self._prefix}s:{session_id}"
            raw = await self._redis.execute_command("GETEX", key, b"EX", b"%d" % idle_seconds)
        except _REDIS_DOWN as exc:
            raise unavailable("redis", exc) from exc
        return None if raw is None else _decode_hot(raw)

    async def delete(self, session_id: str, user_id: str) -> None:
        try:  # two slots on a cluster: no transaction, and none needed
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.delete(f"{self._prefix}s:{session_id}")
                pipe.hdel(f"{self._prefix}u:{user_id}", session_id)  # the user's listing
                await pipe.execute()
        except _REDIS_DOWN as exc:
            raise unavailable("redis", exc) from exc

    async def aclose(self) -> None:
        await close_client(self._redis)


def _decode_hot(raw: bytes | str) -> Record | None:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    parts = text.split("|")
    if len(parts) < 3:  # fields beyond the first three (how the user signed in) are not ours
        return None
    try:
        return Record(parts[0], float(parts[1]), float(parts[2]))
    except ValueError:
        return None


class SessionVerifier:
    """Turns gatepass's session cookie into a `VerifiedSession`, or raises `SessionRejected`.

    Configure it like the identity server: `redis_url` + `redis_prefix` when the server has
    Redis (its sessions live there), else `database_url`; `issuer` picks the cookie name
    (`__Host-gp_session` on https, `gp_session` on loopback http); `idle_ttl` must equal
    the server's `GATEPASS_SESSION_IDLE_TTL`, since every verify slides the idle expiry
    to now + `idle_ttl`. The absolute end is recorded in each session at login, so the
    server's applies; `absolute_ttl` may only make it stricter for this app (such
    sessions are refused here, not ended).
    """

    def __init__(
        self,
        *,
        issuer: str,
        database_url: str | None = None,
        redis_url: str | None = None,
        redis_prefix: str = "gp:",
        idle_ttl: int = DEFAULT_IDLE_TTL,
        absolute_ttl: int | None = None,
        clock: Clock | None = None,
    ) -> None:
        if idle_ttl < 1 or (absolute_ttl is not None and absolute_ttl < 1):
            raise ConfigError("idle_ttl", "session lifetimes are positive seconds")
        scheme = urlsplit(issuer).scheme
        if scheme not in ("https", "http"):
            raise ConfigError("issuer", "an http(s) URL")
        self.cookie_name = "__Host-gp_session" if scheme == "https" else "gp_session"
        self._reader: _Reader
        if redis_url is not None:
            self._reader = _RedisReader(redis_url, redis_prefix)
        elif database_url is not None:
            # Imported here: SQLAlchemy takes about 0.2 s to import, which an app that
            # verifies tokens alone, or reads sessions from Redis, need not pay.
            from gatepass.resource.session_sql import SqlReader

            self._reader = SqlReader(database_url)
        else:
            raise ConfigError("database_url", "set redis_url (with redis_prefix) or database_url")
        self._idle = idle_ttl
        self._absolute = absolute_ttl
        self._clock = clock or SystemClock()

    async def verify(self, secret: str | None) -> VerifiedSession:
        """The live session named by a session cookie's value; slides its idle expiry."""
        if not secret or not isinstance(secret, str):
            raise self._rejected("no session cookie")
        if not looks_like_secret(secret):
            raise self._rejected("malformed session cookie")  # garbage never reaches storage
        session_id = digest(secret)
        now = self._clock.now()
        record = await self._reader.touch(session_id, now, self._idle)
        if record is None:
            raise self._rejected("unknown, ended or idle session")
        if now >= record.absolute_expires_at:
            # The server's SessionManager.resume deletes it too (not a revocation: a timeout).
            await self._reader.delete(session_id, record.user_id)
            raise self._rejected("absolute lifetime over")
        ends_at = record.absolute_expires_at
        if self._absolute is not None:
            ends_at = min(ends_at, record.created_at + self._absolute)
            if now >= ends_at:
                raise self._rejected("older than this app's absolute_ttl")
        expires_at = min(now + self._idle, ends_at)
        return VerifiedSession(record.user_id, session_id, record.created_at, expires_at)

    async def verify_cookies(self, cookies: Mapping[str, str]) -> VerifiedSession:
        """`verify` on the session cookie among a request's parsed cookies."""
        return await self.verify(cookies.get(self.cookie_name))

    def _rejected(self, debug: str) -> SessionRejected:
        return SessionRejected(debug, cookie_name=self.cookie_name)

    async def aclose(self) -> None:
        await self._reader.aclose()

    async def __aenter__(self) -> "SessionVerifier":
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
