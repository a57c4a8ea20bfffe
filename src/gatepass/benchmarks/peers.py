"""The peer a user would otherwise deploy: `oidc-provider` from npm, beside `gatepass serve`.

    bench process (bare HTTP/1.1 client)          gatepass serve, one worker (per alg)
      N keep-alive connections per server ──────► POST /token client_credentials, discovery,
      the same request shape to both,               /jwks.json
      interleaved turns (workload.interleaved)  ──► node bench-provider.mjs, one process:
                                                    the same grant, scopes, client auth,
                                                    JWT access tokens (resource per alg)

oidc-provider is pinned by node/package.json and node/package-lock.json (shipped in the
package); `npm ci` installs exactly that lock into a cache directory (never the
repository or the working directory), once per lock. Without Node.js or when npm fails,
`install` answers the reason and every peer figure says "baseline unavailable".
"""

import asyncio
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from gatepass.benchmarks.endpoint import Connection
from gatepass.benchmarks.environment import BenchError
from gatepass.benchmarks.server import free_port, stop
from gatepass.benchmarks.tokens import Timing
from gatepass.benchmarks.workload import Interleaved, Operation, interleaved

NODE = Path(__file__).parent / "node"
FILES = ("package.json", "package-lock.json", "bench-provider.mjs")
INSTALL_SECONDS = 300.0
READY_SECONDS = 30.0
PEER = "oidc-provider"
RESOURCE = "https://api.bench.example/{alg}"  # one resource indicator per signing algorithm
SCOPE = "orders:read orders:write"
Check = Callable[[int, bytes], bool]


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gatepass-bench"


def _lock_digest() -> str:
    digest = hashlib.sha256()
    for name in FILES:
        digest.update((NODE / name).read_bytes())
    return digest.hexdigest()[:16]


async def install(root: Path | None = None) -> Path | str:
    """The directory with oidc-provider installed (`npm ci` of the shipped lock, cached per
    lock), or why there is none."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            return f"{tool} not found"
    directory = (root or cache_root()) / f"oidc-provider-{_lock_digest()}"
    marker = directory / ".installed"
    if marker.exists():
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copy(NODE / name, directory / name)
    process = await asyncio.create_subprocess_exec(
        *("npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"),
        cwd=directory,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), INSTALL_SECONDS)
    except TimeoutError:
        await stop(process)
        return f"npm ci took longer than {INSTALL_SECONDS:g} s"
    if process.returncode != 0:
        last = output.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        return f"npm ci failed: {last[0]}"
    marker.write_text("ok\n")
    return directory


@asynccontextmanager
async def running(
    directory: Path, client_id: str, secret: str, algorithms: tuple[str, ...], workdir: Path
) -> AsyncIterator[int]:
    """bench-provider.mjs on a free loopback port (yielded); stopped at the end."""
    port = free_port()
    config = {
        "client_id": client_id,
        "client_secret": secret,
        "resources": {RESOURCE.format(alg=alg): alg for alg in algorithms},
    }
    env = {k: v for k, v in os.environ.items() if k not in ("NODE_ENV", "DEBUG")}
    with (workdir / "oidc-provider.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *("node", "bench-provider.mjs", str(port)),
            cwd=directory,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )
    try:
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(json.dumps(config).encode())
        process.stdin.close()
        try:
            line = await asyncio.wait_for(process.stdout.readline(), READY_SECONDS)
        except TimeoutError:
            line = b""
        if not line.startswith(b'{"ready":true'):
            raise BenchError(f"oidc-provider did not start (see {workdir}/oidc-provider.log)")
        yield port
    finally:
        await stop(process)


def token_request(port: int, authorization: str, resource: str | None) -> bytes:
    """POST /token, grant_type=client_credentials, client_secret_basic, as raw bytes."""
    form = f"grant_type=client_credentials&scope={SCOPE.replace(' ', '+')}"
    if resource is not None:  # oidc-provider: the resource picks the signing algorithm
        form += "&resource=" + resource.replace(":", "%3A").replace("/", "%2F")
    body = form.encode()
    head = (
        f"POST /token HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {authorization}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def get_request(port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


def token_ok(status: int, body: bytes) -> bool:
    return status == 200 and b'"access_token"' in body


def json_ok(status: int, body: bytes) -> bool:
    return status == 200 and body.startswith(b"{")


def _op(pool: list[Connection], raw: bytes, ok: Check) -> Operation:
    async def call(i: int) -> bool:
        connection = pool.pop()  # one per task: never empty while all of them work
        status, body = await connection.request(raw)
        pool.append(connection)  # not after a failure: its stream is in an unknown state
        return ok(status, body)

    return call


async def compare(
    targets: list[tuple[int, bytes]],
    ok: Check,
    concurrency: int,
    timing: Timing,
    peer_warmup: float = 0.0,
) -> Interleaved:
    """The same kind of request to each (port, request bytes), interleaved turns: gatepass
    first, then the peers. A peer is warmed up for at least `peer_warmup` seconds: V8
    compiles its hot paths only after some thousands of requests. gatepass, on CPython,
    has nothing to compile, and its pools and caches are full after the first requests
    (a longer warm-up of ours could only flatter the ratio, not spoil it)."""
    pools = [[await Connection.open(port) for _ in range(concurrency)] for port, _ in targets]
    try:
        for pool, (_, raw) in zip(pools, targets, strict=True):  # refuse to time refusals
            status, body = await pool[0].request(raw)
            if not ok(status, body):
                raise BenchError(f"a peer request answered {status}: {body[:200]!r}")
        ops = [_op(pool, raw, ok) for pool, (_, raw) in zip(pools, targets, strict=True)]
        return await interleaved(
            ops,
            concurrency=concurrency,
            items=1,
            seconds=timing.seconds,
            warmup=[timing.warmup] + [max(timing.warmup, peer_warmup)] * (len(ops) - 1),
            slices=timing.slices,
        )
    finally:
        for pool in pools:
            for connection in pool:
                await connection.close()


def new_client() -> tuple[str, str]:
    """The peer's client: an id and a secret as long as gatepass's."""
    return f"bench-{secrets.token_hex(4)}", secrets.token_urlsafe(32)
