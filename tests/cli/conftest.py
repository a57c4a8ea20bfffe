"""Fixtures for the installed `gatepass` command: run it, point it at a backend, serve.

Every command runs as a real subprocess of `.venv/bin/gatepass`, configured only
through `GATEPASS_*` variables (the caller's own `GATEPASS_*` are stripped first),
with its working directory in the test's `tmp_path`.
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gatepass.config import Settings
from gatepass.sessions.policy import CookiePolicy
from gatepass.storage.backends import Backends
from tests.support import PASSWORD, csrf_of, web_client

GATEPASS = Path(sys.executable).parent / "gatepass"
COMMAND_TIMEOUT_SECONDS = 60
SERVER_START_TIMEOUT_SECONDS = 45
SERVER_STOP_TIMEOUT_SECONDS = 15


def clean_environ(**extra: str) -> dict[str, str]:
    """The parent's environment without any GATEPASS_* variable, plus `extra`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("GATEPASS_")}
    return {**base, **extra}


def env_for(settings: Settings) -> dict[str, str]:
    """The variables that make the command use the same stores as `settings`."""
    env = {
        "GATEPASS_ISSUER": settings.issuer,
        "GATEPASS_DATABASE_URL": settings.database_url,
        "GATEPASS_REDIS_PREFIX": settings.redis_prefix,
    }
    if settings.secret_key is not None:
        env["GATEPASS_SECRET_KEY"] = settings.secret_key.reveal()
    if settings.redis_url is not None:
        env["GATEPASS_REDIS_URL"] = settings.redis_url
    return env


def run_gatepass(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed command to completion (pipes closed, process reaped)."""
    return subprocess.run(
        [str(GATEPASS), *args],
        cwd=cwd,
        env=clean_environ(**(env or {})),
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit code 2, nothing on stdout, one `gatepass: ...` line on stderr naming `needles`."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gatepass: "), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert result.stdout == ""
    return lines[0]


@dataclass
class Cli:
    """The command bound to one backend's settings, runnable from async tests."""

    settings: Settings
    cwd: Path

    @property
    def env(self) -> dict[str, str]:
        return env_for(self.settings)

    async def __call__(
        self, *args: str, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(run_gatepass, *args, cwd=self.cwd, env=self.env, stdin=stdin)

    async def ok(self, *args: str, stdin: str | None = None) -> str:
        result = await self(*args, stdin=stdin)
        assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        return result.stdout

    async def json(self, *args: str, stdin: str | None = None) -> Any:
        return json.loads(await self.ok(*args, "--json", stdin=stdin))


@pytest.fixture
def cli(settings: Settings, backends: Backends, tmp_path: Path) -> Cli:
    """The command on the current backend; `backends` wipes PostgreSQL and Redis around it."""
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    return Cli(settings, workdir)


@pytest.fixture
def session_cookie_works(
    settings: Settings, backends: Backends
) -> Callable[[str], Awaitable[bool]]:
    """Whether a session secret, sent as the browser's cookie, still opens /account."""

    name = CookiePolicy(secure=settings.is_https).session_name

    async def check(secret: str) -> bool:
        async with web_client(settings, backends) as http:
            http.cookies.set(name, secret)
            response = await http.get("/account")
        assert response.status_code in (200, 303), response.status_code
        return response.status_code == 200

    return check


# --- a live server -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """`gatepass serve` running in `cwd`, answering on `base_url`."""

    process: subprocess.Popen[bytes]
    base_url: str
    cwd: Path
    log_path: Path

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self, **kwargs: Any) -> httpx.Client:
        """A browser-like client: the Origin header a browser sends with forms."""
        return httpx.Client(
            base_url=self.base_url, headers={"Origin": self.base_url}, timeout=10, **kwargs
        )


def _wait_until_healthy(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gatepass serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"gatepass serve did not answer /healthz in time:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=SERVER_STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def serving(workdir: Path, *args: str, **env: str) -> Iterator[Server]:
    """`gatepass serve` in `workdir` (created empty) until the block ends, then stopped."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    workdir.mkdir()
    log_path = workdir.parent / f"{workdir.name}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [str(GATEPASS), "serve", "--port", str(port), *args],
            cwd=workdir,
            env=clean_environ(GATEPASS_ISSUER=base_url, **env),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_healthy(process, base_url, log_path)
            yield Server(process, base_url, workdir, log_path)
        finally:
            _stop(process)


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start `gatepass serve` in an empty directory; every server is stopped at teardown."""
    with ExitStack() as servers:

        def start(*args: str, **env: str) -> Server:
            return servers.enter_context(serving(tmp_path / f"server-{free_port()}", *args, **env))

        yield start


def sign_up_over_http(http: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    """GET /signup for its CSRF token, then POST the form as a browser would."""
    page = http.get("/signup")
    assert page.status_code == 200
    return http.post(
        "/signup",
        data={
            "csrf_token": csrf_of(page.text),
            "email": email,
            "password": password,
            "name": "Live User",
        },
    )


def log_in_over_http(http: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    page = http.get("/login")
    assert page.status_code == 200
    return http.post(
        "/login", data={"csrf_token": csrf_of(page.text), "email": email, "password": password}
    )
