"""Clock skew between `gatepass serve` processes: within the verifiers' leeway, one issuer.

Process B runs SKEW seconds ahead of (then behind) process A and of this test, under
libfaketime (wall clock only: timers and timeouts run on the monotonic clock). Every check
of an issued token's times allows LEEWAY seconds (tokens/access_tokens.py, oidc/id_tokens.py,
and gatepass.resource's default), so:

    tokens issued by B ─► A's /userinfo and /introspect, A's id_token_hint at /logout,
                          a gatepass.resource TokenVerifier here: accepted (and A's at B)
    a code issued by A ─► redeemed at B, and one of B's at A
    a session made on B ─► opens A's pages, and one made on A opens B's
    prompt=login sent to the login page by one ─► logged in on the other ─► a code
    a refresh-token chain ─► rotates at B, A, B in turn

Beyond the leeway (a process BEYOND seconds ahead) its tokens are refused as issued in the
future: the boundary that docs/operations.md names.
"""

import email.utils
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from gatepass.resource import TokenRejected, TokenVerifier
from gatepass.resource.tokens import DEFAULT_LEEWAY_SECONDS
from gatepass.tokens.access_tokens import VERIFY_LEEWAY_SECONDS
from tests.faults.journeys import (
    Balancer,
    Journeys,
    Ledger,
    authorization_request,
    browser,
    claims_of,
    code_of,
    new_email,
    register_app,
)
from tests.faults.processes import Cluster, cluster
from tests.oauth_client import App

LEEWAY = VERIFY_LEEWAY_SECONDS
SKEW = 20  # inside the leeway, with room for the seconds a loaded host takes between steps
BEYOND = 2 * LEEWAY
# How far a clock read through HTTP may stray from the skew asked for: the Date header has
# whole seconds, and the two requests are not at the same instant on a busy host.
READING_SLACK_SECONDS = 5


def test_the_leeways_agree() -> None:
    # The server's own checks and a resource server's default allow the same skew.
    assert DEFAULT_LEEWAY_SECONDS == LEEWAY
    assert 0 < SKEW < LEEWAY < BEYOND


