"""What must stay quick while logins saturate the cores (issue 8): the server's /jwks.json,
and a resource server's token check, each sampled at a steady pace, first on a quiet
machine, then while concurrent logins keep every core hashing argon2id.

    login storm (login_storm.py, its own process)   gatepass serve (one worker)
      2 x cores login tasks, back to back:
        GET /login, POST /login (right password) ──► argon2id verify, off the event loop
    bench process (otherwise idle)
      every PACE: GET /jwks.json, timed ───────────► the precomputed document
      every PACE: TokenVerifier.verify, timed        (a new token each time, its keys
                                                     fetched from the server)

A sample is timed from the moment it was due, so a late start (the event loop of either
process held up) counts against it. The sampling process is a resource server sharing
the cores with an identity server under a login storm: what its requests would see.
"""

import asyncio
import contextlib
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from gatepass.benchmarks.environment import PASSWORD, BenchError
from gatepass.benchmarks.server import STOP_SECONDS, Server
from gatepass.benchmarks.workload import percentile
from gatepass.config import Settings
from gatepass.resource import JwksCache, TokenVerifier

PACE_SECONDS = 0.01
WARM_SECONDS = 1.0  # the storm running before the loaded phase is sampled
# A process of its own that imports httpx and little else: it starts in a fraction of the
# time the bench's own modules (the whole server) take to import.
STORM = (sys.executable, "-m", "gatepass.benchmarks.login_storm")
BOUND_MS = 20.0  # issue 8: p99 under 20 ms while logins saturate
Sample = Callable[[int], Awaitable[None]]


async def _paced(sample: Sample, seconds: float) -> list[int]:
    """Call `sample` every PACE_SECONDS for `seconds` (the next waits for the last); the
    nanoseconds from each one's due time to its end."""
    loop, out = asyncio.get_running_loop(), []
    start = loop.time()
    n = 0
    while (due := start + n * PACE_SECONDS) < start + seconds:
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        await sample(n)
        out.append(int((loop.time() - due) * 1e9))
        n += 1
    return out


def _figures(samples: list[int]) -> dict[str, Any]:
    ordered = sorted(samples)
    return {
        "samples": len(ordered),
        "p50_ms": percentile(ordered, 0.50),
        "p99_ms": percentile(ordered, 0.99),
        "max_ms": ordered[-1] / 1e6 if ordered else 0.0,
    }


async def latencies(
    settings: Settings,
    server: Server,
    tokens: list[str],
    emails: list[str],
    cores: int,
    seconds: float,
) -> dict[str, Any]:
    """p50/p99 of /jwks.json and of an uncached token check, quiet and under login load."""
    async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=10) as http:
        jwks = JwksCache(server.url, http=http)
        # A cache of one over many tokens in turn: every check is a first sight.
        verifier = TokenVerifier(
            server.url, settings.access_token_audience, jwks=jwks, cache_size=1
        )
        await verifier.start()

        async def document(n: int) -> None:
            answer = await http.get("/jwks.json")
            if answer.status_code != 200:
                raise BenchError(f"/jwks.json answered {answer.status_code}")

        async def check(n: int) -> None:
            await verifier.verify(tokens[n % len(tokens)])

        async def both() -> dict[str, Any]:
            documents, checks = await asyncio.gather(
                _paced(document, seconds), _paced(check, seconds)
            )
            return {"jwks": _figures(documents), "verify": _figures(checks)}

        quiet = await both()
        tasks, lasting = 2 * cores, WARM_SECONDS + seconds + 0.5
        storm = await asyncio.create_subprocess_exec(
            *STORM,
            *(server.url, str(tasks), str(lasting), PASSWORD, *emails),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            assert storm.stdout is not None
            if not await asyncio.wait_for(storm.stdout.readline(), 30):
                raise BenchError("the login storm did not start")
            await asyncio.sleep(WARM_SECONDS)  # the hashing threads busy first
            loaded = await both()
            tally = json.loads(await asyncio.wait_for(storm.stdout.read(), lasting + 30))
            # Its output has ended, so it is exiting: wait for that instead of killing it.
            # A signal to a child that exited but is not yet reaped reaps it (Popen polls
            # first), and asyncio's child watcher then warns of an unknown pid.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(storm.wait(), STOP_SECONDS)
        finally:
            if storm.returncode is None:
                storm.kill()
            await storm.wait()
    if tally["ok"] == 0:
        raise BenchError("no login succeeded during the login load")
    return {
        "quiet": quiet,
        "loaded": loaded
        | {
            "login_tasks": tasks,
            "logins": tally["ok"],
            "login_failures": tally["failed"],
            "logins_per_second": tally["ok"] / tally["seconds"],
        },
        "pace_ms": PACE_SECONDS * 1000,
        "bound_ms": BOUND_MS,
    }
