"""The spa example in Chromium: sign in through gatepass, call the api with a token held
only in memory, survive a reload silently, and lose everything on "log out everywhere".

Three real processes: `gatepass serve`, examples/api (reading the revocation feed over
HTTP) and examples/spa (the page and its backend-for-frontend).
"""

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.spa_support import (
    REFRESH_COOKIE,
    Spa,
    Traffic,
    add_note,
    api_status_once_refused,
    refresh_cookie,
    sign_up_through_spa,
)
from tests.browser.support import Server
from tests.examples.gatepass_setup import NOTES_SCOPES, create_client, scope_args
from tests.examples.processes import running_example
from tests.live_server import LiveServer, free_port, live_server

SIGNED_IN = "#signed-in"
SIGN_IN_LINK = "Sign in with gatepass"


@pytest.fixture(scope="module")
def gatepass(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A gatepass of this module's own: its `cli()` registers the clients."""
    with live_server(tmp_path_factory.mktemp("spa-gatepass")) as live:
        yield live


@pytest.fixture(scope="module")
def server(gatepass: LiveServer) -> Server:
    """Overrides conftest's `server`, so the `page` fixture's browser talks to this one."""
    return Server(url=gatepass.url, log=gatepass.log)


@pytest.fixture(scope="module")
def spa(gatepass: LiveServer) -> Iterator[Spa]:
    """The api and the spa, registered as their READMEs say and started as subprocesses."""
    spa_port = free_port()
    spa_origin = f"http://127.0.0.1:{spa_port}"
    api_client = create_client(
        gatepass, "--grant-type", "client_credentials", "--scope", "notes:read"
    )
    api_env = {
        "GATEPASS_ISSUER": gatepass.url,
        "API_CLIENT_ID": api_client["client_id"],
        "API_CLIENT_SECRET": api_client["client_secret"],
        "API_ALLOWED_ORIGINS": spa_origin,
    }
    bff_client = create_client(
        gatepass,
        "--redirect-uri",
        f"{spa_origin}/bff/callback",
        *("--grant-type", "authorization_code", "--grant-type", "refresh_token"),
        *scope_args("offline_access", *NOTES_SCOPES),
    )
    with running_example("api", api_env) as api_url:
        spa_env = {
            "GATEPASS_ISSUER": gatepass.url,
            "SPA_CLIENT_ID": bff_client["client_id"],
            "SPA_CLIENT_SECRET": bff_client["client_secret"],
            "API_URL": api_url,
        }
        with running_example("spa", spa_env, spa_port) as url:
            yield Spa(url=url, api_url=api_url, issuer=gatepass.url, client=bff_client)


def _signed_in(page: Page, spa: Spa) -> Traffic:
    traffic = Traffic.of(page, spa)
    sign_up_through_spa(page, spa)
    expect(page.locator(SIGNED_IN)).to_be_visible()
    return traffic


def _refresh_at_gatepass(spa: Spa, refresh_token: str) -> httpx.Response:
    return httpx.post(
        f"{spa.issuer}/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(spa.client["client_id"], spa.client["client_secret"]),
        timeout=10,
    )


def test_sign_in_through_gatepass_then_a_note_is_created_and_listed_by_the_api(
    page: Page, spa: Spa
) -> None:
    traffic = _signed_in(page, spa)

    add_note(page, "buy tea")

    token = traffic.last_api_token()
    notes = httpx.get(
        f"{spa.api_url}/notes", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert notes.status_code == 200
    assert [note["text"] for note in notes.json()["notes"]] == ["buy tea"]
    me = httpx.get(f"{spa.api_url}/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert me.json()["client_id"] == spa.client["client_id"]
    expect(page.locator("#subject")).to_have_text(me.json()["sub"])


def test_a_reload_stays_signed_in_without_the_login_page(page: Page, spa: Spa) -> None:
    traffic = _signed_in(page, spa)
    add_note(page, "still here after a reload")
    token_before = traffic.last_api_token()
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    traffic.clear()

    page.reload()

    expect(page.locator("#notes li")).to_have_text(["still here after a reload"])
    expect(page.get_by_role("link", name=SIGN_IN_LINK)).to_be_hidden()
    assert navigations == [spa.url + "/"]
    assert traffic.to_issuer() == []  # gatepass never saw the browser: the BFF refreshed
    assert traffic.last_api_token() != token_before  # a new token, obtained silently


def test_the_access_token_is_in_no_storage_and_no_readable_cookie(page: Page, spa: Spa) -> None:
    traffic = _signed_in(page, spa)
    add_note(page, "a secret")
    token = traffic.last_api_token()

    stored: dict[str, Any] = page.evaluate(
        """() => ({
            local: Object.entries(localStorage),
            session: Object.entries(sessionStorage),
            cookie: document.cookie,
        })"""
    )

    assert token not in repr(stored)
    assert stored["local"] == []
    assert stored["session"] == []
    assert REFRESH_COOKIE not in stored["cookie"]


def test_the_refresh_token_cookie_is_http_only_strict_and_only_for_the_bff(
    page: Page, spa: Spa
) -> None:
    _signed_in(page, spa)

    cookie = refresh_cookie(page)

    assert cookie is not None
    assert cookie["httpOnly"] is True
    assert cookie["secure"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/bff"
    assert cookie["value"] not in page.evaluate("document.cookie")


def test_log_out_everywhere_ends_the_spa_refresh_and_its_api_calls(
    page: Page, spa: Spa, gatepass: LiveServer
) -> None:
    traffic = _signed_in(page, spa)
    add_note(page, "before logging out everywhere")
    old_token = traffic.last_api_token()
    account = page.context.new_page()  # same browser: the gatepass session of this sign-in
    account.goto(f"{gatepass.url}/account")

    account.get_by_role("button", name="Log out everywhere").click()

    expect(account.get_by_role("heading", name="Log in")).to_be_visible()
    assert api_status_once_refused(spa.api_url, old_token) == 401
    with (
        page.expect_response(lambda r: r.url == f"{spa.api_url}/notes") as api_call,
        page.expect_response(lambda r: r.url == f"{spa.url}/bff/token") as bff_refresh,
    ):
        page.get_by_role("button", name="Reload notes").click()
    assert api_call.value.status == 401  # the old token, refused through the feed
    assert bff_refresh.value.status == 401  # the refresh token's family is revoked
    expect(page.get_by_role("link", name=SIGN_IN_LINK)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("You have been signed out. Sign in again.")
    assert refresh_cookie(page) is None


def test_logging_out_of_the_spa_revokes_its_refresh_token_at_gatepass(page: Page, spa: Spa) -> None:
    traffic = _signed_in(page, spa)
    add_note(page, "before logging out")
    old_token = traffic.last_api_token()
    cookie = refresh_cookie(page)
    assert cookie is not None

    page.get_by_role("button", name="Log out").click()

    expect(page.get_by_role("link", name=SIGN_IN_LINK)).to_be_visible()
    assert refresh_cookie(page) is None
    refused = _refresh_at_gatepass(spa, cookie["value"])
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")
    assert api_status_once_refused(spa.api_url, old_token) == 401
    page.reload()
    expect(page.get_by_role("link", name=SIGN_IN_LINK)).to_be_visible()
    expect(page.locator(SIGNED_IN)).to_be_hidden()


def test_denying_consent_leaves_the_spa_signed_out_with_a_message(page: Page, spa: Spa) -> None:
    sign_up_through_spa(page, spa, consent="Deny")

    expect(page.get_by_role("status")).to_have_text("Sign-in was cancelled.")
    expect(page.get_by_role("link", name=SIGN_IN_LINK)).to_be_visible()
    assert refresh_cookie(page) is None


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({}, 403, id="no X-Requested-With header: refused"),
        pytest.param(
            {"X-Requested-With": "fetch", "Origin": "https://evil.example"},
            403,
            id="another origin: refused",
        ),
        pytest.param({"X-Requested-With": "fetch"}, 403, id="no origin: refused"),
        pytest.param(
            {"X-Requested-With": "fetch", "Origin": "SPA", "Sec-Fetch-Site": "same-site"},
            403,
            id="a same-site page, not this origin: refused",
        ),
        pytest.param(
            {"X-Requested-With": "fetch", "Origin": "SPA"},
            401,
            id="own fetch: checked, and an unknown refresh token signs out",
        ),
    ],
)
@pytest.mark.parametrize("path", ["/bff/token", "/bff/logout"])
def test_the_bff_answers_only_its_own_page(
    spa: Spa, path: str, headers: dict[str, str], status: int
) -> None:
    headers = {k: spa.url if v == "SPA" else v for k, v in headers.items()}
    response = httpx.post(
        spa.url + path,
        headers={**headers, "Cookie": f"{REFRESH_COOKIE}=not-a-real-token"},
        timeout=10,
    )

    expected = 204 if (path, status) == ("/bff/logout", 401) else status
    assert response.status_code == expected
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("query", "cookie"),
    [
        pytest.param("code=abc&state=xyz", None, id="no login started in this browser"),
        pytest.param("code=abc&state=xyz", "other-state.verifier", id="another login's state"),
        pytest.param("code=abc", "xyz.verifier", id="no state"),
        pytest.param("code=abc&state=xyz", "xyz.verifier", id="no iss: a mix-up"),
        pytest.param(
            "code=abc&state=xyz&iss=ISSUER", "xyz.verifier", id="a code gatepass never issued"
        ),
    ],
)
def test_a_callback_that_this_browser_did_not_start_is_refused_with_a_page(
    spa: Spa, query: str, cookie: str | None
) -> None:
    headers = {"Cookie": f"spa_login={cookie}"} if cookie else {}
    query = query.replace("ISSUER", quote(spa.issuer, safe=""))
    response = httpx.get(f"{spa.url}/bff/callback?{query}", headers=headers, timeout=10)

    assert response.status_code == 400
    assert "Sign-in failed" in response.text
    assert "set-cookie" in response.headers  # the attempt's cookie is cleared
