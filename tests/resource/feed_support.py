"""Helpers for the revocation feed tests: a Redis server of the test's own (so it can be
killed and restarted without touching the shared one), bounded waiting, token facts."""

import asyncio
import base64
import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis

from gatepass.tokens.revocation_event import TokenFacts
from tests.live_server import free_port

STARTUP_SECONDS = 10.0
WAIT_SECONDS = 15.0  # an upper bound for anything a feed does here; never asserted on


class ScratchRedis:
    """`redis-server` on a free loopback port, no persistence: a restart comes back empty."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._workdir = workdir
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None, "redis-server is not installed"
        self._process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            cwd=self._workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            try:
                with redis.Redis(port=self.port, socket_connect_timeout=0.5) as client:
                    if client.ping():
                        return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def kill(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait(timeout=STARTUP_SECONDS)


@contextmanager
def scratch_redis(workdir: Path) -> Iterator[ScratchRedis]:
    server = ScratchRedis(workdir)
    server.start()
    try:
        yield server
    finally:
        server.kill()


async def eventually(condition: Callable[[], bool], seconds: float = WAIT_SECONDS) -> bool:
    """Whether `condition` holds within `seconds` (checked every 20 ms)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def claims_of(jwt: str) -> dict[str, Any]:
    """A JWT's payload, unverified: the test only needs what a verifier would read."""
    payload = jwt.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


def facts_of(jwt: str) -> TokenFacts:
    claims = claims_of(jwt)
    return TokenFacts(claims["jti"], claims["sub"], claims["iat"], claims.get("gid"))


def facts(name: str, *, iat: float | None = None, **ids: str) -> TokenFacts:
    """A token's facts: `jti` = name, issued now (or at `iat`)."""
    return TokenFacts(
        jti=name,
        sub=ids.get("sub", f"sub-{name}"),
        iat=time.time() if iat is None else iat,
        gid=ids.get("gid"),
        sid=ids.get("sid"),
    )
