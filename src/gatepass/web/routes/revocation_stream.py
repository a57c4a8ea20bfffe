"""`GET /revocations/stream`: the revocation log as server-sent events (HTML Living
Standard §9.2), for verifiers without Redis (docs/revocation.md, "Delivery").

    HTTP Basic client credentials, confidential clients only ─► else 401 invalid_client
    cursor: Last-Event-ID, else ?after=, else 0 (the start)  ─► malformed: 400
    the log after the cursor, in seq order                    id: <seq>
                                                               data: <the event's JSON>
    the backlog is done                                       event: caught-up
    new records as they are committed, whichever process      (one poll of the log per
      recorded them                                             process, shared)
    every 15 s without an event                               : keep-alive
    after 10 minutes the stream ends; the client resumes with Last-Event-ID

A verifier that has seen everything up to seq N and asks for what follows misses
nothing (the log's promise, storage/sql/revocations.py). The feed names random ids and
user ids (`sub`), which any client learns from its own tokens.
"""

import asyncio
import contextlib
import logging
import re
import weakref
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gatepass.errors import StoreUnavailable
from gatepass.oauth.errors import NO_STORE, InvalidClient, InvalidRequest, OAuthError
from gatepass.throttle.limiter import Throttled
from gatepass.tokens.revocation import MAX_PAGE, Revocations
from gatepass.tokens.revocation_event import RevocationEvent
from gatepass.web.oauth_endpoint import check_client, error_response
from gatepass.web.state import services

log = logging.getLogger("gatepass.revocation")

STREAM_SECONDS = 600.0  # then the client reconnects: no connection lives forever
HEARTBEAT_SECONDS = 15.0
POLL_SECONDS = 0.25
MAX_STREAMS = 1000  # per process
MAX_CURSOR = 2**31 - 1  # `seq` is a 32-bit integer column
_DIGITS = re.compile(r"[0-9]{1,10}")
CAUGHT_UP = "caught-up"


class LogWatch:
    """One poll of the log per process for every open stream of one `Revocations`.

    `latest` is the highest seq seen in the log (read from the log, never taken from a
    client); `changed` wakes the streams when it moves or the log cannot be read.
    """

    def __init__(self, revocations: Revocations) -> None:
        self._revocations = revocations
        self.latest: int | None = None
        self.healthy = True
        self.streams = 0
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def join(self) -> None:
        self.streams += 1
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll(), name="revocation log watch")

    def leave(self) -> None:
        self.streams -= 1

    def has_news(self, cursor: int) -> bool:
        return self.latest is not None and self.latest > cursor

    async def wait(self, cursor: int, seconds: float) -> None:
        """Until the log holds something after `cursor`, it failed, or `seconds` passed."""
        if self.has_news(cursor) or not self.healthy:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), seconds)

    async def _poll(self) -> None:
        while self.streams > 0:
            try:
                moved = await self._advance()
                self.healthy = True
            except StoreUnavailable as exc:
                if self.healthy:  # once per outage, not every poll
                    log.warning("revocation streams end: the log cannot be read: %s", exc)
                moved, self.healthy = False, False
            if moved or not self.healthy:
                self._changed.set()
                self._changed = asyncio.Event()
            await asyncio.sleep(POLL_SECONDS)

    async def _advance(self) -> bool:
        before = self.latest
        cursor = before or 0
        while True:  # the first time round, this reads the whole (swept) log once
            page = await self._revocations.since(cursor, MAX_PAGE)
            if page:
                cursor = page[-1].seq
            if len(page) < MAX_PAGE:
                break
        self.latest = cursor
        return cursor != before


_watches: "weakref.WeakKeyDictionary[Revocations, LogWatch]" = weakref.WeakKeyDictionary()


def watch_of(revocations: Revocations) -> LogWatch:
    watch = _watches.get(revocations)
    if watch is None:
        watch = _watches[revocations] = LogWatch(revocations)
    return watch


async def stream_revocations(request: Request) -> Response:
    gp = services(request)
    try:
        client = await check_client(request, gp, {})  # Basic only: a GET carries no form
        if not client.confidential:
            raise InvalidClient(debug="a public client asked for the revocation stream")
        cursor = _cursor(request)
        watch = watch_of(gp.grants.revocations)
        if watch.streams >= MAX_STREAMS:
            raise StoreUnavailable("too many revocation streams")
        first = await gp.grants.revocations.since(cursor, MAX_PAGE)
    except (OAuthError, Throttled, StoreUnavailable) as exc:
        return error_response(request, exc)
    return StreamingResponse(
        _events(gp.grants.revocations, watch, cursor, first),
        media_type="text/event-stream",
        # Proxies must pass each event on at once, not buffer the stream.
        headers={**NO_STORE, "X-Accel-Buffering": "no"},
    )


def _cursor(request: Request) -> int:
    """Where to resume: the SSE reconnection header first, then `?after=`."""
    afters = request.query_params.getlist("after")
    if len(afters) > 1:  # OAuth 2.1 §3.1: parameters MUST NOT be repeated
        raise InvalidRequest("The after parameter is repeated.")
    raw = request.headers.get("last-event-id") or (afters[0] if afters else "0")
    if not _DIGITS.fullmatch(raw.strip()) or int(raw) > MAX_CURSOR:
        raise InvalidRequest("The cursor (Last-Event-ID or after) is a seq number.")
    return int(raw)


async def _events(
    revocations: Revocations, watch: LogWatch, cursor: int, page: list[RevocationEvent]
) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STREAM_SECONDS
    watch.join()
    try:
        while True:  # the backlog, page by page
            for event in page:
                yield _frame(event)
                cursor = event.seq
            if len(page) < MAX_PAGE:
                break
            page = await revocations.since(cursor, MAX_PAGE)
        yield f"event: {CAUGHT_UP}\ndata: {cursor}\n\n"
        quiet_since = loop.time()
        while loop.time() < deadline:
            until = min(deadline, quiet_since + HEARTBEAT_SECONDS)
            await watch.wait(cursor, max(0.0, until - loop.time()))
            if not watch.healthy:
                return  # the client reconnects, and meets 503 until the log is back
            if watch.has_news(cursor):
                page = await revocations.since(cursor, MAX_PAGE)
                for event in page:
                    yield _frame(event)
                    cursor = event.seq
                quiet_since = loop.time()
            elif loop.time() >= quiet_since + HEARTBEAT_SECONDS:
                yield ": keep-alive\n\n"
                quiet_since = loop.time()
    except StoreUnavailable as exc:  # headers are sent: end the stream, never a trace
        log.warning("revocation stream ended: %s", exc)
    finally:
        watch.leave()


def _frame(event: RevocationEvent) -> str:
    return f"id: {event.seq}\ndata: {event.to_json()}\n\n"


routes = [Route("/revocations/stream", stream_revocations, methods=["GET"])]
