"""Sync callers (WSGI: Flask, Django) of the async verifiers: one event loop in a thread.

    WSGI worker thread ── verify(token) ──► run_coroutine_threadsafe ──► the loop thread
          waits on the future ◄───────────── VerifiedToken / ResourceError ◄──┘

Why a long-lived loop in a background thread, and not `asyncio.run(verifier.verify(t))`
per request: a verifier's state belongs to the loop it runs on. Its JWKS client
(httpx) and a SessionVerifier's Redis or database connections are pooled on that loop,
and a revocation feed is a task that must keep running *between* requests to keep the
revocation set current. `asyncio.run` makes a fresh loop per call and closes it, which
would strand the pools and kill the feed (every token would then be refused, the set
failing closed). A twin sync implementation would double the code that must be right
(CONVENTIONS.md: sync wrappers only at the edges). The price is a hand-off to the loop
thread and back per call: microseconds, next to a WSGI request. Every WSGI thread
shares the one loop; the verifiers' own caches make the common call a dict lookup.
"""

import asyncio
import atexit
import concurrent.futures
import logging
import threading
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from gatepass.resource.adapters.common import Verifier, authenticate
from gatepass.resource.errors import IssuerUnavailable
from gatepass.resource.sessions import SessionStoreUnavailable, SessionVerifier, VerifiedSession
from gatepass.resource.tokens import VerifiedToken

T = TypeVar("T")
log = logging.getLogger("gatepass.resource.adapters")
CALL_TIMEOUT_SECONDS = 10.0  # above the verifiers' own network timeouts
CLOSE_TIMEOUT_SECONDS = 5.0


class Background(Protocol):
    """Something that runs on the loop beside the verifiers: a revocation feed."""

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...


class LoopThread:
    """An asyncio event loop running forever in a daemon thread."""

    def __init__(self, name: str = "gatepass-resource") -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `coroutine` on the loop and wait for its result (or its exception)."""
        if threading.current_thread() is self._thread:
            coroutine.close()
            raise RuntimeError("LoopThread.call from the loop's own thread would deadlock")
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"no answer within {timeout} s") from None

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(CLOSE_TIMEOUT_SECONDS)
        if not self._thread.is_alive():
            self._loop.close()


class SyncVerifiers:
    """The token verifier (and optionally the session verifier, and feeds) on a LoopThread,
    with blocking methods for WSGI code. `close()` stops everything; it also runs at exit."""

    def __init__(
        self,
        tokens: Verifier,
        *,
        sessions: SessionVerifier | None = None,
        background: Sequence[Background] = (),
        timeout: float = CALL_TIMEOUT_SECONDS,
    ) -> None:
        self.tokens = tokens
        self.sessions = sessions
        self._background = tuple(background)
        self._timeout = timeout
        self._loop = LoopThread()
        self._closed = False
        try:
            for item in self._background:
                self._loop.call(item.start(), timeout)  # feeds start a task and return
        except BaseException:
            self.close()
            raise
        atexit.register(self.close)

    def authenticate(
        self, authorization: Sequence[str], *, token_elsewhere: bool, required: bool
    ) -> VerifiedToken | None:
        """common.authenticate, blocking; IssuerUnavailable (503) if it takes too long."""
        coroutine = authenticate(
            self.tokens, authorization, token_elsewhere=token_elsewhere, required=required
        )
        try:
            return self._loop.call(coroutine, self._timeout)
        except TimeoutError:
            raise IssuerUnavailable("token verification timed out") from None

    def verify_session(self, cookies: Mapping[str, str]) -> VerifiedSession:
        if self.sessions is None:
            raise RuntimeError("no SessionVerifier was configured")
        try:
            return self._loop.call(self.sessions.verify_cookies(cookies), self._timeout)
        except TimeoutError:
            raise SessionStoreUnavailable("session check timed out") from None

    def close(self) -> None:
        """Stop the feeds, close the verifiers, stop the loop. Idempotent."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        closers = [*self._background, self.tokens, *([self.sessions] if self.sessions else [])]
        for item in closers:
            aclose = getattr(item, "aclose", None)
            if aclose is None:
                continue
            try:
                self._loop.call(aclose(), CLOSE_TIMEOUT_SECONDS)
            except Exception as exc:  # closing the rest matters more than this one
                log.warning("closing %s: %s", type(item).__name__, exc)
        self._loop.close()
