"""The resource-toolkit benchmark (gatepass/benchmarks/resource.py and its parts) against
the real thing: a live `gatepass serve` on SQLite + Redis, a verifier in another process,
uvicorn apps. What it times must be right answers (valid tokens accepted, revoked ones
refused, the protected endpoint really protected). Nothing here asserts on a rate or a
latency."""

import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import jwt
import pytest

from gatepass.accounts.model import User
from gatepass.benchmarks import endpoint, login_storm, resource, verify_rates
from gatepass.benchmarks.environment import (
    LOGINS_PER_ADDRESS,
    PASSWORD,
    BenchError,
    Stack,
    argon2_parameters,
    manager_for,
)
from gatepass.benchmarks.server import Servers, live_server
from gatepass.benchmarks.tokens import Timing
from gatepass.benchmarks.workload import Operation
from gatepass.clock import SystemClock
from gatepass.config import Settings
from gatepass.crypto.passwords import PasswordHasher
from gatepass.keys.ring import KeyRing
from gatepass.resource import JwksCache, TokenVerifier
from gatepass.storage.backends import Backends
from gatepass.web.app import build_key_ring
from tests.support import web_client

TINY = Timing(seconds=0.05, warmup=0.01, slices=1)


@pytest.fixture
def backend() -> str:
    """SQLite for the records, Redis for the revocation feed: what the bench runs on."""
    return "redis"


@pytest.fixture
async def stack(settings: Settings, backends: Backends) -> Stack:
    hasher = PasswordHasher(argon2_parameters(settings))
    now = time.time()
    user = User(
        str(uuid.uuid4()), "u@bench.example", "", hasher.hash_sync(PASSWORD), False, now, now
    )
    await backends.users.add(user)
    # As the bench's own stacks (environment.py): the login storm signs in from 127.0.0.1
    # for as long as it lasts, and a fast machine passes the default 100 attempts an
    # address in well under a second.
    settings = replace(settings, login_address_limit=LOGINS_PER_ADDRESS)
    return Stack(
        "redis", settings, backends, manager_for(settings, backends), hasher, [user.id], [], []
    )


@pytest.fixture
async def ring(settings: Settings, backends: Backends) -> KeyRing:
    ring = build_key_ring(settings, backends, SystemClock())
    await ring.start()
    return ring


@pytest.fixture
async def jwks(settings: Settings, backends: Backends) -> AsyncIterator[JwksCache]:
    """The keys as a verifier fetches them, from the real app (in-process here)."""
    async with web_client(settings, backends) as http:
        cache = JwksCache(settings.issuer, http=http)
        await cache.start()
        yield cache
        await cache.aclose()


async def answers(op: Operation) -> bool:
    """What the workload counts: True, or an error (False or an exception)."""
    try:
        return await op(0)
    except Exception:
        return False


