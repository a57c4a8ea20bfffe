"""Stores of a test's own, to stop and restart mid-load without touching the shared ones:
a `redis-server` with an fsync-always AOF and a PostgreSQL cluster, each on a free
loopback port, in a directory removed at the end.

The shared PostgreSQL (5432) and Redis (6379) are never stopped: other tests use them.
"""

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.live_server import free_port

STARTUP_SECONDS = 30.0  # readiness on a busy 2-core machine; never a correctness bound
STOP_SECONDS = 15.0


class PrivateRedis:
    """`redis-server` on a free loopback port whose every acknowledged write is on disk
    (`appendfsync always`), so a stop and a start on the same directory lose nothing."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None, "redis-server is not installed"
        self._process = subprocess.Popen(
            [
                binary,
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--dir", str(self.workdir), "--save", ""),
                *("--appendonly", "yes", "--appendfsync", "always"),
                *("--daemonize", "no", "--logfile", str(self.workdir / "redis.log")),
            ],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited:\n{self.log()}")
            try:
                with redis.Redis(port=self.port, socket_connect_timeout=0.5) as client:
                    # PING answers LOADING while the AOF is replayed: wait for a real read.
                    client.dbsize()
                    return
            except (redis.ConnectionError, redis.BusyLoadingError):
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start:\n{self.log()}")

    @property
    def running(self) -> bool:
        return self._process is not None

    def stop(self) -> None:
        """SIGTERM: Redis closes every connection, flushes the AOF and exits."""
        process, self._process = self._process, None
        if process is None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def log(self) -> str:
        path = self.workdir / "redis.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


@contextmanager
def private_redis(parent: Path) -> Iterator[PrivateRedis]:
    """A PrivateRedis in a new directory under `parent`; stopped and removed at the end."""
    workdir = Path(tempfile.mkdtemp(prefix="redis-", dir=parent))
    server = PrivateRedis(workdir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        log = workdir / "redis.log"
        if log.exists():  # kept beside the test's other logs, for a failure's story
            shutil.copy(log, parent / f"{workdir.name}.log")
        shutil.rmtree(workdir, ignore_errors=True)


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    assert found, f"PostgreSQL's {name} is not installed"
    return found[-1]


def _as_postgres(*argv: str) -> subprocess.CompletedProcess[str]:
    """initdb and pg_ctl refuse to run as root: run them as the `postgres` user."""
    command = list(argv)
    if shutil.which("runuser") is not None and _is_root():
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=STARTUP_SECONDS * 2, check=False
    )


def _is_root() -> bool:
    return os.geteuid() == 0


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own, on a free loopback port, trust auth.

    Its directory is made with `tempfile` under the system temp folder, not pytest's
    tmp_path: the `postgres` user cannot enter root's pytest folders (mode 0700).
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.root = Path(tempfile.mkdtemp(prefix="gatepass-pg-"))
        self.data = self.root / "data"
        self.running = False
        if _is_root():
            shutil.chown(self.root, "postgres", "postgres")

    def init(self) -> None:
        done = _as_postgres(
            _postgres_bin("initdb"),
            *("-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8"),
            "--no-sync",  # a throw-away cluster: no need to wait for the disk
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{done.stdout}\n{done.stderr}")

    def start(self) -> None:
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.root}",
                # The faults here stop the server process, never the machine: what
                # PostgreSQL wrote is in the OS page cache either way, so fsync only slows
                # the shared machine down. Crash recovery still replays the WAL.
                "-c fsync=off",
                "-c shared_buffers=16MB",
                "-c max_connections=100",
            ]
        )
        done = _as_postgres(
            _postgres_bin("pg_ctl"),
            *("-D", str(self.data), "-l", str(self.root / "postgres.log")),
            *("-o", options, "-w", "-t", str(int(STARTUP_SECONDS)), "start"),
        )
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed:\n{done.stdout}\n{done.stderr}\n{self.log()}")
        self.running = True

    def start_if_stopped(self) -> None:
        if not self.running:
            self.start()

    def stop(self, mode: str = "immediate") -> None:
        """`immediate`: every backend dies at once, as in a crash (recovery at the next
        start); `fast`: open transactions roll back, then a clean shutdown."""
        done = _as_postgres(
            _postgres_bin("pg_ctl"),
            *("-D", str(self.data), "-m", mode, "-w", "-t", str(int(STOP_SECONDS)), "stop"),
        )
        if done.returncode != 0 and "Is server running?" not in done.stderr:
            raise RuntimeError(f"pg_ctl stop failed:\n{done.stdout}\n{done.stderr}")
        self.running = False

    def log(self) -> str:
        path = self.root / "postgres.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        try:
            cluster.stop("immediate")
        finally:
            cluster.remove()
