"""A resource server's verifier in a process of its own, for the propagation bench
(benchmarks/propagation.py):
`python -m gatepass.benchmarks.revocation_watch ISSUER AUDIENCE REDIS_URL PREFIX`.

It runs what an API deploys: a `TokenVerifier` whose keys come from the live issuer and
whose `RevocationSet` a `RedisRevocationFeed` keeps current. It talks in lines:

    stdout  ready                      the feed has caught up, the keys are fetched
    stdin   watch <token>
    stdout  watching                   the token verified: accepted, cached
            refused <monotonic> <why>  the first moment verify() refused it (CLOCK_MONOTONIC,
                                       which every process of the host shares), and why
            timeout | error <reason>   not refused within WATCH_SECONDS, or not accepted

"The first moment": every time the feed changes the set, the watched token is verified
again at once (a request arriving just then), so what is timed is the feed's delivery,
not a polling interval; a slow poll runs beside it, in case a change went unnoticed.
Closing stdin ends the process.
"""

import asyncio
import contextlib
import sys
import time

from gatepass.resource import (
    RedisRevocationFeed,
    ResourceError,
    RevocationSet,
    TokenRejected,
    TokenVerifier,
)
from gatepass.tokens.revocation_event import RevocationEvent

READY_SECONDS = 20.0
WATCH_SECONDS = 10.0  # far beyond any propagation worth the name; then "timeout"
POLL_SECONDS = 0.05  # the backstop only: changes to the set wake the watcher at once


class WatchedSet(RevocationSet):
    """A RevocationSet that says when the feed changed it."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    def add(self, event: RevocationEvent) -> bool:
        added = super().add(event)
        if added:
            self.changed.set()
        return added


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def until_refused(verifier: TokenVerifier, revocations: WatchedSet, token: str) -> str:
    """'refused <t> <reason>' at the first refusal, 'timeout' or 'error <what>'."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WATCH_SECONDS
    while True:
        revocations.changed.clear()  # verify() below does not yield: no change slips by
        try:
            await verifier.verify(token)
        except TokenRejected as exc:
            return f"refused {time.monotonic()!r} {exc.reason}"
        except ResourceError as exc:  # the feed lost (503): not a revocation
            return f"error {type(exc).__name__}"
        remaining = deadline - loop.time()
        if remaining <= 0:
            return "timeout"
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(revocations.changed.wait(), min(remaining, POLL_SECONDS))


async def serve(verifier: TokenVerifier, revocations: WatchedSet) -> None:
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    say("ready")
    while line := await reader.readline():
        command, _, token = line.decode("ascii", "replace").strip().partition(" ")
        if command != "watch" or not token:
            say("error unknown command")
            continue
        try:
            await verifier.verify(token)
        except ResourceError as exc:
            say(f"error not accepted: {type(exc).__name__} {getattr(exc, 'reason', '')}")
            continue
        say("watching")
        say(await until_refused(verifier, revocations, token))


async def main(issuer: str, audience: str, redis_url: str, prefix: str) -> int:
    revocations = WatchedSet()
    feed = RedisRevocationFeed(redis_url, revocations, prefix)
    async with feed, TokenVerifier(issuer, audience, revocations=revocations) as verifier:
        if not await feed.wait_ready(READY_SECONDS):
            say("error the revocation feed did not catch up")
            return 1
        await serve(verifier, revocations)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    sys.exit(asyncio.run(main(*sys.argv[1:])))
