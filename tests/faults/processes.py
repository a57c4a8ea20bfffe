"""`gatepass serve` processes that a fault test stops, kills and starts again.

    with cluster(tmp_path, ["a", "b"]) as servers:      one issuer (a's URL), one scratch
        a, b = servers.processes                         PostgreSQL database + Redis prefix,
        a.kill()          SIGKILL: no shutdown at all    one master key
        a.restart()       SIGTERM, wait, start again on the same port, same settings
        b = ... skew_seconds=20                          b's wall clock runs 20 s ahead
                                                         (libfaketime; monotonic time untouched)

Unlike tests/live_server.py's `live_server`, a process here outlives a stop: it keeps its
port, directory and settings, as a process manager restarting a service would. Each runs
one worker (`--workers 1`), so the pid the test holds is the one serving: a signal reaches
the process that answers, not a supervisor in front of it.
"""

import importlib.util
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.live_server import (
    BINARY,
    LiveServer,
    free_port,
    scratch_postgres_and_redis,
    server_environment,
)
from tests.support import POSTGRES_ADMIN_URL, REDIS_URL, SECRET_KEY

STARTUP_SECONDS = 60.0  # readiness on a busy 2-core machine, never a correctness bound
STOP_SECONDS = 20.0  # above serve's 10 s graceful-shutdown timeout
# Every client of these tests comes from 127.0.0.1: the login throttle must not mistake
# the load for a guessing attack (what it counts is tested in tests/contract/).
UNTHROTTLED = {
    "GATEPASS_LOGIN_ADDRESS_LIMIT": "100000",
    "GATEPASS_LOGIN_ACCOUNT_LIMIT": "1000",
}


def libfaketime() -> Path:
    """The libfaketime shared object the `libfaketime` package ships (no import needed)."""
    spec = importlib.util.find_spec("libfaketime")
    assert spec is not None, "the libfaketime package is not installed"
    assert spec.submodule_search_locations, "libfaketime is not a package"
    package = Path(next(iter(spec.submodule_search_locations)))
    library = package / "vendor" / "libfaketime" / "src" / "libfaketime.so.1"
    assert library.is_file(), f"no {library}"
    return library


def skewed_clock(seconds: int) -> dict[str, str]:
    """Environment that shifts a process's wall clock by `seconds` (libfaketime). Only the
    wall clock: asyncio's timers and every timeout run on the monotonic clock, which stays
    true, as on a host whose NTP-disciplined clock is merely off."""
    return {
        "LD_PRELOAD": str(libfaketime()),
        "FAKETIME": f"{seconds:+d}s",
        "DONT_FAKE_MONOTONIC": "1",
    }


@dataclass
class ServerProcess:
    """One `gatepass serve` on a fixed loopback port; stopped and started at will."""

    name: str
    port: int
    workdir: Path
    env: dict[str, str]
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / "server.log"

    @property
    def pid(self) -> int:
        assert self._process is not None, f"{self.name} is not running"
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def read_log(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def start(self) -> None:
        """Start on this process's port, and return once /healthz answers."""
        assert not self.running, f"{self.name} is already running"
        with self.log.open("ab") as log:
            log.write(f"--- start {self.starts + 1} ---\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                [str(BINARY), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        self._wait_until_healthy()

    def terminate(self) -> int:
        """SIGTERM, as a process manager stops a service; its exit status once gone."""
        process = self._require()
        process.terminate()
        return process.wait(timeout=STOP_SECONDS)

    def signal_terminate(self) -> None:
        """SIGTERM, without waiting: the caller watches the shutdown (`wait_exit` after)."""
        self._require().terminate()

    def wait_exit(self) -> int:
        assert self._process is not None, f"{self.name} was never started"
        return self._process.wait(timeout=STOP_SECONDS)

    def kill(self) -> int:
        """SIGKILL: the process ends mid-request, nothing shuts down."""
        process = self._require()
        process.kill()
        return process.wait(timeout=STOP_SECONDS)

    def restart(self) -> None:
        self.terminate()
        self.start()

    def stop(self) -> None:
        """For clean-up: SIGTERM, then SIGKILL if it lingers; nothing if not running."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _require(self) -> subprocess.Popen[bytes]:
        process = self._process
        assert process is not None, f"{self.name} was never started"
        assert process.poll() is None, f"{self.name} is not running"
        return process

    def _wait_until_healthy(self) -> None:
        process = self._require()
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {process.returncode}:\n{self.read_log()}"
                )
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not healthy after {STARTUP_SECONDS} s:\n{self.read_log()}")


@dataclass(frozen=True)
class Cluster:
    """Processes acting as one issuer (the first one's URL), as behind a load balancer."""

    processes: tuple[ServerProcess, ...]

    @property
    def issuer(self) -> str:
        return self.processes[0].url

    def __getitem__(self, name: str) -> ServerProcess:
        [found] = [p for p in self.processes if p.name == name]
        return found

    def cli(self, *args: str) -> str:
        """`gatepass ARGS...` on the cluster's storage, run as LiveServer.cli runs it: in the
        first process's directory, with its environment; its stdout."""
        first = self.processes[0]
        return LiveServer(first.url, first.log, first.workdir, first.env).cli(*args)

    def logs(self) -> str:
        return "\n".join(f"=== {p.name}\n{p.read_log()}" for p in self.processes)


@contextmanager
def cluster(
    workdir: Path,
    names: Sequence[str],
    *,
    skew_seconds: Mapping[str, int] | None = None,
    settings: Mapping[str, str] | None = None,
) -> Iterator[Cluster]:
    """`gatepass serve` processes named `names` on a scratch PostgreSQL database and Redis
    prefix, one master key, the first one's URL as the issuer; every process stopped and
    the stores removed at the end, whatever happened. `skew_seconds` shifts the wall clock
    of the processes it names."""
    ports = {name: free_port() for name in names}
    issuer = f"http://127.0.0.1:{ports[names[0]]}"
    with ExitStack() as stack:
        stores = stack.enter_context(scratch_postgres_and_redis(POSTGRES_ADMIN_URL, REDIS_URL))
        shared = {
            **stores,
            **UNTHROTTLED,
            "GATEPASS_ISSUER": issuer,
            "GATEPASS_SECRET_KEY": SECRET_KEY,
            **(settings or {}),
        }
        processes = []
        for name in names:
            home = workdir / name
            home.mkdir()
            clock = (
                skewed_clock(skew_seconds[name]) if skew_seconds and name in skew_seconds else {}
            )
            env = server_environment(shared) | clock | {"PYTHONUNBUFFERED": "1"}
            processes.append(ServerProcess(name, ports[name], home, env))
        try:
            # The first migrates the database and creates the signing keys; the others then
            # find both and start side by side.
            processes[0].start()
            with ThreadPoolExecutor() as pool:
                for started in [pool.submit(p.start) for p in processes[1:]]:
                    started.result()
            yield Cluster(tuple(processes))
        finally:
            for process in processes:
                process.stop()
