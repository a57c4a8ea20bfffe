"""What both revocation feeds share (feeds.py): an asyncio task with `start()` and
`aclose()` (or `async with`), a reconnect loop with capped, jittered exponential backoff,
and readiness (`wait_ready`).

    start() ─► loop: _session()  ── connects, catches up (_caught_up), follows ──┐
                 ▲    fails ─► set.feed_lost(last heard) ─► sleep(backoff) ──────┤
                 └──── ended cleanly after a while ─► reconnect at once ─────────┘
                       `max_attempts` failures in a row ─► the task ends; the set
                       stays lost, so it keeps failing closed
"""

import asyncio
import contextlib
import logging
import random
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

import httpx
from redis.exceptions import RedisError

from gatepass.resource.revocations import RevocationSet

log = logging.getLogger("gatepass.resource.feeds")

MIN_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0
# A session shorter than this that ends "cleanly" still counts as a failure: no busy loop.
MIN_SESSION_SECONDS = 1.0


class FeedBroken(Exception):
    """The feed's source answered something unusable; the task reconnects."""


class FeedTask(ABC):
    """start/aclose, the reconnect loop with backoff, and readiness, shared by the feeds."""

    def __init__(
        self,
        revocations: RevocationSet,
        *,
        min_backoff: float = MIN_BACKOFF_SECONDS,
        max_backoff: float = MAX_BACKOFF_SECONDS,
        max_attempts: int | None = None,
    ) -> None:
        if not 0 < min_backoff <= max_backoff or (max_attempts is not None and max_attempts < 1):
            raise ValueError("0 < min_backoff <= max_backoff, max_attempts >= 1")
        self.revocations = revocations
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._max_attempts = max_attempts
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._alive_at: float | None = None  # wall time the source was last heard from
        self.failures = 0  # consecutive failed sessions

    async def start(self) -> None:
        """Run the feed in the background (again, after `aclose`)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=type(self).__name__)

    async def aclose(self) -> None:
        """Stop the feed; the set is told the feed is lost from now."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._ready.clear()
        self.revocations.feed_lost(self._alive_at)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def wait_ready(self, seconds: float) -> bool:
        """Whether the feed is caught up, waiting at most `seconds` for it."""
        try:
            await asyncio.wait_for(self._ready.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def _heard(self) -> None:
        self._alive_at = self.revocations.clock.now()

    def _caught_up(self) -> None:
        self._heard()
        self.failures = 0
        self._ready.set()

    @abstractmethod
    async def _session(self) -> None:
        """One connection's life: catch up, then follow, until it fails."""

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            began = loop.time()
            try:
                await self._session()
                clean = loop.time() - began >= MIN_SESSION_SECONDS
                reason = "the source ended the connection"
            except (RedisError, OSError, httpx.HTTPError, FeedBroken) as exc:
                clean, reason = False, f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # a bug must not end the feed silently: log, retry
                log.exception("revocation feed failed unexpectedly")
                clean, reason = False, type(exc).__name__
            if clean:  # a long stream that ended: resume at once, still connected
                continue
            self._ready.clear()
            self.revocations.feed_lost(self._alive_at)
            self.failures += 1
            if self._max_attempts is not None and self.failures >= self._max_attempts:
                log.error("revocation feed gave up after %d attempts: %s", self.failures, reason)
                return
            delay = self._backoff()
            log.warning("revocation feed: %s; reconnecting in %.1fs", reason, delay)
            await asyncio.sleep(delay)

    def _backoff(self) -> float:
        ceiling = min(self._max_backoff, self._min_backoff * 2.0 ** min(self.failures - 1, 30))
        # Jitter spreads the reconnects of many verifiers; not a secret.
        return max(self._min_backoff / 2, ceiling * random.uniform(0.5, 1.0))  # noqa: S311
