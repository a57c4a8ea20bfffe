"""Login with GitHub through gatepass's pages: gatepass in-process on every backend, the
GitHub stand-in (tests/federation/github_standin.py) as the real HTTP upstream.

GitHub gives no id token: who signed in is GitHub's numeric user id, the address the
primary one of /user/emails, verified only when GitHub says so.
"""

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from gatepass.config import ProviderSettings, Secret, Settings
from gatepass.crypto.secrets import digest
from gatepass.sessions.model import Session
from gatepass.storage.backends import Backends
from gatepass.storage.sql.tables import user_identities, users
from tests import support
from tests.federation.github_standin import GitHubEmail, GitHubUser, StandIn
from tests.federation.harness_fixtures import StartGitHubStandIn
from tests.support import ISSUER, web_client

GITHUB = "github"
CALLBACK = f"{ISSUER}/login/{GITHUB}/callback"
CLIENT_ID = "Iv1.gatepass0000000"
CLIENT_SECRET = "github-app-secret-" + "q" * 22
SESSION_COOKIE = "gp_session"  # loopback http issuer: no __Host- prefix
OCTOCAT = GitHubUser(
    id=583231,
    login="octocat",
    name="The Octocat",
    email=None,  # no public address: the primary one comes from /user/emails
    emails=(
        GitHubEmail("octocat@github.com", primary=True, verified=True),
        GitHubEmail("old@example.com", primary=False, verified=False, visibility=None),
    ),
)
NEWBIE = GitHubUser(
    id=4242,
    login="newbie",
    name="New Bie",
    email="newbie@example.com",
    emails=(GitHubEmail("newbie@example.com", primary=True, verified=False),),
)


@dataclass
class GitHubRelyingParty:
    """gatepass in-process with a github-kind provider pointed at the stand-in."""

    settings: Settings
    backends: Backends
    standin: StandIn

    def browser(self) -> Any:
        """A new browser (cookie jar) on gatepass; it never follows redirects."""
        return web_client(self.settings, self.backends)


@pytest.fixture
def standin(start_github_standin: StartGitHubStandIn) -> StandIn:
    return start_github_standin([OCTOCAT, NEWBIE], CLIENT_ID, CLIENT_SECRET)


@pytest.fixture
async def rp(
    make_settings: Callable[..., Settings], standin: StandIn
) -> AsyncIterator[GitHubRelyingParty]:
    github = ProviderSettings(
        name=GITHUB,
        kind="github",
        issuer=standin.base_url,  # not github.com: the API is at {issuer}/api/v3
        client_id=CLIENT_ID,
        client_secret=Secret(CLIENT_SECRET),
        scopes=("read:user", "user:email"),
        display_name="GitHub",
    )
    settings = make_settings(providers=(github,))
    async with support.test_backends(settings) as backends:
        yield GitHubRelyingParty(settings, backends, standin)


async def to_github(browser: httpx.AsyncClient, next_path: str = "/account") -> str:
    """Click "Continue with GitHub": the authorization URL gatepass redirects to."""
    start = await browser.get(f"/login/{GITHUB}", params={"next": next_path})
    assert start.status_code == 303, start.text
    location: str = start.headers["location"]
    return location


async def at_github(standin: StandIn, authorization_url: str, login: str) -> str:
    """`login` authorizes the app at the stand-in: the callback URL it sends them back to."""
    standin.next_user = login
    async with httpx.AsyncClient(timeout=30, follow_redirects=False) as github:
        answer = await github.get(authorization_url)
    assert answer.status_code == 302, answer.text
    back: str = answer.headers["location"]
    assert back.startswith(CALLBACK + "?"), back
    return back


async def github_sign_in(
    rp: GitHubRelyingParty, browser: httpx.AsyncClient, login: str
) -> httpx.Response:
    """The whole round trip; gatepass's answer to the callback."""
    back = await at_github(rp.standin, await to_github(browser), login)
    return await browser.get(back)


async def count(rp: GitHubRelyingParty, table: Any) -> int:
    async with rp.backends.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def identity_rows(rp: GitHubRelyingParty) -> list[tuple[str, str, str, str]]:
    query = select(
        user_identities.c.provider,
        user_identities.c.subject,
        user_identities.c.user_id,
        user_identities.c.email,
    )
    async with rp.backends.engine.connect() as conn:
        return [tuple(row) for row in (await conn.execute(query)).all()]


async def session_of(rp: GitHubRelyingParty, browser: httpx.AsyncClient) -> Session | None:
    """The session behind the browser's cookie, as the store holds it."""
    secret = browser.cookies.get(SESSION_COOKIE)
    if secret is None:
        return None
    # A touch as any request makes it: now, and the configured idle timeout.
    idle = rp.settings.session_idle_ttl
    return await rp.backends.sessions.touch(digest(secret), time.time(), idle)


async def signed_in(browser: httpx.AsyncClient) -> bool:
    account = await browser.get("/account")
    assert account.status_code in (200, 303), account.text
    return account.status_code == 200


async def test_the_login_page_offers_github_once_and_keeps_its_title_plain(
    rp: GitHubRelyingParty,
) -> None:
    async with rp.browser() as browser:
        page = await browser.get("/login", params={"next": "/account"})
    assert page.status_code == 200
    assert page.text.count("Continue with GitHub") == 1
    assert f'href="/login/{GITHUB}?next=/account"' in page.text
    title = page.text.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title == "Log in · gatepass"


