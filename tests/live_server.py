"""A real `gatepass serve` subprocess on a free loopback port, for browser and interop tests.

The server gets only the `GATEPASS_*` settings the caller names (a developer's
GATEPASS_REDIS_URL must not leak in) and runs in its own working directory, where it
creates its master-key file. `cli()` runs other `gatepass` commands with the very same
environment and directory, so they share the server's database and master key.
"""

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import redis

STARTUP_SECONDS = 30.0
STOP_SECONDS = 10.0
CLI_SECONDS = 60.0
BINARY = Path(sys.executable).parent / "gatepass"


@dataclass(frozen=True)
class LiveServer:
    """A running `gatepass serve`: its base URL (the issuer), log, directory and settings."""

    url: str
    log: Path
    workdir: Path
    env: Mapping[str, str]

    def cli(self, *args: str) -> str:
        """Run `gatepass ARGS...` against this server's storage; its stdout, or a failure
        that shows what the command said."""
        done = subprocess.run(
            [str(BINARY), *args],
            cwd=self.workdir,
            env=dict(self.env),
            capture_output=True,
            text=True,
            timeout=CLI_SECONDS,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"gatepass {' '.join(args)} exited {done.returncode}:\n{done.stderr}"
            )
        return done.stdout

    def read_log(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_environment(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any GATEPASS_* variable, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEPASS_")}
    return env | dict(settings)


@contextmanager
def live_server(
    workdir: Path,
    settings: Mapping[str, str] | None = None,
    *,
    workers: int = 1,
    host_name: str = "127.0.0.1",
    options: Sequence[str] = (),
) -> Iterator[LiveServer]:
    """Start `gatepass serve` on a free port, wait until /healthz answers, stop it at the end.

    `settings` are GATEPASS_* variables; GATEPASS_ISSUER defaults to the server's own URL
    (another server's, for several processes that act as one) and GATEPASS_DATABASE_URL
    to a SQLite file in `workdir`. `host_name` names the loopback server in its URL:
    "localhost" where the browser needs a domain (a WebAuthn RP ID cannot be an address).
    """
    port = free_port()
    url = f"http://{host_name}:{port}"
    env = server_environment(
        {
            "GATEPASS_ISSUER": url,
            "GATEPASS_DATABASE_URL": f"sqlite:///{workdir}/gatepass.db",
            **(settings or {}),
        }
    )
    server = LiveServer(url=url, log=workdir / "server.log", workdir=workdir, env=env)
    with server.log.open("wb") as log:
        process = subprocess.Popen(
            [str(BINARY), "serve", "--host", "127.0.0.1", "--port", str(port)]
            + (["--workers", str(workers)] if workers > 1 else [])
            + list(options),
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_healthy(process, server)
        yield server
    finally:
        _stop(process)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:  # noqa: S310
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _wait_until_healthy(process: subprocess.Popen[bytes], server: LiveServer) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"gatepass serve exited with {process.returncode}:\n{server.read_log()}"
            )
        if _healthy(server.url):
            return
        time.sleep(0.1)
    raise RuntimeError(
        f"gatepass serve not healthy after {STARTUP_SECONDS} s:\n{server.read_log()}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def scratch_postgres_and_redis(postgres_admin_url: str, redis_url: str) -> Iterator[dict[str, str]]:
    """GATEPASS_* settings naming a PostgreSQL database and a Redis key prefix of their own,
    both removed at the end (`gatepass serve` migrates the empty database on start)."""
    database = f"gatepass_live_{secrets.token_hex(6)}"
    prefix = f"gplive:{secrets.token_hex(6)}:"
    asyncio.run(_postgres_admin(postgres_admin_url, f'CREATE DATABASE "{database}"'))
    try:
        yield {
            "GATEPASS_DATABASE_URL": postgres_admin_url.rsplit("/", 1)[0] + f"/{database}",
            "GATEPASS_REDIS_URL": redis_url,
            "GATEPASS_REDIS_PREFIX": prefix,
        }
    finally:
        asyncio.run(
            _postgres_admin(
                postgres_admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'
            )
        )
        _delete_redis_prefix(redis_url, prefix)


async def _postgres_admin(url: str, statement: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def _delete_redis_prefix(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
