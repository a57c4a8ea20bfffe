"""Real local Redis topologies for the tests: a 3-master Redis Cluster and a Sentinel set-up.

Every server is a `redis-server` child process on a free loopback port, in a temporary
directory, with persistence off; `stop` kills them all (bounded waits, no leftovers).
"""

import random
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

START_SECONDS = 20.0  # a topology that is not up by then fails the run
POLL_SECONDS = 0.05


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000, at most 65535) is free too."""
    while True:
        port = free_port()
        if port <= 55535 and _is_free(port + 10000):
            return port
        port = random.randint(20000, 55535)
        if _is_free(port) and _is_free(port + 10000):
            return port


def _wait(ready: Callable[[], bool], what: str, seconds: float = START_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"{what} not ready after {seconds:.0f}s")


@dataclass
class Servers:
    """The processes of one topology, stopped together."""

    workdir: Path
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    args: dict[int, list[str]] = field(default_factory=dict)  # to restart one

    def start(
        self, port: int, *extra: str, config: str | None = None, sentinel: bool = False
    ) -> None:
        folder = self.workdir / str(port)
        folder.mkdir(exist_ok=True)
        args = ["redis-server"]
        if config is not None:
            conf = folder / "redis.conf"
            conf.write_text(config)
            args.append(str(conf))
        args += ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder)]
        args += ["--daemonize", "no"]
        args += ["--sentinel"] if sentinel else ["--save", "", "--appendonly", "no"]
        args += extra
        self.args[port] = args
        self._run(port, folder)

    def restart(self, port: int) -> None:
        """Start a killed server again, same options, same folder (a cluster node finds
        its nodes.conf there and rejoins; without persistence it comes back empty)."""
        self._run(port, self.workdir / str(port))

    def _run(self, port: int, folder: Path) -> None:
        args = self.args[port]
        with (folder / "server.log").open("ab") as log:  # the child keeps its own copy
            self.processes[port] = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait(lambda: redis.Redis(port=port, socket_timeout=1).ping(), f"redis on {port}")
        except RuntimeError as exc:
            log_tail = (folder / "server.log").read_text(errors="replace")[-600:]
            raise RuntimeError(f"{exc}; its log ends: {log_tail}") from None

    def kill(self, port: int) -> None:
        process = self.processes.pop(port)
        process.kill()
        process.wait(timeout=10)

    def stop(self) -> None:
        for port in list(self.processes):
            self.kill(port)


def start_cluster(workdir: Path, masters: int = 3) -> tuple[Servers, list[int]]:
    servers = Servers(workdir)
    ports = [free_cluster_port() for _ in range(masters)]
    try:
        for port in ports:
            servers.start(
                port,
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                f"nodes-{port}.conf",
                "--cluster-node-timeout",
                "2000",
            )
        subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *(f"127.0.0.1:{p}" for p in ports),
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=START_SECONDS,
        )
        for port in ports:
            _wait(
                lambda port=port: redis.Redis(port=port).cluster("info")["cluster_state"] == "ok",
                f"cluster node {port}",
            )
    except BaseException:
        servers.stop()
        raise
    return servers, ports


SERVICE = "gpmaster"


def start_sentinel(workdir: Path) -> tuple[Servers, int, int, int]:
    """One master, one replica, one sentinel (quorum 1); (servers, master, replica, sentinel)."""
    servers = Servers(workdir)
    master, replica, sentinel = free_port(), free_port(), free_port()
    try:
        servers.start(master)
        servers.start(replica, "--replicaof", "127.0.0.1", str(master))
        _wait(
            lambda: redis.Redis(port=replica).info("replication")["master_link_status"] == "up",
            "replica",
        )
        config = (
            f"sentinel monitor {SERVICE} 127.0.0.1 {master} 1\n"
            f"sentinel down-after-milliseconds {SERVICE} 1000\n"
            f"sentinel failover-timeout {SERVICE} 4000\n"
        )
        servers.start(sentinel, config=config, sentinel=True)
        _wait(
            lambda: len(redis.Redis(port=sentinel).sentinel_slaves(SERVICE)) == 1,
            "sentinel's view of the replica",
        )
    except BaseException:
        servers.stop()
        raise
    return servers, master, replica, sentinel
