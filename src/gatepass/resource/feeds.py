"""Revocation feeds: asyncio tasks that keep a RevocationSet current (docs/revocation.md).

    RedisRevocationFeed                          HttpRevocationFeed
      SUBSCRIBE <prefix>revocations  (first)       GET {issuer}/revocations/stream
      XRANGE <prefix>revocations:stream            Basic client credentials,
        from the last entry read (catch-up)        Last-Event-ID = the last seq read
      can the stream vouch for the absence?        the log after it, `event: caught-up`,
        no: HTTP catch-up, else a hole             then live events, `: keep-alive`
      live: messages; every heartbeat a PING on
        the subscription and an XRANGE poll

Both report to the set: `feed_restored` once caught up, `feed_lost(at)` when the
connection fails, `at` being the last moment the feed was heard from (so a connection
that died silently is backdated, not forgiven). They reconnect with capped, jittered
exponential backoff (never a busy loop; `max_attempts` consecutive failures ends the
task, leaving the set failing closed). Run one feed task per set.

When can the Redis stream vouch for what a verifier missed? It is a window (MAXLEN ~),
and Redis may have restarted empty; moreover a publish that failed while Redis was down
is in the SQL log only. So on every (re)connect the feed works out the earliest moment
from which the stream is complete: the Redis server's start (from `INFO`: a new `run_id`
or a first sight) and the oldest entry still there when entries were trimmed past the
last one read. Revocations made before that moment may be missing: with an HTTP feed
configured, the feed catches up from the issuer's log; otherwise the set records a hole
(tokens issued before that moment are refused until they would have expired). A moment
older than the longest token lifetime costs nothing: whatever it hides has expired.
"""

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import quote_plus

import httpx
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError

from gatepass.errors import ConfigError
from gatepass.redis_connect import primary_for_key
from gatepass.redis_url import parse_redis_url
from gatepass.resource.feed_task import MAX_BACKOFF_SECONDS, FeedBroken, FeedTask
from gatepass.resource.revocations import RevocationSet
from gatepass.resource.sse import check_event_stream, messages

log = logging.getLogger("gatepass.resource.feeds")

CONNECT_TIMEOUT_SECONDS = 5.0
REDIS_HEARTBEAT_SECONDS = 5.0
RECONCILE_SECONDS = 300.0  # Redis feed with HTTP: catch up from the log this often
HTTP_READ_TIMEOUT_SECONDS = 45.0  # the server sends a keep-alive every 15 s
STREAM_PAGE = 1000
CAUGHT_UP = "caught-up"