@pytest.fixture(scope="module")
def clocks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A on the true clock; the others SKEW ahead, SKEW behind, and BEYOND ahead."""
    skews = {"ahead": SKEW, "behind": -SKEW, "far": BEYOND}
    names = ["a", *skews]
    with cluster(tmp_path_factory.mktemp("clocks"), names, skew_seconds=skews) as running:
        yield running


@pytest.fixture(scope="module")
def app(clocks: Cluster) -> App:
    return register_app(clocks)


@dataclass(frozen=True)
class Pair:
    """A and B, B's clock `skew` seconds off A's (and this test's)."""

    issuer: str
    a: str
    b: str
    skew: int


@pytest.fixture(params=["ahead", "behind"], ids=["b-ahead", "b-behind"])
def pair(request: pytest.FixtureRequest, clocks: Cluster) -> Pair:
    b = clocks[request.param]
    return Pair(clocks.issuer, clocks["a"].url, b.url, int(b.env["FAKETIME"].removesuffix("s")))


@pytest.fixture
async def j(clocks: Cluster, app: App) -> AsyncIterator[Journeys]:
    balancer = Balancer([p.url for p in clocks.processes])
    async with Journeys(clocks, balancer, app, Ledger()) as journeys:
        yield journeys


def server_time(url: str) -> float:
    answer = httpx.get(f"{url}/healthz", timeout=30)
    return email.utils.parsedate_to_datetime(answer.headers["date"]).timestamp()


async def signed_in(j: Journeys, http: httpx.AsyncClient, at: str) -> str:
    """Sign up on `at` (a session made there); the e-mail address."""
    address = new_email()
    await j.sign_up(http, address, to=at)
    return address


async def tokens_from(j: Journeys, http: httpx.AsyncClient, at: str) -> dict[str, Any]:
    """A code flow entirely on `at`: its token response."""
    code, verifier = await j.authorize(http, to=at)
    answer = await j.redeem(code, verifier, to=at)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_b_really_runs_on_a_skewed_clock(pair: Pair) -> None:
    measured = server_time(pair.b) - server_time(pair.a)
    assert abs(measured - pair.skew) <= READING_SLACK_SECONDS, measured
    assert abs(server_time(pair.b) - time.time() - pair.skew) <= READING_SLACK_SECONDS


async def test_tokens_issued_on_one_are_accepted_on_the_other(pair: Pair, j: Journeys) -> None:
    a, b, skew = pair.a, pair.b, pair.skew
    for issued_at, checked_at, offset in ((b, a, skew), (a, b, 0)):
        async with browser() as http:
            await signed_in(j, http, issued_at)
            tokens = await tokens_from(j, http, issued_at)
        access, id_token = tokens["access_token"], tokens["id_token"]
        # The token carries its issuer's clock: B's is off by the skew.
        iat = claims_of(access)["iat"]
        assert abs(iat - time.time() - offset) <= READING_SLACK_SECONDS, (iat, offset)

        bearer = {"Authorization": f"Bearer {access}"}
        userinfo = await j.send(j.bare, "GET", "/userinfo", headers=bearer, to=checked_at)
        assert userinfo.status_code == 200, userinfo.text
        assert userinfo.json()["sub"] == claims_of(access)["sub"]
        assert (await j.introspect(access, to=checked_at))["active"]
        # RP-Initiated Logout checks the hint's signature and times like any id token: an
        # anonymous visitor with a good hint is sent to "signed out", a bad one gets 400.
        hint = await j.send(j.bare, "GET", f"/logout?id_token_hint={id_token}", to=checked_at)
        assert hint.status_code == 303, hint.text
        assert hint.headers["location"] == "/logout/done"

        async with TokenVerifier(pair.issuer, f"{pair.issuer}/api") as verifier:
            verified = await verifier.verify(access)
        assert verified.jti == claims_of(access)["jti"]


async def test_codes_cross_over(pair: Pair, j: Journeys) -> None:
    a, b = pair.a, pair.b
    async with browser() as http:
        await signed_in(j, http, a)
        for issued_at, redeemed_at in ((a, b), (b, a)):
            code, verifier = await j.authorize(http, to=issued_at)
            answer = await j.redeem(code, verifier, to=redeemed_at)
            assert answer.status_code == 200, answer.text


async def test_sessions_cross_over(pair: Pair, j: Journeys) -> None:
    a, b = pair.a, pair.b
    async with browser() as http:
        address = await signed_in(j, http, a)
    for made_at, used_at in ((b, a), (a, b)):
        async with browser() as http:
            csrf = await j.login_form(http, to=made_at)
            done = await j.post_login(http, address, csrf, to=made_at)
            assert done.status_code == 303, done.text
            secret = http.cookies["gp_session"]
        assert await j.session_works(secret, to=used_at)
        # And the session signs the user in to an app there.
        async with browser() as http:
            http.cookies.set("gp_session", secret)
            code, _ = await j.authorize(http, to=used_at)
            assert code


async def test_a_refresh_chain_rotates_on_either(pair: Pair, j: Journeys) -> None:
    a, b = pair.a, pair.b
    async with browser() as http:
        await signed_in(j, http, a)
        token = (await tokens_from(j, http, a))["refresh_token"]
    for at in (b, a, b, a):
        answer = await j.refresh(token, to=at)
        assert answer.status_code == 200, answer.text
        token = answer.json()["refresh_token"]
    assert (await j.introspect(token, to=b))["active"]


async def test_beyond_the_leeway_tokens_look_issued_in_the_future(
    clocks: Cluster, j: Journeys
) -> None:
    a, c = clocks["a"].url, clocks["far"].url
    async with browser() as http:
        await signed_in(j, http, c)
        access = (await tokens_from(j, http, c))["access_token"]
        bearer = {"Authorization": f"Bearer {access}"}
        userinfo = await j.send(j.bare, "GET", "/userinfo", headers=bearer, to=a)
        assert userinfo.status_code == 401
        assert not (await j.introspect(access, to=a))["active"]
        async with TokenVerifier(clocks.issuer, f"{clocks.issuer}/api") as verifier:
            with pytest.raises(TokenRejected):
                await verifier.verify(access)
        # C itself, and anyone whose clock agrees with it, accepts them.
        assert (await j.introspect(access, to=c))["active"]


async def test_a_login_asked_for_with_prompt_login_completes_on_the_other(
    pair: Pair, j: Journeys
) -> None:
    """OIDC Core §3.1.2.1 prompt=login: the process that sends the browser to log in marks
    the request with its clock's time, and the login happens on another process; back at
    /authorize (on either), that mark and the new session's start are compared across the
    two clocks. Within the leeway the login counts, and the code comes."""
    for asked_at, logged_in_at in ((pair.a, pair.b), (pair.b, pair.a)):
        async with browser() as http:
            address = await signed_in(j, http, asked_at)
            verifier, path = authorization_request(j.app.client_id, prompt="login")
            landed = await j.send(http, "GET", path, to=asked_at)
            location = landed.headers["location"]
            assert location.startswith("/login?"), location
            [next_path] = parse_qs(urlsplit(location).query)["next"]
            csrf = await j.login_form(http, location, to=asked_at)
            done = await j.post_login(http, address, csrf, next_path, to=logged_in_at)
            assert done.headers["location"] == next_path
            for back_at in (logged_in_at, asked_at):
                back = await j.send(http, "GET", next_path, to=back_at)
                answer = await j.redeem(code_of(back), verifier, to=back_at)
                assert answer.status_code == 200, answer.text
