"""`python -m bench [--quick] [--json | --markdown]`: session check per backend beside a raw
redis-py GET, login cost, token rates per algorithm, and the token endpoint on a live server:
the authorization-code exchange per backend, client_credentials and refresh_token per
backend and access-token algorithm; and the resource toolkit: token verification per
algorithm beside raw `cryptography` and PyJWT, a protected Starlette endpoint beside the
same one open, and revocation propagation to a verifier in another process."""

import argparse
import asyncio
import json
import platform
import sys
import time
from dataclasses import dataclass
from typing import Any

import hiredis
import redis
from redis.asyncio import Redis
from sqlalchemy import text

from bench import exchange, grants, login, redis_probe, report, resource, tokens
from bench.environment import (
    BACKENDS,
    REDIS_URL,
    SESSIONS_PER_USER,
    USERS,
    BenchError,
    Stack,
    open_stack,
    services,
)
from bench.workload import Operation, Throughput, closed_loop, interleaved
from gatepass.config import Settings
from gatepass.errors import ConfigError
from gatepass.storage.backends import open_redis

TARGET_RATIO = 0.80
TARGET_RECORD_BYTES = 300
TARGET_ROUND_TRIPS = 1


@dataclass(frozen=True)
class Mode:
    name: str
    seconds: float  # measured, per case
    warmup: float  # per case, discarded
    slices: int  # turns of the interleaved Redis cases
    login_rounds: int
    round_trip_checks: int
    token_seconds: float  # measured, per token case (one signature is ~0.1-1 ms)
    token_warmup: float
    revocations: int  # revoked one at a time, each timed to its refusal elsewhere

    @property
    def token_timing(self) -> tokens.Timing:
        return tokens.Timing(self.token_seconds, self.token_warmup, self.slices)

    @property
    def request_timing(self) -> tokens.Timing:
        return tokens.Timing(self.seconds, self.warmup, self.slices)


MODES = {
    "default": Mode(
        "default",
        seconds=3.0,
        warmup=1.0,
        slices=12,
        login_rounds=15,
        round_trip_checks=1000,
        token_seconds=2.0,
        token_warmup=0.3,
        revocations=200,
    ),
    "quick": Mode(
        "quick",
        seconds=1.0,
        warmup=0.3,
        slices=4,
        login_rounds=5,
        round_trip_checks=200,
        token_seconds=0.5,
        token_warmup=0.1,
        revocations=50,
    ),
}


STARTED = time.monotonic()


def _progress(message: str) -> None:
    """Where the run is, on stderr (stdout carries only the results)."""
    print(f"[{time.monotonic() - STARTED:5.1f} s] {message}", file=sys.stderr, flush=True)


def _session_check(stack: Stack) -> Operation:
    manager, cookies = stack.manager, stack.secrets

    async def check(i: int) -> bool:
        return await manager.resume(cookies[i]) is not None

    return check


def _raw_get(client: Redis, stack: Stack) -> Operation:
    prefix = stack.settings.redis_prefix
    keys = [f"{prefix}s:{session_id}" for session_id in stack.session_ids]

    async def get(i: int) -> bool:
        return await client.get(keys[i]) is not None

    return get


def _raw_getex(client: Redis, stack: Stack) -> Operation:
    """GETEX with the idle timeout: the sliding expiry alone, without gatepass around it."""
    prefix, idle = stack.settings.redis_prefix, stack.settings.session_idle_ttl
    keys = [f"{prefix}s:{session_id}" for session_id in stack.session_ids]

    async def getex(i: int) -> bool:
        return await client.getex(keys[i], ex=idle) is not None

    return getex


async def _sql_checks(stack: Stack, mode: Mode, levels: list[int]) -> dict[int, Throughput]:
    results = {}
    for c in levels:
        _progress(f"session check on {stack.name}, concurrency {c}")
        results[c] = await closed_loop(
            _session_check(stack),
            concurrency=c,
            items=len(stack.secrets),
            seconds=mode.seconds,
            warmup=mode.warmup,
        )
    return results


async def _redis_checks(stack: Stack, mode: Mode, levels: list[int]) -> dict[str, Any]:
    """The session check, raw GETs and raw GETEXs of the same keys, interleaved.

    The raw client is built by gatepass's own `open_redis`, so it has the same
    settings (redis.asyncio, hiredis parser, timeouts, health checks) as the store's.
    """
    raw = open_redis(REDIS_URL)
    checks, gets, getexes, ratios, parts = {}, {}, {}, {}, {}
    try:
        for c in levels:
            _progress(f"session check and raw GET on redis, concurrency {c}")
            run = await interleaved(
                [_session_check(stack), _raw_get(raw, stack), _raw_getex(raw, stack)],
                concurrency=c,
                items=len(stack.secrets),
                seconds=mode.seconds,
                warmup=mode.warmup,
                slices=mode.slices,
            )
            checks[c], gets[c], getexes[c] = run.results
            ratios[c] = run.paired_ratio(0, 1)
            # Where the gap comes from: the sliding expiry itself, then gatepass around it.
            parts[c] = {
                "getex_over_get": run.paired_ratio(2, 1),
                "check_over_getex": run.paired_ratio(0, 2),
            }
    finally:
        await raw.aclose()
    return {
        "session_check": checks,
        "raw_get": gets,
        "raw_getex": getexes,
        "paired_ratio": ratios,
        "paired_ratio_parts": parts,
        "round_trips": await redis_probe.round_trips(stack, mode.round_trip_checks),
        "memory": await redis_probe.memory(stack),
    }