async def test_gatepass_asks_github_for_a_code_with_pkce_and_state(
    rp: GitHubRelyingParty,
) -> None:
    async with rp.browser() as browser:
        url = urlsplit(await to_github(browser))
    assert f"{url.scheme}://{url.netloc}{url.path}" == rp.standin.authorize_url
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == CALLBACK
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43  # base64url of a SHA-256 digest
    assert len(query["state"]) >= 32
    assert set(query["scope"].split()) == {"read:user", "user:email"}
    assert "nonce" not in query  # GitHub issues no id token to carry it


async def test_a_new_github_user_with_a_verified_primary_address_gets_an_account_and_a_session(
    rp: GitHubRelyingParty,
) -> None:
    async with rp.browser() as browser:
        back = await github_sign_in(rp, browser, "octocat")
        assert back.status_code == 303, back.text
        assert back.headers["location"] == "/account"
        account = await browser.get("/account")
        session = await session_of(rp, browser)
    assert account.status_code == 200
    assert "octocat@github.com" in account.text  # the primary address, not the other one
    assert "The Octocat" in account.text
    user = await rp.backends.users.find_by_email("octocat@github.com")
    assert user is not None
    assert user.password_hash is None
    assert await identity_rows(rp) == [(GITHUB, "583231", user.id, "octocat@github.com")]
    assert session is not None
    assert (session.user_id, session.amr, session.idp) == (user.id, ("fed",), GITHUB)


async def test_the_same_github_user_signs_in_again_to_the_same_account(
    rp: GitHubRelyingParty,
) -> None:
    async with rp.browser() as first:
        assert (await github_sign_in(rp, first, "octocat")).status_code == 303
        first_session = await session_of(rp, first)
    async with rp.browser() as second:
        back = await github_sign_in(rp, second, "octocat")
        assert back.status_code == 303, back.text
        assert "octocat@github.com" in (await second.get("/account")).text
        second_session = await session_of(rp, second)
    assert first_session is not None
    assert second_session is not None
    assert second_session.user_id == first_session.user_id
    assert second_session.id != first_session.id  # a session of its own
    assert await count(rp, users) == 1
    assert await count(rp, user_identities) == 1


async def test_a_github_user_whose_only_address_is_unverified_gets_no_account(
    rp: GitHubRelyingParty,
) -> None:
    async with rp.browser() as browser:
        back = await github_sign_in(rp, browser, "newbie")
        assert back.status_code == 403
        assert "newbie@example.com is not verified" in back.text
        assert f'href="/login/{GITHUB}?next=/account"' in back.text  # try again
        assert not await signed_in(browser)
    assert await count(rp, users) == 0
    assert await count(rp, user_identities) == 0


async def test_cancelling_at_github_shows_a_page_with_a_retry_link(
    rp: GitHubRelyingParty,
) -> None:
    rp.standin.user_cancels = True
    async with rp.browser() as browser:
        back = await github_sign_in(rp, browser, "octocat")
        assert back.status_code == 400
        assert "cancelled" in back.text
        assert "Try again with GitHub" in back.text
        assert f'href="/login/{GITHUB}?next=/account"' in back.text
        assert not await signed_in(browser)
    assert await count(rp, users) == 0


async def test_github_down_gives_a_clear_page_and_creates_nothing(
    rp: GitHubRelyingParty,
) -> None:
    async with rp.browser() as browser:
        back_url = await at_github(rp.standin, await to_github(browser), "octocat")
        rp.standin.unavailable = True  # the token endpoint and the API answer 502
        back = await browser.get(back_url)
        assert back.status_code == 502
        assert "cannot be reached right now" in back.text
        assert "Traceback" not in back.text
        assert f'href="/login/{GITHUB}?next=/account"' in back.text
        assert not await signed_in(browser)
        assert await count(rp, users) == 0
        assert await count(rp, user_identities) == 0
        # Once GitHub is back, the retry link signs them in.
        rp.standin.unavailable = False
        again = await github_sign_in(rp, browser, "octocat")
        assert again.status_code == 303, again.text
        assert await signed_in(browser)
    assert await count(rp, users) == 1


async def test_a_replayed_callback_gives_a_page_and_no_second_session(
    rp: GitHubRelyingParty,
) -> None:
    async with rp.browser() as browser:
        back_url = await at_github(rp.standin, await to_github(browser), "octocat")
        first = await browser.get(back_url)
        assert first.status_code == 303, first.text
        session = await session_of(rp, browser)
        replay = await browser.get(back_url)
        assert replay.status_code == 400
        assert "no longer valid" in replay.text
        still = await session_of(rp, browser)
    assert session is not None
    assert still is not None
    assert still.id == session.id  # the browser keeps its session
    assert len(await rp.backends.sessions.list_for_user(session.user_id, 0, 3600)) == 1
    assert await count(rp, users) == 1


async def test_a_callback_replayed_with_its_stolen_cookie_is_refused_by_github(
    rp: GitHubRelyingParty,
) -> None:
    """Even with the login-in-flight cookie copied before the first use, the code works
    once: GitHub refuses it the second time, and gatepass starts no session."""
    async with rp.browser() as browser:
        back_url = await at_github(rp.standin, await to_github(browser), "octocat")
        in_flight = dict(browser.cookies)
        assert (await browser.get(back_url)).status_code == 303
    async with rp.browser() as attacker:
        for name, value in in_flight.items():
            attacker.cookies.set(name, value)
        replay = await attacker.get(back_url)
        assert replay.status_code not in (200, 303, 500), replay.status_code
        assert "did not confirm the sign-in" in replay.text
        assert await session_of(rp, attacker) is None
    user = await rp.backends.users.find_by_email("octocat@github.com")
    assert user is not None
    assert len(await rp.backends.sessions.list_for_user(user.id, 0, 3600)) == 1
