"""Login cost: Accounts.authenticate (and a session start) against argon2 alone.

Each round times a raw argon2 verify, then `authenticate`, then the `SessionManager.start`
that follows it at login, back to back; medians over the rounds, so a burst of load
from elsewhere on the machine hits all three alike and is not averaged in.
"""

import asyncio
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import argon2

from gatepass.accounts.service import Accounts
from gatepass.benchmarks.environment import (
    ADDRESS,
    PASSWORD,
    USER_AGENT,
    Stack,
    argon2_parameters,
    email,
)
from gatepass.benchmarks.tokens import Timing
from gatepass.benchmarks.workload import Operation, interleaved
from gatepass.clock import SystemClock
from gatepass.config import Settings


def raw_hasher(settings: Settings) -> argon2.PasswordHasher:
    """argon2-cffi with gatepass's parameters, called directly: no thread, no normalization."""
    params = argon2_parameters(settings)
    return argon2.PasswordHasher(
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        type=argon2.Type.ID,
    )


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def raw_argon2(settings: Settings, rounds: int) -> dict[str, Any]:
    params, hasher = argon2_parameters(settings), raw_hasher(settings)
    hashes, verifies = [], []
    encoded = hasher.hash(PASSWORD)
    for _ in range(rounds):
        began = time.perf_counter()
        hasher.hash(PASSWORD)
        hashes.append(_ms(began))
        began = time.perf_counter()
        hasher.verify(encoded, PASSWORD)
        verifies.append(_ms(began))
    return {
        "memory_kib": params.memory_kib,
        "time_cost": params.time_cost,
        "parallelism": params.parallelism,
        "rounds": rounds,
        "hash_ms": statistics.median(hashes),
        "verify_ms": statistics.median(verifies),
    }


async def login_cost(stack: Stack, rounds: int) -> dict[str, Any]:
    """Medians per op, one at a time, each round beside a raw verify of the same password."""
    accounts = Accounts(stack.backends.users, stack.hasher, SystemClock())
    hasher = raw_hasher(stack.settings)
    encoded = hasher.hash(PASSWORD)
    address = email(stack.name, 0)
    verify_ms, authenticate_ms, start_ms = [], [], []
    for n in range(rounds + 1):  # round 0 warms up: connections open, statements cached
        began = time.perf_counter()
        hasher.verify(encoded, PASSWORD)
        verified = time.perf_counter()
        user = await accounts.authenticate(address, PASSWORD)
        authenticated = time.perf_counter()
        assert user is not None
        await stack.manager.start(user.id, ADDRESS, USER_AGENT)
        if n:
            verify_ms.append((verified - began) * 1000)
            authenticate_ms.append((authenticated - verified) * 1000)
            start_ms.append(_ms(authenticated))
    verify, authenticate = statistics.median(verify_ms), statistics.median(authenticate_ms)
    return {
        "rounds": rounds,
        "raw_verify_ms": verify,
        "authenticate_ms": authenticate,
        "authenticate_over_raw_verify": authenticate / verify,
        "start_ms": statistics.median(start_ms),
    }


def _raw_on_cores(
    hasher: argon2.PasswordHasher, encoded: str, pool: ThreadPoolExecutor
) -> Operation:
    """argon2-cffi's verify on a pool of one thread per core: what the cores can hash
    (argon2-cffi releases the interpreter lock while it hashes)."""

    async def verify(i: int) -> bool:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, hasher.verify, encoded, PASSWORD)

    return verify


def _authenticate(accounts: Accounts, emails: list[str]) -> Operation:
    async def login(i: int) -> bool:
        return await accounts.authenticate(emails[i], PASSWORD) is not None

    return login


async def login_throughput(stack: Stack, timing: Timing) -> dict[str, Any]:
    """Concurrent logins (`Accounts.authenticate`, its hash off the event loop) beside raw
    argon2 verifies on every core, interleaved, at twice as many tasks as cores."""
    cores = os.cpu_count() or 1
    hasher, accounts = (
        raw_hasher(stack.settings),
        Accounts(stack.backends.users, stack.hasher, SystemClock()),
    )
    emails = [email(stack.name, n) for n in range(len(stack.user_ids))]
    with ThreadPoolExecutor(max_workers=cores) as pool:
        run = await interleaved(
            [_authenticate(accounts, emails), _raw_on_cores(hasher, hasher.hash(PASSWORD), pool)],
            concurrency=2 * cores,
            items=len(emails),
            seconds=timing.seconds,
            warmup=timing.warmup,
            slices=timing.slices,
        )
    return {"logins": run.results[0], "raw_on_cores": run.results[1], "cores": cores}
