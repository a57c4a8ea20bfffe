"""SessionStore on Redis.

Layout (prefix `gp:` by default):
    gp:s:<digest>  string "user_id|created_at|absolute_expires_at|amr|idp", TTL = idle timeout
                   (amr space-separated; idp empty for a login at gatepass itself; readers
                   ignore fields beyond those they know, and a record of the first three
                   alone is a password login)
    gp:u:<user_id> hash digest -> "ms|address|device label" (ms: the milliseconds of the
                   creation time, whose whole seconds are in the record), TTL = the
                   absolute lifetime of the newest session (entries written by earlier
                   versions: "created_at|absolute_expires_at|address|user_agent")

On a Redis Cluster the two keys live in different slots: no command or transaction
here spans both (`create` writes the index first, then the session; docs/redis.md).
The request path touches only `gp:s:<digest>` with one GETEX (check and slide in a
single round trip); the listing data stays out of it so the hot record stays small.
`last_seen_at` needs no write: it is the moment the TTL was last reset,
`now - (idle - remaining TTL)`.
"""

from gatepass.redis_connect import RedisClient
from gatepass.sessions.model import PASSWORD_AMR, Session, restored
from gatepass.storage.redis.base import REDIS_DOWN, RedisStore, unavailable


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _from_hot(session_id: str, raw: bytes | str, last_seen_at: float | None) -> Session:
    """Decode the hot record written by `create`."""
    user_id, created_at, absolute_expires_at, *how = _text(raw).split("|")
    created = float(created_at)
    # Every request decodes one: built once, not built and then replaced.
    amr, idp = (tuple(how[0].split()), how[1] or None) if len(how) >= 2 else (PASSWORD_AMR, None)
    return restored(
        session_id,
        user_id,
        created,
        created if last_seen_at is None else last_seen_at,
        float(absolute_expires_at),
        amr,
        idp,
    )


def _listing(entry: str, second: float) -> tuple[float, str, str]:
    """(created_at, address, device) of an index entry "ms|address|device", given the
    creation's whole `second` from the record; or of an entry of an earlier version,
    "created|absolute|address|user agent" (its first field has a decimal point)."""
    first, _, rest = entry.partition("|")
    if "." in first:
        address, _, user_agent = rest.partition("|")[2].partition("|")
        return float(first), address, user_agent
    address, _, user_agent = rest.partition("|")
    return second + int(first) / 1000, address, user_agent


class RedisSessionStore(RedisStore):
    def __init__(self, client: RedisClient, prefix: str, absolute_seconds: int) -> None:
        super().__init__(client, prefix)
        self._absolute_seconds = absolute_seconds

    def _session_key(self, session_id: str) -> str:
        return f"{self._prefix}s:{session_id}"

    def _index_key(self, user_id: str) -> str:
        return f"{self._prefix}u:{user_id}"

    async def create(self, session: Session, idle_seconds: int) -> int:
        # Whole seconds, rounded down: a login is never dated after it happened (an id
        # token's auth_time must not follow its iat), and a session never outlives its end.
        hot = "|".join(
            (
                session.user_id,
                str(int(session.created_at)),
                str(int(session.absolute_expires_at)),
                " ".join(session.amr),
                session.idp or "",
            )
        )
        # The times are in the hot record, which a listing reads anyway (for how the user
        # signed in), to the second; the entry adds the milliseconds, which order the
        # sessions of one second (the oldest is evicted first). Short entries keep the
        # hash in Redis's compact encoding.
        millis = int(session.created_at * 1000) % 1000
        meta = f"{millis:03d}|{session.address}|{session.user_agent}"
        index = self._index_key(session.user_id)
        # Two keys in two slots (the cookie names the session, not its user), so two
        # steps in this order: a session exists only once its user's index lists it, and
        # "log out everywhere" finds it. A failure in between leaves an index entry
        # without a session, pruned by `list_for_user`; never a session nobody can end.
        async with self._guard():
            async with self._redis.pipeline(transaction=True) as pipe:  # one key, one slot
                pipe.hset(index, session.id, meta)
                # Every session created now ends by now + absolute: never shortens it.
                pipe.expire(index, self._absolute_seconds)
                # The entries, expired ones not pruned yet included: at least the live
                # sessions, and in the round trip the write makes anyway.
                pipe.hlen(index)
                entries = (await pipe.execute())[-1]
            await self._redis.set(self._session_key(session.id), hot, ex=idle_seconds)
        return int(entries)

    async def touch(self, session_id: str, now: float, idle_seconds: int) -> Session | None:
        # Every request runs this, so it does without `_guard`: an async generator per
        # call costs measurable CPU here. Same errors caught, same StoreUnavailable.
        try:
            # The command itself: redis-py's getex() first validates its five exclusive
            # expiry options in Python, a tenth of this call's cost. The option and the
            # seconds go as bytes: redis-py's encoder passes bytes through at once, and
            # encoding "EX" and an int costs about 10,000 instructions a call (callgrind:
            # GET 322,000; GETEX with "EX" and an int 333,000; this GETEX 323,000).
            raw = await self._redis.execute_command(
                "GETEX", self._session_key(session_id), b"EX", b"%d" % idle_seconds
            )
        except REDIS_DOWN as exc:
            raise unavailable(exc) from exc
        return None if raw is None else _from_hot(session_id, raw, now)

    async def delete(self, session_id: str) -> Session | None:
        async with self._guard():
            raw = await self._redis.getdel(self._session_key(session_id))
            if raw is None:
                return None
            session = _from_hot(session_id, raw, None)
            await self._redis.hdel(self._index_key(session.user_id), session_id)
        return session

    async def list_for_user(self, user_id: str, now: float, idle_seconds: int) -> list[Session]:
        index = self._index_key(user_id)
        async with self._guard():
            entries = await self._redis.hgetall(index)
            ids = [_text(key) for key in entries]
            async with self._redis.pipeline(transaction=False) as pipe:
                for session_id in ids:
                    pipe.pttl(self._session_key(session_id))
                    pipe.get(self._session_key(session_id))  # how the user signed in
                answers = await pipe.execute() if ids else []
            ttls, hots = answers[0::2], answers[1::2]
            gone = [sid for sid, ttl in zip(ids, ttls, strict=True) if ttl < 0]
            if gone:
                await self._redis.hdel(index, *gone)  # expired: prune the index lazily
        live = []
        for session_id, ttl, hot in zip(ids, ttls, hots, strict=True):
            if ttl < 0 or hot is None:
                continue
            how = _from_hot(session_id, hot, None)
            created_at, address, user_agent = _listing(
                _text(entries[session_id.encode()]), how.created_at
            )
            live.append(
                Session(
                    id=session_id,
                    user_id=user_id,
                    created_at=created_at,
                    last_seen_at=max(created_at, now - (idle_seconds - ttl / 1000)),
                    absolute_expires_at=how.absolute_expires_at,
                    address=address,
                    user_agent=user_agent,
                    amr=how.amr,
                    idp=how.idp,
                )
            )
        return sorted(live, key=lambda s: s.created_at)  # stable: ties keep the index order

    async def delete_for_user(self, user_id: str) -> int:
        # Not one transaction on purpose (it stays Cluster-friendly): a session
        # created while this runs is a login that happened after the logout.
        index = self._index_key(user_id)
        async with self._guard():
            ids = [_text(key) for key in await self._redis.hkeys(index)]
            if not ids:
                return 0
            async with self._redis.pipeline(transaction=False) as pipe:
                for session_id in ids:
                    pipe.delete(self._session_key(session_id))
                pipe.hdel(index, *ids)
                results = await pipe.execute()
        return sum(results[:-1])