class RedisRevocationFeed(FeedTask):
    def __init__(
        self,
        redis_url: str,
        revocations: RevocationSet,
        prefix: str = "gp:",
        *,
        http: "HttpRevocationFeed | None" = None,
        heartbeat_seconds: float = REDIS_HEARTBEAT_SECONDS,
        reconcile_seconds: float = RECONCILE_SECONDS,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        **backoff: Any,
    ) -> None:
        super().__init__(revocations, **backoff)
        try:  # a malformed URL fails here, not in every reconnect
            parse_redis_url(redis_url)
        except ValueError as exc:
            raise ConfigError("redis_url", f"malformed URL: {exc}") from None
        self._url = redis_url
        self.channel = f"{prefix}revocations"
        self.stream = f"{prefix}revocations:stream"
        self._http = http  # the issuer's log, when the stream cannot vouch for a gap
        self._heartbeat = heartbeat_seconds
        self._reconcile = reconcile_seconds
        self._connect_timeout = connect_timeout
        self.last_id: str | None = None  # the last stream entry read
        self._run_id: str | None = None  # the Redis server last connected to

    async def _session(self) -> None:
        # One server: the one holding the stream (a cluster broadcasts PUBLISH to all its
        # nodes), asked again on every reconnect, so a failover's new master is found.
        client = await primary_for_key(
            self._url,
            self.stream,
            socket_connect_timeout=self._connect_timeout,
            socket_timeout=self._connect_timeout,
            # No silent reconnect: a subscription re-made behind our back misses messages.
            retry=Retry(NoBackoff(), 0),
        )
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(self.channel)  # first, so nothing falls in between
            confirmed = await pubsub.get_message(timeout=self._connect_timeout)
            if confirmed is None or confirmed["type"] != "subscribe":
                raise FeedBroken("no confirmation of the subscription")
            missed_before = await self._catch_up(client)
            whole_log = False
            if missed_before is not None and self._http is not None:
                # The log fills what the stream cannot vouch for; if the issuer cannot
                # be reached now, the hole stands until a later reconciliation succeeds.
                whole_log = await self._reconcile_with_log()
                missed_before = None if whole_log else missed_before
            self.revocations.feed_restored(missed_before=missed_before, whole_log=whole_log)
            self._caught_up()
            await self._follow(client, pubsub, hole=missed_before is not None)
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]
            with contextlib.suppress(RedisError, OSError):
                await client.aclose()

    async def _catch_up(self, client: Redis) -> float | None:
        """Read the stream past the last entry; the moment before which revocations may be
        missing, or None when the stream vouches for everything that still matters."""
        info = await client.info("server")
        seconds, micros = await client.time()
        redis_now = seconds + micros / 1e6
        run_id = str(info["run_id"])
        horizon = float("-inf")
        if run_id != self._run_id:
            # A first sight or a restart: whatever it held before it started may be lost,
            # and stream ids of another run mean nothing here.
            horizon = redis_now - float(info["uptime_in_seconds"])
            self._run_id, self.last_id = run_id, None
        horizon = max(horizon, await self._trimmed_horizon(client, redis_now))
        await self._read_stream(client)
        if horizon + self.revocations.max_token_ttl_seconds <= redis_now:
            return None
        log.warning("revocation stream cannot vouch for events before %.0f", horizon)
        return horizon

    async def _trimmed_horizon(self, client: Redis, redis_now: float) -> float:
        try:
            stream = await client.xinfo_stream(self.stream)
        except ResponseError:  # no such key: nothing published in this run, or deleted
            return float("-inf") if self.last_id is None else redis_now
        first = stream.get("first-entry")
        first_id = _entry_id(first[0] if first else stream["last-generated-id"])
        added = stream.get("entries-added")  # Redis 7; before it, assume trimmed
        trimmed = added is None or int(added) > int(stream["length"])
        if trimmed and (self.last_id is None or _entry_id(self.last_id) < first_id):
            log.warning("revocation stream was trimmed past the last entry read")
            return first_id[0] / 1000
        return float("-inf")

    async def _read_stream(self, client: Redis) -> None:
        while True:
            low = "-" if self.last_id is None else f"({self.last_id}"
            entries = await client.xrange(self.stream, min=low, max="+", count=STREAM_PAGE) or []
            for entry_id, fields in entries:
                self.revocations.add_json((fields or {}).get(b"event", b""))
                self.last_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
            if len(entries) < STREAM_PAGE:
                return

    async def _follow(self, client: Redis, pubsub: PubSub, *, hole: bool) -> None:
        loop = asyncio.get_running_loop()
        heard = loop.time()
        next_beat = heard + self._heartbeat
        retry = min(self._reconcile, MAX_BACKOFF_SECONDS)  # a hole is worth filling soon
        next_reconcile = heard + (retry if hole else self._reconcile)
        while True:
            message = await pubsub.get_message(timeout=max(0.0, next_beat - loop.time()))
            if message is not None:
                heard = loop.time()
                self._heard()
                if message["type"] == "message":
                    self.revocations.add_json(message["data"])
            if loop.time() < next_beat:
                continue
            if loop.time() - heard > 3 * self._heartbeat:
                raise FeedBroken("the subscription went silent")
            await pubsub.ping()  # its PONG arrives as a message: proof of life
            await self._read_stream(client)  # keeps `last_id` fresh; misses nothing
            if self._http is not None and loop.time() >= next_reconcile:
                done = await self._reconcile_with_log()
                if done:
                    self.revocations.feed_restored(whole_log=True)
                next_reconcile = loop.time() + (self._reconcile if done else retry)
            next_beat = loop.time() + self._heartbeat

    async def _reconcile_with_log(self) -> bool:
        """Catch up from the issuer's log over HTTP; whether that worked. A publish that
        failed reaches Redis readers no other way (docs/revocation.md)."""
        assert self._http is not None
        try:
            await self._http.catch_up()
        except (httpx.HTTPError, OSError, FeedBroken) as exc:
            log.warning("revocation log reconciliation failed: %s", exc)
            return False
        return True


def _entry_id(value: str | bytes) -> tuple[int, int]:
    text = value.decode() if isinstance(value, bytes) else value
    milliseconds, _, sequence = text.partition("-")
    return int(milliseconds), int(sequence or 0)


class HttpRevocationFeed(FeedTask):
    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        revocations: RevocationSet,
        *,
        cursor: int = 0,
        http: httpx.AsyncClient | None = None,
        read_timeout: float = HTTP_READ_TIMEOUT_SECONDS,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        **backoff: Any,
    ) -> None:
        super().__init__(revocations, **backoff)
        self.url = issuer.rstrip("/") + "/revocations/stream"
        # RFC 6749 §2.3.1: id and secret are form-urlencoded before HTTP Basic.
        self._auth = httpx.BasicAuth(quote_plus(client_id), quote_plus(client_secret))
        self.cursor = cursor  # the last seq the stream delivered: Last-Event-ID
        self._http = http
        self._timeout = httpx.Timeout(read_timeout, connect=connect_timeout)

    async def catch_up(self) -> None:
        """Everything the issuer's log holds after `cursor`, then return."""
        await self._stream(live=False)

    async def _session(self) -> None:
        await self._stream(live=True)

    async def _stream(self, *, live: bool) -> None:
        async with contextlib.AsyncExitStack() as stack:
            http = self._http
            if http is None:
                http = await stack.enter_async_context(httpx.AsyncClient())
            headers = {"Accept": "text/event-stream"}
            if self.cursor:
                headers["Last-Event-ID"] = str(self.cursor)
            response = await stack.enter_async_context(
                http.stream(
                    "GET", self.url, headers=headers, auth=self._auth, timeout=self._timeout
                )
            )
            check_event_stream(response)
            async for message in messages(response, self._heard):
                if message.event == CAUGHT_UP:
                    if not live:
                        return
                    self.revocations.feed_restored(whole_log=True)
                    self._caught_up()
                elif message.event == "message":
                    self.revocations.add_json(message.data)
                    if message.id is not None and message.id.isdigit():
                        self.cursor = max(self.cursor, int(message.id))
        if not live:
            raise FeedBroken("the stream ended before catching up")
