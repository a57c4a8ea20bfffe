"""Revocation propagation: from the bench's `POST /revoke` to the first refusal of the token
by a verifier in another process, one revocation at a time.

    bench process               gatepass serve (SQL + Redis)       verifier process
      t0 = monotonic()            client auth, the token's owner     (revocation_watch.py)
      POST /revoke token=... ───► record in SQL, then MULTI:  ──► Redis ──► RedisRevocationFeed
      ◄── 200                       PUBLISH + XADD                          RevocationSet.add
                                                                            verify(token): refused
      ◄── "refused t1" over a pipe ──────────────────────────────────────── t1 = monotonic()

The tokens are real: `POST /token` with `client_credentials` for a registered client, the
same client that revokes them (RFC 7009 §2.1: only the owner may). Before each revocation
the verifier must have accepted the token (and cached it, as an API would after a first
request). t0 and t1 are read from CLOCK_MONOTONIC in two processes of one host, which
share it. Without a feed, a verifier would accept a revoked token until its `exp`: the
remaining lifetime at the moment of revocation is recorded beside each latency.
"""

import asyncio
import contextlib
import statistics
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt as pyjwt

from gatepass.benchmarks.environment import BenchError
from gatepass.benchmarks.exchange import form_headers
from gatepass.benchmarks.grants import API_SCOPES
from gatepass.benchmarks.server import Server, stop, tail
from gatepass.benchmarks.workload import percentile
from gatepass.config import Settings

READY_SECONDS = 30.0
ANSWER_SECONDS = 15.0  # above the watcher's own WATCH_SECONDS
TOKEN_BATCH = 8  # concurrent POST /token while making the tokens


class Watcher:
    """The verifier process, one line at a time."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self._process = process
        self.log = log

    async def line(self, seconds: float) -> str:
        assert self._process.stdout is not None
        try:
            raw = await asyncio.wait_for(self._process.stdout.readline(), seconds)
        except TimeoutError:
            raise BenchError(f"the verifier process said nothing for {seconds:g} s") from None
        if not raw:
            raise BenchError(f"the verifier process exited: {tail(self.log)}")
        return raw.decode().strip()

    async def watch(self, token: str) -> str:
        assert self._process.stdin is not None
        self._process.stdin.write(f"watch {token}\n".encode())
        await self._process.stdin.drain()
        return await self.line(ANSWER_SECONDS)


@asynccontextmanager
async def watcher(settings: Settings, server: Server, workdir: Path) -> AsyncIterator[Watcher]:
    """benchmarks/revocation_watch.py in a process of its own, ready (feed caught up, keys
    fetched); stopped at the end (stdin closed, then SIGTERM, then SIGKILL)."""
    if settings.redis_url is None:
        raise BenchError("the revocation feed needs Redis")
    log = workdir / "revocation-watch.log"
    args = (server.url, settings.access_token_audience, settings.redis_url, settings.redis_prefix)
    with log.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "gatepass.benchmarks.revocation_watch", *args),
            cwd=workdir,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=err,
        )
    try:
        watch = Watcher(process, log)
        first = await watch.line(READY_SECONDS)
        if first != "ready":
            raise BenchError(f"the verifier process said {first!r}: {tail(log)}")
        yield watch
    finally:
        if process.stdin is not None:
            process.stdin.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 5.0)
        await stop(process)


async def access_tokens(http: httpx.AsyncClient, authorization: str, count: int) -> list[str]:
    """`count` access tokens from `POST /token` (client_credentials), a few at a time."""
    headers = form_headers(authorization)
    body = urlencode({"grant_type": "client_credentials", "scope": " ".join(API_SCOPES)})

    async def one() -> str:
        response = await http.post("/token", content=body, headers=headers)
        if response.status_code != 200:
            raise BenchError(f"POST /token answered {response.status_code}: {response.text}")
        token: str = response.json()["access_token"]
        return token

    tokens: list[str] = []
    while len(tokens) < count:
        n = min(TOKEN_BATCH, count - len(tokens))
        tokens += await asyncio.gather(*(one() for _ in range(n)))
    return tokens


def _ms(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(round(s * 1e9) for s in seconds)
    return {
        "p50_ms": percentile(ordered, 0.50),
        "p99_ms": percentile(ordered, 0.99),
        "max_ms": ordered[-1] / 1e6 if ordered else float("nan"),
        "mean_ms": statistics.fmean(seconds) * 1e3 if seconds else float("nan"),
    }


async def propagation(
    settings: Settings, server: Server, authorization: str, count: int, workdir: Path
) -> dict[str, Any]:
    """`count` revocations, one at a time: latency to refusal, and what the wait would
    have been without a feed (the token's remaining lifetime at the revocation)."""
    latencies, answers, remaining = [], [], []
    errors, before_answer = 0, 0
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0, trust_env=False) as http:
        tokens = await access_tokens(http, authorization, count)
        headers = form_headers(authorization)
        async with watcher(settings, server, workdir) as watch:
            for token in tokens:
                if await watch.watch(token) != "watching":
                    errors += 1
                    continue
                exp = pyjwt.decode(token, options={"verify_signature": False})["exp"]
                body = urlencode({"token": token, "token_type_hint": "access_token"})
                remaining.append(exp - time.time())
                began = time.monotonic()
                response = await http.post("/revoke", content=body, headers=headers)
                answered = time.monotonic()
                outcome = (await watch.line(ANSWER_SECONDS)).split()
                if response.status_code != 200 or outcome[:1] != ["refused"]:
                    errors += 1
                    continue
                if outcome[2:] != ["revoked"]:  # refused, but for another reason
                    errors += 1
                    continue
                refused = float(outcome[1])
                latencies.append(refused - began)
                answers.append(answered - began)
                before_answer += refused < answered
    return {
        "revocations": count,
        "refused": len(latencies),
        "errors": errors,
        "latency": _ms(latencies),
        "revoke_answer": _ms(answers),
        "refused_before_answer": before_answer,
        "remaining_lifetime_seconds": {
            "median": statistics.median(remaining) if remaining else float("nan"),
            "min": min(remaining, default=float("nan")),
        },
        "access_token_ttl_seconds": settings.access_token_ttl,
        "verifier": "TokenVerifier + RevocationSet + RedisRevocationFeed in another process",
    }
