"""What the load runs against: two `gatepass serve` processes acting as one issuer on a
scratch PostgreSQL database and Redis key prefix, and the protected API (bench/load/api.py)
under uvicorn. Everything started here is stopped, and the scratch stores removed, at exit.
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
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import redis

REPOSITORY = Path(__file__).resolve().parents[2]
BINARY = Path(sys.executable).parent / "gatepass"
# Generous: two cores shared with whatever else runs; readiness only, never correctness.
STARTUP_SECONDS = 60.0
STOP_SECONDS = 10.0
CLI_SECONDS = 120.0


@dataclass(frozen=True)
class Stack:
    """The running processes: both servers' URLs (the first is the issuer) and the API's."""

    servers: tuple[str, ...]
    api: str
    env: Mapping[str, str]
    workdir: Path
    pids: Mapping[str, int]
    scratch: Mapping[str, str]  # the database and key prefix of the run, removed at the end
    postgres_admin_url: str

    @property
    def issuer(self) -> str:
        return self.servers[0]

    def cli(self, *args: str) -> str:
        """`gatepass ARGS...` on the servers' storage and master key; its stdout."""
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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_stack(postgres_admin_url: str, redis_url: str, workdir: Path) -> Iterator[Stack]:
    """Start everything on loopback, wait until each answers, and tear it all down after."""
    with ExitStack() as stack:
        stores = stack.enter_context(_scratch_stores(postgres_admin_url, redis_url))
        issuer = f"http://127.0.0.1:{free_port()}"
        env = _environment(
            stores
            | {
                "GATEPASS_ISSUER": issuer,
                # One master key for both, as a deployment shares GATEPASS_SECRET_KEY.
                "GATEPASS_SECRET_KEY": secrets.token_urlsafe(32),
                "GATEPASS_MAIL_FOLDER": str(workdir / "mail"),
                # Every virtual user comes from 127.0.0.1: the per-address sign-up and login
                # throttle would take the load generator for one abuser during set-up.
                "GATEPASS_LOGIN_ADDRESS_LIMIT": "100000",
            }
        )
        servers = (issuer, f"http://127.0.0.1:{free_port()}")
        pids: dict[str, int] = {}
        # A migrates the empty database and creates the signing keys; B starts after it.
        for name, url in zip(("server-a", "server-b"), servers, strict=True):
            port = url.rsplit(":", 1)[1]
            command = [str(BINARY), "serve", "--host", "127.0.0.1", "--port", port]
            pids[name] = stack.enter_context(_process(name, command, env, workdir))
        api = f"http://127.0.0.1:{free_port()}"
        api_command = [sys.executable, "-m", "uvicorn", "bench.load.api:app"]
        api_command += ["--host", "127.0.0.1", "--port", api.rsplit(":", 1)[1]]
        api_command += ["--no-access-log", "--log-level", "warning"]
        # The API knows the issuer and the feed, nothing of the servers' secrets.
        api_env = {k: v for k, v in env.items() if k != "GATEPASS_SECRET_KEY"}
        pids["api"] = stack.enter_context(_process("api", api_command, api_env, REPOSITORY))
        scratch = {
            "database": stores["GATEPASS_DATABASE_URL"].rsplit("/", 1)[1],
            "redis_prefix": stores["GATEPASS_REDIS_PREFIX"],
            "directory": str(workdir),
        }
        yield Stack(servers, api, env, workdir, pids, scratch, postgres_admin_url)


def _environment(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any GATEPASS_* variable (a developer's own must
    not leak in), plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEPASS_")}
    return env | dict(settings)


@contextmanager
def _process(name: str, command: list[str], env: Mapping[str, str], cwd: Path) -> Iterator[int]:
    """Run `command` in `cwd` (logging to NAME.log beside the mail folder) until GET
    /healthz on its --port answers 200; its pid."""
    workdir = Path(env["GATEPASS_MAIL_FOLDER"]).parent
    url = f"http://127.0.0.1:{command[command.index('--port') + 1]}"
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_healthy(process, url, log_path)
        yield process.pid
    finally:
        _stop(process)


def _wait_until_healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not healthy after {STARTUP_SECONDS} s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def _scratch_stores(postgres_admin_url: str, redis_url: str) -> Iterator[dict[str, str]]:
    """A PostgreSQL database and a Redis key prefix of the run's own, removed at the end
    (`gatepass serve` migrates the empty database on start)."""
    database = f"gatepass_load_{secrets.token_hex(6)}"
    prefix = f"gpload:{secrets.token_hex(6)}:"
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
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    finally:
        client.close()
