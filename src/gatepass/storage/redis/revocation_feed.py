"""RevocationFeed on Redis (docs/revocation.md): pub/sub for live verifiers, a stream for
those catching up after a short absence.

Layout (prefix `gp:` by default):
    gp:revocations          pub/sub channel; each message is one event's JSON
    gp:revocations:stream   stream, field `event` = the same JSON, trimmed to about
                            STREAM_LENGTH entries (MAXLEN ~): a window, not the record

Both go out in one Lua script on the stream's key, so a subscriber and a stream reader
see the same events, on one server, under Sentinel and on a Redis Cluster alike.
The record is the SQL log: the stream has no TTL because trimming bounds it, and a
verifier that was away longer than the window catches up from the log (`since`).
"""

from redis.exceptions import RedisClusterException, RedisError

from gatepass.redis_connect import RedisClient
from gatepass.storage.redis.base import RedisStore, unavailable
from gatepass.tokens.revocation_event import RevocationEvent

STREAM_LENGTH = 10_000
# KEYS[1] stream; ARGV event JSON, stream length, channel. The channel is no key: on a
# cluster PUBLISH reaches every node's subscribers, whichever node runs the script.
_PUBLISH = """
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'event', ARGV[1])
return redis.call('PUBLISH', ARGV[3], ARGV[1])
"""


def channel_name(prefix: str) -> str:
    return f"{prefix}revocations"


def stream_name(prefix: str) -> str:
    return f"{prefix}revocations:stream"


class RedisRevocationFeed(RedisStore):
    def __init__(
        self, client: RedisClient, prefix: str, *, stream_length: int = STREAM_LENGTH
    ) -> None:
        super().__init__(client, prefix)
        self.channel = channel_name(prefix)
        self.stream = stream_name(prefix)
        self._stream_length = stream_length
        self._publish = client.register_script(_PUBLISH)

    async def publish(self, event: RevocationEvent) -> None:
        payload = event.to_json()
        try:
            await self._publish(
                keys=[self.stream], args=[payload, self._stream_length, self.channel]
            )
        except (RedisError, RedisClusterException, OSError) as exc:
            # Any Redis failure, not only an outage: the caller logs it and carries on.
            raise unavailable(exc) from exc