def tampered(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The same tokens with one claim changed under the old signature."""
    out = []
    for token, jti in pairs:
        header, payload, signature = token.split(".")
        forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BA")
        out.append((f"{header}.{forged}.{signature}", jti))
    return out


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
async def test_every_verify_case_accepts_real_tokens_and_none_accepts_forged_ones(
    settings: Settings, ring: KeyRing, jwks: JwksCache, alg: str
) -> None:
    pairs = await verify_rates.issued_tokens(settings, ring, alg)
    assert len({jti for _, jti in pairs}) == verify_rates.BATCH  # distinct tokens
    audience = settings.access_token_audience
    public = jwks.cached(jwt.get_unverified_header(pairs[0][0])["kid"], time.time())
    assert public is not None
    assert public.alg == alg

    verifier = TokenVerifier(settings.issuer, audience, jwks=jwks)

    def cases(batch: list[tuple[str, str]]) -> list[Operation]:
        return [
            verify_rates._raw(alg, public.public_key(), [token for token, _ in batch]),
            verify_rates._pyjwt(alg, public.public_key(), verifier, batch),
            verify_rates._ours(verifier, batch),
        ]

    assert [await answers(op) for op in cases(pairs)] == [True, True, True]
    assert [await answers(op) for op in cases(tampered(pairs))] == [False, False, False]


async def test_one_run_on_a_live_server_measures_right_answers_and_reports_them(
    stack: Stack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with Servers(tmp_path) as servers:  # none started beforehand: one starts now
        figures = await resource.resource_figures(
            stack,
            tmp_path,
            servers,
            token_timing=TINY,
            endpoint_timing=Timing(seconds=0.2, warmup=0.05, slices=2),
            concurrency=2,
            revocations=3,
            saturation_seconds=0.3,
            progress=lambda message: None,
        )
    spread = figures["propagation"]
    # Each revoked token was accepted by the other process first, then refused as revoked.
    assert (spread["refused"], spread["errors"]) == (3, 0)
    assert 0 < spread["remaining_lifetime_seconds"]["median"] <= stack.settings.access_token_ttl
    for entry in figures["verify"]["algorithms"].values():
        for case in entry["cases"].values():
            assert case["verifications"] > 0
            assert case["failed_batches"] == 0
    assert figures["verify"]["revocations_held"] == 3  # the feed delivered them in-process
    requests = figures["endpoint"]["requests"]
    assert requests["open"].ops > 0
    assert requests["protected"].ops > 0
    assert requests["open"].errors == requests["protected"].errors == 0
    # Under the login storm (a process of its own): samples taken, logins signed in.
    saturated = figures["under_login_load"]
    for phase in ("quiet", "loaded"):
        for what in ("jwks", "verify"):
            assert saturated[phase][what]["samples"] > 0
            assert 0 < saturated[phase][what]["p50_ms"] <= saturated[phase][what]["p99_ms"]
    assert saturated["loaded"]["logins"] > 0
    assert saturated["loaded"]["login_failures"] == 0
    # Every process it started was waited for, none reaped behind asyncio's back (a kill
    # of a child that had just exited did that, and asyncio warned of an unknown pid).
    assert not [r for r in caplog.records if "Unknown child process" in r.getMessage()]


async def test_the_login_storm_signs_its_users_in_until_its_time_is_up(
    stack: Stack, tmp_path: Path
) -> None:
    """What the storm process runs (login_storm.main), here in-process on a live server."""
    async with live_server(stack.settings, tmp_path, "storm") as server:
        tally = await login_storm._storm(server.url, PASSWORD, ["u@bench.example"], 2, 0.5)
    assert tally["ok"] > 0
    assert tally["failed"] == 0
    assert tally["seconds"] >= 0.5


def test_the_login_storm_process_imports_httpx_and_not_the_server() -> None:
    """It starts while the measurement waits: the server's imports (SQLAlchemy, the app)
    would cost it seconds of a core first."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, gatepass.benchmarks.login_storm; print(*sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "httpx" in loaded
    assert not [m for m in loaded if m.split(".")[0] in ("sqlalchemy", "redis", "starlette")]
    assert {m for m in loaded if m.startswith("gatepass")} == {
        "gatepass",
        "gatepass.benchmarks",
        "gatepass.benchmarks.login_storm",
    }


async def test_the_endpoint_bench_refuses_to_time_an_unprotected_app(tmp_path: Path) -> None:
    """If the 'protected' app let a request without a token through, the comparison
    would be meaningless: the sanity check stops the run instead."""
    async with (
        endpoint.app_server("open", tmp_path) as open_app,
        endpoint.app_server("also-open", tmp_path) as not_protected,
    ):
        with pytest.raises(BenchError, match="without a token"):
            await endpoint._sanity(open_app, not_protected, "any-token")


async def test_the_bare_client_reads_answers_by_content_length(
    tmp_path: Path,
) -> None:
    async with endpoint.app_server("open", tmp_path) as app:
        connection = await endpoint.Connection.open(app.port)
        try:
            answers = [await connection.request(endpoint.request(app.port, None)) for _ in range(3)]
        finally:
            await connection.close()
    assert [status for status, _ in answers] == [200, 200, 200]
    assert all(body == answers[0][1] and body.startswith(b'{"orders"') for _, body in answers)
