"""RevocationFeed on Redis (docs/revocation.md): pub/sub for live verifiers, a stream for
those catching up after a short absence.

Layout (prefix `gp:` by default):
    gp:revocations          pub/sub channel; each message is one event's JSON
    gp:revocations:stream   stream, field `event` = the same JSON, trimmed to about
                            STREAM_LENGTH entries (MAXLEN ~): a window, not the record

Both go out in one MULTI/EXEC, so a subscriber and a stream reader see the same events.
The record is the SQL log: the stream has no TTL because trimming bounds it, and a
verifier that was away longer than the window catches up from the log (`since`).
"""

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gatepass.storage.redis.base import RedisStore, unavailable
from gatepass.tokens.revocation_event import RevocationEvent

STREAM_LENGTH = 10_000


def channel_name(prefix: str) -> str:
    return f"{prefix}revocations"


def stream_name(prefix: str) -> str:
    return f"{prefix}revocations:stream"


class RedisRevocationFeed(RedisStore):
    def __init__(self, client: "Redis", prefix: str, *, stream_length: int = STREAM_LENGTH) -> None:
        super().__init__(client, prefix)
        self.channel = channel_name(prefix)
        self.stream = stream_name(prefix)
        self._stream_length = stream_length

    async def publish(self, event: RevocationEvent) -> None:
        payload = event.to_json()
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.publish(self.channel, payload)
                pipe.xadd(
                    self.stream, {"event": payload}, maxlen=self._stream_length, approximate=True
                )
                await pipe.execute()
        except (RedisError, OSError) as exc:
            # Any Redis failure, not only an outage: the caller logs it and carries on.
            raise unavailable(exc) from exc
