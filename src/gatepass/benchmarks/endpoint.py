"""A toolkit-protected Starlette endpoint beside the same endpoint unprotected.

    bench process (load)                    uvicorn, one worker each (benchmarks/endpoint_app.py)
      N keep-alive connections per app ───► open:      Starlette, GET /orders -> JSON
      GET /orders + Authorization: Bearer   protected: GatepassAuth + @requires_scope,
      (the same request bytes to both)                 keys from the live gatepass serve

Both apps run at once, each in its own process; the two cases are measured interleaved
(workload.interleaved), so both see the same machine, and each server's CPU time per
request is read from /proc. The token is a real one from `POST /token`, the same on every
request: after the first, the verifier serves it from its cache, as an API does for a
client that calls it again and again.

The load comes from a bare HTTP/1.1 client on asyncio streams, not httpx: httpx spends
1-3 ms of CPU per request (benchmarks/exchange.py), several times what uvicorn and this app
spend, so with it the rate would compare the client with itself and hide what the
middleware costs. The bare client writes prepared bytes and reads the answer by its
Content-Length, tens of microseconds a request, which leaves the server the bottleneck.
"""

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from gatepass.benchmarks.environment import BenchError
from gatepass.benchmarks.server import STARTUP_SECONDS, cpu_seconds, free_port, stop, tail
from gatepass.benchmarks.tokens import Timing
from gatepass.benchmarks.workload import Operation, closed_loop, interleaved
from gatepass.config import Settings

UVICORN = (
    *("--factory", "--http", "h11", "--loop", "asyncio"),
    *("--no-access-log", "--no-server-header", "--log-level", "warning"),
)
CASES = ("open", "protected")
GOAL = 0.70  # protected >= 70% of open (issue 5)


@dataclass(frozen=True)
class App:
    name: str
    port: int
    pid: int


class Connection:
    """One keep-alive HTTP/1.1 connection that sends prepared requests."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> "Connection":
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        self._writer.write(raw)
        head = await self._reader.readuntil(b"\r\n\r\n")
        start = head.lower().find(b"\r\ncontent-length:")
        if start < 0:
            raise BenchError("an answer without Content-Length")
        end = head.find(b"\r\n", start + 2)
        body = await self._reader.readexactly(int(head[start + 17 : end]))
        return int(head[9:12]), body

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()


def request(port: int, token: str | None) -> bytes:
    bearer = f"Authorization: Bearer {token}\r\n" if token else ""
    return f"GET /orders HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{bearer}\r\n".encode()


def _get(pool: list[Connection], raw: bytes, expected: bytes) -> Operation:
    async def get(i: int) -> bool:
        connection = pool.pop()  # one per task: never empty while all of them work
        status, body = await connection.request(raw)
        pool.append(connection)  # not after a failure: its stream is in an unknown state
        return status == 200 and body == expected

    return get


def _environment(issuer: str | None, audience: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEPASS_", "BENCH_"))}
    if issuer is not None and audience is not None:
        env |= {"BENCH_ISSUER": issuer, "BENCH_AUDIENCE": audience}
    return env


@asynccontextmanager
async def app_server(
    name: str, workdir: Path, issuer: str | None = None, audience: str | None = None
) -> AsyncIterator[App]:
    """benchmarks/endpoint_app.py under uvicorn on a free loopback port; stopped at the end."""
    port, log = free_port(), workdir / f"endpoint-{name}.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "uvicorn", "gatepass.benchmarks.endpoint_app:create_app", *UVICORN),
            *("--host", "127.0.0.1", "--port", str(port)),
            cwd=workdir,
            env=_environment(issuer, audience),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        await _wait_until_up(process, port, log)
        yield App(name, port, process.pid)
    finally:
        await stop(process)


async def _wait_until_up(process: asyncio.subprocess.Process, port: int, log: Path) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_SECONDS
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=1.0) as client:
        while loop.time() < deadline:
            if process.returncode is not None:
                raise BenchError(f"the endpoint app exited: {tail(log)}")
            with contextlib.suppress(httpx.HTTPError):
                await client.get("/orders")  # any answer: it is up
                return
            await asyncio.sleep(0.1)
    raise BenchError(f"the endpoint app is not up after {STARTUP_SECONDS:g} s: {tail(log)}")


async def _sanity(open_app: App, protected: App, token: str) -> bytes:
    """The document both must answer; the protected app must refuse a request without
    the token (else it would not be protected) and accept it with the token."""
    plain = await Connection.open(protected.port)
    guarded = await Connection.open(protected.port)
    baseline = await Connection.open(open_app.port)
    try:
        status, _ = await plain.request(request(protected.port, None))
        if status != 401:
            raise BenchError(f"the protected endpoint answered {status} without a token")
        ok, body = await guarded.request(request(protected.port, token))
        status, expected = await baseline.request(request(open_app.port, token))
        if (ok, status) != (200, 200) or body != expected:
            raise BenchError(f"the endpoints answered {status} and {ok}, or differently")
        return expected
    finally:
        for connection in (plain, guarded, baseline):
            await connection.close()


async def endpoint_rates(
    settings: Settings, issuer: str, token: str, concurrency: int, timing: Timing, workdir: Path
) -> dict[str, Any]:
    """Requests/s (paired), latency and server CPU per request, open vs protected."""
    audience = settings.access_token_audience
    async with (
        app_server("open", workdir) as open_app,
        app_server("protected", workdir, issuer, audience) as protected,
    ):
        expected = await _sanity(open_app, protected, token)
        apps = (open_app, protected)
        pools = [[await Connection.open(app.port) for _ in range(concurrency)] for app in apps]
        try:
            ops = [
                _get(pool, request(app.port, token), expected)
                for pool, app in zip(pools, apps, strict=True)
            ]
            for op in ops:  # warm up: connections open, the token verified and cached
                await closed_loop(
                    op, concurrency=concurrency, items=1, seconds=timing.warmup, warmup=0
                )
            began = [cpu_seconds(app.pid) for app in apps]
            run = await interleaved(
                ops,
                concurrency=concurrency,
                items=1,
                seconds=timing.seconds,
                warmup=0,
                slices=timing.slices,
            )
            ended = [cpu_seconds(app.pid) for app in apps]
        finally:
            for pool in pools:
                for connection in pool:
                    await connection.close()
    cpu: dict[str, float | None] = {}
    for case, t, before, after in zip(CASES, run.results, began, ended, strict=True):
        if before is None or after is None or not t.ops:
            cpu[case] = None  # no /proc here
        else:
            cpu[case] = (after - before) / t.ops * 1000
    open_cpu, protected_cpu = cpu["open"], cpu["protected"]
    return {
        "requests": dict(zip(CASES, run.results, strict=True)),
        "server_cpu_ms_per_request": cpu,
        "protected_over_open": run.paired_ratio(1, 0),
        "cpu_open_over_protected": (
            open_cpu / protected_cpu if open_cpu and protected_cpu else None
        ),
        "concurrency": concurrency,
        "goal": GOAL,
        "server": "uvicorn (h11, asyncio), one worker, no access log; Starlette "
        "JSONResponse; protected: GatepassAuth + @requires_scope('orders:read')",
        "client": "bare HTTP/1.1 over asyncio streams, keep-alive, one connection per task",
    }