async def _versions(stack: Stack) -> dict[str, str]:
    versions = {
        "python": platform.python_version(),
        "redis-py": redis.__version__,
        "hiredis": hiredis.__version__,
    }
    if stack.backends.redis is not None:
        info = await stack.backends.redis.info("server")
        versions["redis"] = str(info["redis_version"])
    async with stack.backends.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            versions["postgresql"] = str(await conn.scalar(text("SHOW server_version")))
        else:
            versions["sqlite"] = str(await conn.scalar(text("SELECT sqlite_version()")))
    return versions


async def run(mode: Mode, levels: list[int]) -> dict[str, Any]:
    results: dict[str, Any] = {
        "mode": mode.name,
        "seconds_per_case": mode.seconds,
        "warmup_per_case": mode.warmup,
        "slices": mode.slices,
        "concurrency": levels,
        "workload": {"users": USERS, "sessions_per_user": SESSIONS_PER_USER},
        "versions": {},
        "argon2": login.raw_argon2(Settings(), mode.login_rounds),
        "session_check": {},
        "login": {},
        "token_seconds_per_case": mode.token_seconds,
        "exchange": {"server": exchange.SERVER, "backends": {}},
        "grants": {
            "server": exchange.SERVER,
            "algorithms": {name: list(grants.algorithms_on(name)) for name in BACKENDS},
            **{grant: {} for grant in grants.GRANTS},
        },
    }
    results["versions"] |= tokens.versions() | exchange.versions()
    async with services() as (postgres_url, workdir, prefix):
        results["tokens"] = await tokens.token_rates(workdir, mode.token_timing, _progress)
        for name in BACKENDS:
            _progress(f"seeding {name}")
            async with open_stack(name, postgres_url, workdir, prefix) as stack:
                results["versions"].update(await _versions(stack))
                if name == "redis":
                    results["redis"] = await _redis_checks(stack, mode, levels)
                    results["session_check"][name] = results["redis"].pop("session_check")
                else:
                    results["session_check"][name] = await _sql_checks(stack, mode, levels)
                _progress(f"login on {name}")
                results["login"][name] = await login.login_cost(stack, mode.login_rounds)
                code_exchange, by_grant = await grants.token_endpoint(
                    stack, workdir, levels, mode.seconds, mode.warmup, _progress
                )
                results["exchange"]["backends"][name] = code_exchange
                for grant, by_alg in by_grant.items():
                    results["grants"][grant][name] = by_alg
                if name == "redis":  # SQLite records, the Redis feed: what issue 5 asks
                    results["resource"] = await resource.resource_figures(
                        stack,
                        workdir,
                        token_timing=mode.token_timing,
                        endpoint_timing=mode.request_timing,
                        concurrency=max(levels),
                        revocations=mode.revocations,
                        progress=_progress,
                    )
    results["targets"] = _targets(results)
    return results


def _targets(results: dict[str, Any]) -> dict[str, Any]:
    ratios = results["redis"]["paired_ratio"]
    trips = results["redis"]["round_trips"]["round_trips_per_check"]
    record = results["redis"]["memory"]["session_record_bytes"]
    goals = [m for m in results["resource"]["metrics"] if m["goal"] is not None]
    return {
        "resource_goals": {m["name"]: m["met"] for m in goals},
        "resource_goals_met": all(m["met"] for m in goals),
        "ratio_to_raw_get": ratios,
        "ratio_target": TARGET_RATIO,
        "ratio_met": all(r >= TARGET_RATIO for r in ratios.values()),
        "round_trips": trips,
        "round_trips_met": trips <= TARGET_ROUND_TRIPS,
        "record_bytes_target": TARGET_RECORD_BYTES,
        "record_bytes_met": 0 < record <= TARGET_RECORD_BYTES,
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, Throughput):
        return value.as_dict()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="about a second per case")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print one JSON object")
    output.add_argument(
        "--markdown",
        action="store_true",
        help="print the token-endpoint and resource-toolkit figures as Markdown (bench/README.md)",
    )
    parser.add_argument(
        "--concurrency",
        default="1,16",
        help="comma-separated numbers of concurrent asyncio tasks (default 1,16)",
    )
    args = parser.parse_args(argv)
    try:
        levels = [int(c) for c in args.concurrency.split(",")]
    except ValueError:
        parser.error("--concurrency takes numbers, e.g. 1,16")
    if not levels or min(levels) < 1:
        parser.error("--concurrency takes positive numbers")
    mode = MODES["quick" if args.quick else "default"]
    try:
        results = asyncio.run(run(mode, levels))
    except (BenchError, ConfigError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(_jsonable(results), indent=2))
    elif args.markdown:
        print(report.markdown(results))
    else:
        print(report.render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
