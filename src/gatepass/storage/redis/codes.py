"""AuthorizationCodeStore on Redis.

Layout (prefix `gp:` by default):
    gp:c:<digest>  hash of the code's binding, TTL = the code's lifetime; once consumed
                   it gains `grant_id` and `redeemed_at` and becomes the code's tombstone,
                   TTL = the tombstone's lifetime

A code and its tombstone are one key, so `consume` is one Lua script on one key
(atomic, and at home on a Redis Cluster slot): of concurrent redemptions exactly one
finds the hash without `grant_id`. Expiry is Redis's own TTL, in real time.
"""

from typing import Any

from gatepass.oauth.code_store import AuthorizationCode, Tombstone
from gatepass.redis_connect import RedisClient
from gatepass.storage.redis.base import RedisStore

# KEYS[1] code key; ARGV grant_id, now, tombstone seconds. A missing key has no fields.
_CONSUME = """
if redis.call('HEXISTS', KEYS[1], 'client_id') == 0 then return false end
if redis.call('HEXISTS', KEYS[1], 'grant_id') == 1 then return false end
redis.call('HSET', KEYS[1], 'grant_id', ARGV[1], 'redeemed_at', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return redis.call('HGETALL', KEYS[1])
"""
# KEYS[1] code key; ARGV grant_id, tombstone seconds.
_MARK_REDEEMED = """
if redis.call('HEXISTS', KEYS[1], 'grant_id') == 0 then return 0 end
redis.call('HSET', KEYS[1], 'grant_id', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _fields(code: AuthorizationCode) -> dict[str, str]:
    fields = {
        "client_id": code.client_id,
        "redirect_uri": code.redirect_uri,
        "code_challenge": code.code_challenge,
        "user_id": code.user_id,
        "session_id": code.session_id,
        "scope": " ".join(code.scopes),
        "auth_time": repr(code.auth_time),
        "issued_at": repr(code.issued_at),
        "expires_at": repr(code.expires_at),
        "amr": " ".join(code.amr),
    }
    for name, value in (("nonce", code.nonce), ("resource", code.resource), ("idp", code.idp)):
        if value is not None:
            fields[name] = value
    return fields


def _code(digest: str, fields: dict[str, str]) -> AuthorizationCode:
    return AuthorizationCode(
        digest=digest,
        client_id=fields["client_id"],
        redirect_uri=fields["redirect_uri"],
        code_challenge=fields["code_challenge"],
        user_id=fields["user_id"],
        session_id=fields["session_id"],
        scopes=tuple(fields["scope"].split(" ")) if fields["scope"] else (),
        auth_time=float(fields["auth_time"]),
        issued_at=float(fields["issued_at"]),
        expires_at=float(fields["expires_at"]),
        nonce=fields.get("nonce"),
        resource=fields.get("resource"),
        amr=tuple(fields.get("amr", "pwd").split()),
        idp=fields.get("idp"),
    )


def _pairs(flat: list[Any]) -> dict[str, str]:
    """HGETALL's reply as a Lua script returns it: [field, value, field, value, ...]."""
    items = [_text(item) for item in flat]
    return dict(zip(items[::2], items[1::2], strict=True))


class RedisAuthorizationCodeStore(RedisStore):
    def __init__(self, client: RedisClient, prefix: str) -> None:
        super().__init__(client, prefix)
        self._consume = client.register_script(_CONSUME)
        self._mark_redeemed = client.register_script(_MARK_REDEEMED)

    def _key(self, digest: str) -> str:
        return f"{self._prefix}c:{digest}"

    async def add(self, code: AuthorizationCode, ttl_seconds: int) -> None:
        key = self._key(code.digest)
        async with self._guard(), self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=_fields(code))  # type: ignore[arg-type]
            pipe.expire(key, ttl_seconds)
            await pipe.execute()

    async def consume(
        self, digest: str, *, grant_id: str, now: float, tombstone_seconds: int
    ) -> AuthorizationCode | None:
        async with self._guard():
            reply = await self._consume(
                keys=[self._key(digest)], args=[grant_id, repr(now), tombstone_seconds]
            )
        return _code(digest, _pairs(reply)) if reply else None

    async def find_redeemed(self, digest: str, now: float) -> Tombstone | None:
        async with self._guard():
            raw = await self._redis.hgetall(self._key(digest))
        fields = {_text(name): _text(value) for name, value in raw.items()}
        if "grant_id" not in fields or "client_id" not in fields:
            return None
        return Tombstone(
            code=_code(digest, fields),
            grant_id=fields["grant_id"],
            redeemed_at=float(fields["redeemed_at"]),
        )

    async def mark_redeemed(
        self, digest: str, grant_id: str, *, now: float, ttl_seconds: int
    ) -> bool:
        async with self._guard():
            done = await self._mark_redeemed(keys=[self._key(digest)], args=[grant_id, ttl_seconds])
        return bool(done)
