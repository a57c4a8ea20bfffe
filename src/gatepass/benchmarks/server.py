"""A real `gatepass serve` on a free 127.0.0.1 port, as a deployment runs it (one worker).

The server is its own process, so what a request costs it (HTTP parsing in uvicorn,
the app, the stores, the signatures) is measured apart from the load generator: its
CPU time is read from /proc, and the client only sees answers and latency.
It gets only the settings given here (a GATEPASS_* variable of the caller's shell must
not leak in) and its log goes to a file in the run's temporary directory.
"""

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from gatepass.benchmarks.environment import BenchError
from gatepass.config import Settings

# The `gatepass` command of this very interpreter, wherever its script lives.
GATEPASS = (sys.executable, "-c", "import sys; from gatepass.cli import main; sys.exit(main())")
STARTUP_SECONDS = 30.0
STOP_SECONDS = 10.0


@dataclass(frozen=True)
class Server:
    url: str  # the issuer
    pid: int
    log: Path
    access_token_alg: str  # GATEPASS_ACCESS_TOKEN_ALG: one per server, so one per start

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the server process so far (Linux /proc), or None."""
        return cpu_seconds(self.pid)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process `pid` so far, its threads included (Linux /proc),
    or None where there is no /proc. Clock-tick resolution: trust it over many requests."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is fields[0]
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def environment(
    settings: Settings, issuer: str, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """This process's environment without GATEPASS_* variables, plus the server's settings
    (and `extra` GATEPASS_* variables, for a case that needs one changed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEPASS_")}
    env |= {
        "GATEPASS_ISSUER": issuer,
        "GATEPASS_DATABASE_URL": settings.database_url,
        "GATEPASS_REDIS_PREFIX": settings.redis_prefix,
        "GATEPASS_ACCESS_TOKEN_ALG": settings.access_token_alg,
        "GATEPASS_LOGIN_ADDRESS_LIMIT": str(settings.login_address_limit),
    }
    if settings.redis_url is not None:
        env["GATEPASS_REDIS_URL"] = settings.redis_url
    if settings.secret_key is not None:
        env["GATEPASS_SECRET_KEY"] = settings.secret_key.reveal()
    return env | dict(extra or {})


@asynccontextmanager
async def live_server(
    settings: Settings,
    workdir: Path,
    name: str,
    workers: int = 1,
    extra: Mapping[str, str] | None = None,
) -> AsyncIterator[Server]:
    """`gatepass serve` on the stores of `settings`; stopped (and waited for) at the end.
    With `workers` > 1 the CPU figures cover the supervisor only: callers drop them."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = workdir / f"server-{name}.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *GATEPASS,
            *("serve", "--host", "127.0.0.1", "--port", str(port), "--no-migrate"),
            *("--workers", str(workers)),
            cwd=workdir,
            env=environment(settings, url, extra),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        server = Server(url, process.pid, log, settings.access_token_alg)
        await _wait_until_healthy(process, server)
        yield server
    finally:
        await stop(process)


@dataclass(frozen=True)
class Spec:
    """One `gatepass serve` (a process group with `workers` > 1): `live_server`'s arguments."""

    settings: Settings
    name: str
    workers: int = 1
    extra: Mapping[str, str] | None = None


class Servers:
    """`gatepass serve` processes started side by side before the parts that use them, each
    handed to its part and stopped when that part is done.

    A start imports the whole server: about 2 s of one core. One after another, the
    processes of a run (a server per algorithm, two workers and their supervisor, the
    resource toolkit's) cost quick mode a quarter of its minute; started together, before
    anything is measured, they share both cores. Until its part comes a server only
    waits on its socket. A spec given n times is one server that serves n parts.
    """

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        # name -> (spec, server, what stops it, parts still to serve)
        self._ready: dict[str, tuple[Spec, Server, AsyncExitStack, int]] = {}

    async def start(self, specs: Iterable[Spec]) -> None:
        """Start every one at once; returns when all answer, or stops them all and raises."""
        parts: dict[str, tuple[Spec, int]] = {}
        for spec in specs:
            known, uses = parts.get(spec.name, (spec, 0))
            if known != spec:
                raise ValueError(f"two different servers named {spec.name!r}")
            parts[spec.name] = (spec, uses + 1)
        starts = (self._start(spec, uses) for spec, uses in parts.values())
        outcomes = await asyncio.gather(*starts, return_exceptions=True)
        failed = [o for o in outcomes if isinstance(o, BaseException)]
        if failed:
            await self.aclose()
            raise failed[0]

    async def _start(self, spec: Spec, uses: int) -> None:
        async with AsyncExitStack() as stack:
            server = await stack.enter_async_context(
                live_server(spec.settings, self._workdir, spec.name, spec.workers, spec.extra)
            )
            self._ready[spec.name] = (spec, server, stack.pop_all(), uses)

    @asynccontextmanager
    async def serve(self, spec: Spec) -> AsyncIterator[Server]:
        """The server started for `spec` (else one started now); stopped after the last
        part it was started for."""
        found = self._ready.get(spec.name)
        if found is not None and found[0] != spec:
            del self._ready[spec.name]
            await found[2].aclose()  # started for other settings: not this part's server
            found = None
        if found is None:
            async with live_server(
                spec.settings, self._workdir, spec.name, spec.workers, spec.extra
            ) as server:
                yield server
            return
        try:
            yield found[1]
        finally:
            _, server, stops, uses = self._ready.pop(spec.name)
            if uses > 1:
                self._ready[spec.name] = (spec, server, stops, uses - 1)
            else:
                await stops.aclose()

    async def aclose(self) -> None:
        """Stop every server still waiting for a part."""
        while self._ready:
            _, (_, _, stops, _) = self._ready.popitem()
            await stops.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


async def _wait_until_healthy(process: asyncio.subprocess.Process, server: Server) -> None:
    deadline = asyncio.get_running_loop().time() + STARTUP_SECONDS
    async with httpx.AsyncClient(base_url=server.url, timeout=1.0) as client:
        while asyncio.get_running_loop().time() < deadline:
            if process.returncode is not None:
                raise BenchError(f"gatepass serve exited: {tail(server.log)}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get("/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise BenchError(f"gatepass serve not healthy after {STARTUP_SECONDS:g} s: {tail(server.log)}")


async def stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, then SIGKILL after STOP_SECONDS; returns once the process is gone."""
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), STOP_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()


def tail(log: Path, lines: int = 20) -> str:
    """The end of the server's log, for a failure message (the log dies with the run)."""
    text = log.read_text(errors="replace").strip().splitlines()
    return "\n".join(["", *text[-lines:]]) if text else "(no output)"
