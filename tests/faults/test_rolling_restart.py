"""A rolling restart under load: two `gatepass serve` processes behind a client-side
balancer, each restarted in turn (SIGTERM, wait, start again on its port with the same
settings) while people and an app keep working. Nobody notices.

    load: USERS signed-in users (tests/faults/workload.py), round after round, until both
          restarts are done; every request answered (a refused connection goes to the
          other process: what a balancer does), never a 5xx, every session still open
    for P in (A, B), Q the other one:
        on P: an anonymous /authorize ─► the login form (its CSRF token from P);
              a signed-in /authorize ─► a code, not yet redeemed
        P out of the balancer ─► SIGTERM P (requests it holds finish) ─► start P ─► back in
        the login form posted to Q ─► /authorize on the new P ─► code redeemed at Q;
        the earlier code redeemed at the new P
    after: every session opens /account on both processes

And SIGTERM itself: a request whose body is still arriving when the signal comes (the
server asked for it with 100 Continue, so the request is surely in its hands) is answered.
"""

import asyncio
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.faults.journeys import (
    MACHINE_SCOPE,
    Balancer,
    Journeys,
    Ledger,
    authorization_request,
    browser,
    code_of,
    new_email,
    register_app,
)
from tests.faults.processes import STOP_SECONDS, Cluster, cluster
from tests.faults.workload import user_load
from tests.oauth_client import App

USERS = 3
MAX_ROUNDS = 40  # per user: the load stops when the restarts are done, at the latest here
# Between taking a process out of the balancer and stopping it: requests already on their
# way still connect (what a balancer's drain allows); those it then holds must finish.
DRAIN_SECONDS = 0.1
READ_SECONDS = 30.0


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with cluster(tmp_path_factory.mktemp("rolling"), ["a", "b"]) as running:
        yield running


@pytest.fixture(scope="module")
def app(pair: Cluster) -> App:
    return register_app(pair)


async def test_sigterm_answers_a_request_still_arriving(pair: Cluster, app: App) -> None:
    b = pair["b"]
    body = urlencode({"grant_type": "client_credentials", "scope": MACHINE_SCOPE}).encode()
    head = (
        f"POST /token HTTP/1.1\r\nHost: 127.0.0.1:{b.port}\r\n"
        f"Authorization: {app.basic()['Authorization']}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
    )
    shutdowns = b.read_log().count("Shutting down")
    reader, writer = await asyncio.open_connection("127.0.0.1", b.port)
    try:
        writer.write(head.encode())
        await writer.drain()
        # RFC 9110 §10.1.1: the server asks for the body once the application reads it.
        interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_SECONDS)
        assert interim.startswith(b"HTTP/1.1 100 "), interim
        b.signal_terminate()
        deadline = time.monotonic() + STOP_SECONDS
        while b.read_log().count("Shutting down") == shutdowns:
            assert time.monotonic() < deadline, "no shutdown after SIGTERM"
            await asyncio.sleep(0.02)
        writer.write(body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), READ_SECONDS)  # to the close
    finally:
        writer.close()
        await asyncio.to_thread(b.wait_exit)
        b.start()
    status, _, rest = answer.partition(b"\r\n")
    assert status.startswith(b"HTTP/1.1 200 "), answer[:300]
    assert b'"access_token"' in rest
    # The process finished its shutdown rather than being cut short.
    assert "Finished server process" in b.read_log().split("Shutting down")[-1]


async def test_a_rolling_restart_under_load_loses_nothing(pair: Cluster, app: App) -> None:
    balancer = Balancer([p.url for p in pair.processes])
    ledger = Ledger(lost_is_failure=True)
    stop = asyncio.Event()
    async with AsyncExitStack() as stack:
        j = await stack.enter_async_context(Journeys(pair, balancer, app, ledger))
        browsers = [await stack.enter_async_context(browser()) for _ in range(USERS)]
        emails = [new_email() for _ in browsers]
        sessions = [
            await j.sign_up(http, email) for http, email in zip(browsers, emails, strict=True)
        ]
        load = asyncio.gather(
            *(
                user_load(j, email, http, session, rounds=MAX_ROUNDS, stop=stop)
                for http, email, session in zip(browsers, emails, sessions, strict=True)
            )
        )
        try:
            handed_over = await restart_each(j, pair, stack)
        finally:
            stop.set()
            await load
        assert ledger.failures == []
        for secret in sessions + ledger.sessions + handed_over:
            for process in pair.processes:
                assert await j.session_works(secret, to=process.url)


async def restart_each(j: Journeys, pair: Cluster, stack: AsyncExitStack) -> list[str]:
    """Restart every process in turn, with a login and an authorization in progress across
    each restart; the sessions those made."""
    sessions: list[str] = []
    visitor_email = new_email()
    signed_in = await stack.enter_async_context(browser())
    await j.sign_up(signed_in, new_email())
    await j.sign_up(await stack.enter_async_context(browser()), visitor_email)
    for process in pair.processes:
        other = next(p for p in pair.processes if p is not process).url
        visitor = await stack.enter_async_context(browser())
        login = await start_login(j, visitor, to=process.url)
        code, verifier = await j.authorize(signed_in, to=process.url)

        j.balancer.take_out(process.url)
        await asyncio.sleep(DRAIN_SECONDS)
        await asyncio.to_thread(process.restart)
        j.balancer.put_back(process.url)

        # The login form from the old process, posted to the other one...
        done = await j.post_login(visitor, visitor_email, login.csrf, login.next_path, to=other)
        assert done.status_code == 303, done.text
        assert done.headers["location"] == login.next_path
        # ... back at /authorize on the restarted process, and the code redeemed at the other.
        landed = await j.send(visitor, "GET", login.next_path, to=process.url)
        tokens = await j.redeem(code_of(landed), login.verifier, to=other)
        assert tokens.status_code == 200, tokens.text
        # A code issued before the restart, redeemed at the restarted process.
        tokens = await j.redeem(code, verifier, to=process.url)
        assert tokens.status_code == 200, tokens.text
        sessions.append(visitor.cookies["gp_session"])
    sessions.append(signed_in.cookies["gp_session"])
    return sessions


@dataclass(frozen=True)
class LoginInProgress:
    verifier: str  # the PKCE verifier of the /authorize request waiting for the login
    next_path: str  # that request, where the login goes back to
    csrf: str  # the login form's token


async def start_login(j: Journeys, http: httpx.AsyncClient, *, to: str) -> LoginInProgress:
    """An anonymous /authorize on `to`, sent to the login form (also shown by `to`)."""
    verifier, path = authorization_request(j.app.client_id)
    landed = await j.send(http, "GET", path, to=to)
    assert landed.status_code == 303, landed.text
    location = landed.headers["location"]
    assert location.startswith("/login?")
    [next_path] = parse_qs(urlsplit(location).query)["next"]
    csrf = await j.login_form(http, location, to=to)
    return LoginInProgress(verifier, next_path, csrf)
