"""A bounded load of people and one app, for the fault tests: each user, round after round,

    session check ─ client_credentials ─ code flow (authorize + redeem) ─ refresh ─
    a new browser logs in (every LOGIN_EVERY rounds: a login costs an argon2 hash)

through the balancer, writing what it was given into the Ledger. A request that got no
answer (a process died holding it) is counted in `ledger.lost`; when `lost_is_failure`, it
is a failure instead (a graceful restart must lose nothing). A lost refresh is sent again
once, as a client does: within the retry window it gets the successor the lost answer
carried. A lost code redemption is not: the code may have been spent, and a spent code
presented again revokes what it issued (RFC 6749 §4.1.2), a test of its own.
"""

import asyncio
from collections.abc import Awaitable, Callable

import httpx

from tests.faults.journeys import Chain, Journeys, browser

LOGIN_EVERY = 2
# Between rounds: people pause, and a load that took every CPU cycle of a 2-core host would
# slow down the very restarts it is meant to run across.
THINK_SECONDS = 0.1


def lost(j: Journeys, kind: str, exc: httpx.TransportError) -> None:
    j.ledger.lost[kind] += 1
    if j.ledger.lost_is_failure:
        j.ledger.failures.append(f"{kind}: no answer ({type(exc).__name__}: {exc})")


async def answer_or_lost(
    j: Journeys, kind: str, send: Callable[[], Awaitable[httpx.Response]]
) -> httpx.Response | None:
    """The answer, or None when the request reached a process that died holding it."""
    try:
        return await send()
    except httpx.TransportError as exc:
        lost(j, kind, exc)
        return None


def expect(j: Journeys, kind: str, answer: httpx.Response, status: int) -> bool:
    if answer.status_code == status:
        return True
    j.ledger.failures.append(f"{kind}: {answer.status_code} {answer.text[:200]}")
    return False


async def session_check(j: Journeys, secret: str) -> None:
    """A signed-in user must stay signed in, whichever process answers."""
    try:
        works = await j.session_works(secret)
    except httpx.TransportError as exc:
        lost(j, "session", exc)
        return
    if not works:
        j.ledger.failures.append("session: a signed-in user was sent to the login page")


async def machine_token(j: Journeys) -> None:
    answer = await answer_or_lost(j, "client_credentials", j.client_credentials)
    if answer is not None and expect(j, "client_credentials", answer, 200):
        j.ledger.access_tokens.append(answer.json()["access_token"])


async def code_flow(j: Journeys, http: httpx.AsyncClient) -> Chain | None:
    """A signed-in browser's authorization code, redeemed: a new refresh-token chain."""
    try:
        code, verifier = await j.authorize(http)
    except httpx.TransportError as exc:
        lost(j, "authorize", exc)
        return None
    except AssertionError as exc:  # not a redirect to the client with a code
        j.ledger.failures.append(f"authorize: {exc}")
        return None
    answer = await answer_or_lost(j, "redeem", lambda: j.redeem(code, verifier))
    if answer is None or not expect(j, "redeem", answer, 200):
        return None
    body = answer.json()
    chain = Chain(body["refresh_token"], [body["access_token"]])
    j.ledger.chains.append(chain)
    return chain


async def rotate(j: Journeys, chain: Chain) -> None:
    for _ in range(2):
        answer = await answer_or_lost(j, "refresh", lambda: j.refresh(chain.refresh_token))
        if answer is None:
            continue
        if expect(j, "refresh", answer, 200):
            body = answer.json()
            chain.refresh_token = body["refresh_token"]
            chain.access_tokens.append(body["access_token"])
            chain.rotations += 1
        return


async def new_browser_logs_in(j: Journeys, email: str) -> None:
    async with browser() as http:
        try:
            session = await j.log_in(http, email)
        except httpx.TransportError as exc:
            lost(j, "login", exc)
            return
    if session is not None:
        j.ledger.sessions.append(session)


async def user_load(
    j: Journeys,
    email: str,
    http: httpx.AsyncClient,
    session: str,
    *,
    rounds: int,
    stop: asyncio.Event | None = None,
) -> None:
    """`rounds` rounds for one signed-in user (fewer if `stop` is set first)."""
    chain: Chain | None = None
    for round_number in range(rounds):
        if stop is not None and stop.is_set():
            return
        await session_check(j, session)
        await machine_token(j)
        chain = await code_flow(j, http) or chain
        if chain is not None:
            await rotate(j, chain)
        if round_number % LOGIN_EVERY == 0:
            await new_browser_logs_in(j, email)
        await asyncio.sleep(THINK_SECONDS)
