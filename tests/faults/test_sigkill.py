"""SIGKILL one of two `gatepass serve` processes mid-load: every answer a client was given
stays true afterwards.

    USERS signed-in users, ROUNDS rounds each (tests/faults/workload.py), round-robin over
    A and B; a refused connection goes to the other, a request A held when it died is lost
    once KILL_AFTER answers are in and A holds requests: SIGKILL A (no shutdown at all)
    then, on B:
        every access token received ─► introspection: active, with its own jti
        every chain's latest refresh token ─► refreshes once (or its whole family is revoked:
                                              none of its access tokens is active)
        every session cookie received ─► opens /account

A process dies between any two instructions: what it had committed is in PostgreSQL and
Redis, what it had not was never answered. The survivor must agree with every answer
either of them gave.
"""

import asyncio
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from tests.faults.journeys import (
    Balancer,
    Chain,
    Journeys,
    Ledger,
    browser,
    claims_of,
    new_email,
    register_app,
)
from tests.faults.processes import Cluster, ServerProcess, cluster
from tests.faults.workload import user_load

USERS = 4
ROUNDS = 6
KILL_AFTER = 40  # answers before the kill: the load is well under way, and goes on after
KILL_HOLDING = 2  # requests A holds at the kill, at least
POLL_SECONDS = 0.002


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Cluster]:
    with cluster(tmp_path, ["a", "b"]) as running:
        yield running


async def kill_mid_load(
    process: ServerProcess, balancer: Balancer, ledger: Ledger, load: asyncio.Future[list[None]]
) -> int:
    """SIGKILL `process` once KILL_AFTER answers are in and it holds requests; how many it
    held (0 if the load ended first: the test then proved nothing)."""
    while not load.done():
        held = balancer.held[process.url]
        # Rather two requests in its hands (one may be answered already, its answer still
        # on the way); one will do if the load does not get there.
        wanted = KILL_HOLDING if ledger.answered < 2 * KILL_AFTER else 1
        if ledger.answered >= KILL_AFTER and held >= wanted:
            process.kill()
            return held
        await asyncio.sleep(POLL_SECONDS)
    return 0


async def revoked_whole(j: Journeys, chain: Chain, survivor: str) -> bool:
    """Whether the chain's latest token is refused because the family was revoked as a
    whole; False when it refreshes (once)."""
    answer = await j.refresh(chain.refresh_token, to=survivor)
    if answer.status_code == 200:
        successor = answer.json()["refresh_token"]
        # The family moved on by exactly one step: the successor is its current token.
        assert (await j.introspect(successor, to=survivor))["active"]
        return False
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    for token in chain.access_tokens:  # no half: every token the family issued is dead
        assert not (await j.introspect(token, to=survivor))["active"]
    return True


async def test_sigkill_mid_load_leaves_every_answer_true(pair: Cluster) -> None:
    a, b = pair["a"], pair["b"]
    balancer = Balancer([a.url, b.url])
    ledger = Ledger()
    async with AsyncExitStack() as stack:
        j = await stack.enter_async_context(Journeys(pair, balancer, register_app(pair), ledger))
        browsers = [await stack.enter_async_context(browser()) for _ in range(USERS)]
        emails = [new_email() for _ in browsers]
        sessions = [
            await j.sign_up(http, email) for http, email in zip(browsers, emails, strict=True)
        ]
        load = asyncio.gather(
            *(
                user_load(j, email, http, session, rounds=ROUNDS)
                for http, email, session in zip(browsers, emails, sessions, strict=True)
            )
        )
        held = await kill_mid_load(a, balancer, ledger, load)
        await load
        assert held > 0, "A was killed holding no request"
        assert not a.running
        assert ledger.failures == []
        assert ledger.chains, "no code was redeemed"
        await check_every_answer(j, b.url, sessions)


async def check_every_answer(j: Journeys, survivor: str, signed_up: list[str]) -> None:
    ledger = j.ledger
    revoked = [chain for chain in ledger.chains if await revoked_whole(j, chain, survivor)]
    live = ledger.access_tokens + [
        token for chain in ledger.chains if chain not in revoked for token in chain.access_tokens
    ]
    for token in live:
        answer = await j.introspect(token, to=survivor)
        assert answer["active"], claims_of(token)
        assert answer["jti"] == claims_of(token)["jti"]
    for secret in signed_up + ledger.sessions:
        assert await j.session_works(secret, to=survivor)
    # A refresh lost with A is asked again at B: the retry window hands out the successor
    # A may have committed, so no family is revoked as stolen.
    assert revoked == []
