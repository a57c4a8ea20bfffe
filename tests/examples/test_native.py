"""The native example (examples/native) as a real subprocess: it prints the authorization
URL, the test plays the browser (gatepass's real login and consent pages, through
tests/interop/user_agent.py), the redirect lands on the app's loopback server, and the app
signs in, calls the api example, refreshes, and revokes its grant at the end.

gatepass issues 60 s access tokens here (conftest.py); `--refresh-margin 55` with a
6 s interval makes the second round of calls find the token within 55 s of its end,
so a refresh happens whatever the machine's speed.
"""

import queue
import secrets
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.examples.gatepass_setup import NOTES_SCOPES, create_client, create_user, scope_args
from tests.examples.processes import example_command, example_environment, stop
from tests.interop.user_agent import User, form_posting_to, submit, visit
from tests.live_server import LiveServer
from tests.support import PASSWORD

LINE_SECONDS = 30.0  # bound on waiting for one line of the app's output
EXIT_SECONDS = 60.0


@dataclass
class NativeRun:
    """The running app and the lines it printed so far."""

    process: subprocess.Popen[str]
    lines: "queue.Queue[str | None]" = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)

    def next_line_starting(self, prefix: str) -> str:
        """The next line that starts with `prefix` (lines before it are kept in `seen`)."""
        while True:
            try:
                line = self.lines.get(timeout=LINE_SECONDS)
            except queue.Empty:
                raise AssertionError(f"no line {prefix!r} yet; printed:\n{self.output}") from None
            if line is None:
                raise AssertionError(f"the app ended before {prefix!r}; printed:\n{self.output}")
            self.seen.append(line)
            if line.startswith(prefix):
                return line

    def finish(self) -> tuple[int, str]:
        """Wait for the app to end; its exit code and everything it printed."""
        returncode = self.process.wait(timeout=EXIT_SECONDS)
        while (line := self.lines.get(timeout=LINE_SECONDS)) is not None:
            self.seen.append(line)
        return returncode, self.output

    @property
    def output(self) -> str:
        return "\n".join(self.seen)


@contextmanager
def native_app(env: dict[str, str], *args: str) -> Iterator[NativeRun]:
    process = subprocess.Popen(
        example_command("native", "--no-browser", "--timeout", "60", *args),
        env=example_environment(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    run = NativeRun(process)

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            run.lines.put(line.rstrip("\n"))
        run.lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield run
    finally:
        stop(process)
        reader.join(timeout=LINE_SECONDS)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(scope="module")
def native_client(gatepass: LiveServer) -> dict[str, Any]:
    scopes = scope_args("openid", "profile", "offline_access", *NOTES_SCOPES)
    return create_client(
        gatepass,
        "--public",
        "--redirect-uri",
        "http://127.0.0.1/callback",  # any port at request time (RFC 8252 §7.3)
        "--grant-type",
        "authorization_code",
        "--grant-type",
        "refresh_token",
        *scopes,
    )


@pytest.fixture
def user(gatepass: LiveServer) -> tuple[User, str]:
    """A user and their id."""
    email = f"native-{secrets.token_hex(4)}@example.com"
    user_id = create_user(gatepass, email)
    return User(email, PASSWORD, "Ada Lovelace"), user_id


async def sign_in_through_the_browser(
    run: NativeRun, gatepass: LiveServer, user: User, browser: httpx.AsyncClient | None = None
) -> None:
    """What the user does with the printed URL: log in, consent, land on the loopback URI
    (in `browser`, which keeps gatepass's session cookie, or in a browser of its own)."""
    if browser is None:
        async with httpx.AsyncClient(timeout=30) as own:
            await sign_in_through_the_browser(run, gatepass, user, own)
        return
    url = run.next_line_starting(f"{gatepass.url}/authorize?")
    redirect_uri = parse_qs(urlsplit(url).query)["redirect_uri"][0]
    assert redirect_uri.startswith("http://127.0.0.1:")
    assert redirect_uri.endswith("/callback")
    landing = await visit(browser, url, leaving_for=redirect_uri, user=user)
    assert landing.params["state"] == parse_qs(urlsplit(url).query)["state"][0]
    page = await browser.get(landing)
    assert page.status_code == 200
    assert "You are signed in" in page.text


def families_of(gatepass: LiveServer, client_id: str, user_id: str) -> list[sqlite3.Row]:
    """gatepass's own record of the grants (token_families), read from its database."""
    with closing(sqlite3.connect(gatepass.workdir / "gatepass.db")) as db:
        db.row_factory = sqlite3.Row
        query = "SELECT * FROM token_families WHERE client_id = ? AND user_id = ?"
        return db.execute(query, (client_id, user_id)).fetchall()


def app_env(gatepass: LiveServer, api: str, client: dict[str, Any]) -> dict[str, str]:
    return {
        "GATEPASS_ISSUER": gatepass.url,
        "API_URL": api,
        "NATIVE_CLIENT_ID": client["client_id"],
    }


async def test_sign_in_call_the_api_refresh_and_sign_out(
    gatepass: LiveServer, api: str, native_client: dict[str, Any], user: tuple[User, str]
) -> None:
    who, user_id = user
    env = app_env(gatepass, api, native_client)
    with native_app(env, "--calls", "2", "--interval", "6", "--refresh-margin", "55") as run:
        await sign_in_through_the_browser(run, gatepass, who)
        returncode, output = run.finish()
    assert returncode == 0, output
    assert f"signed in: sub={user_id} " in output
    assert "refresh token: yes" in output
    client_id = native_client["client_id"]
    for call in (1, 2):
        assert f"call {call}: /me sub={user_id} client_id={client_id}; /notes: 0 notes" in output
    assert "refreshed the access token (refresh 1)" in output
    assert "s: refreshing" in output  # "the access token expires in N s": before, not on a 401
    assert "invalid_token" not in output
    assert "signed out: the refresh token is revoked" in output
    assert "eyJ" not in output  # no JWT (access or id token) ever printed
    # gatepass's side: one grant, its refresh token rotated at least once, then revoked.
    (family,) = families_of(gatepass, client_id, user_id)
    assert family["generation"] >= 1
    assert family["revoked_at"] is not None


async def test_log_out_everywhere_ends_the_apps_access_and_its_refresh(
    gatepass: LiveServer, api: str, native_client: dict[str, Any], user: tuple[User, str]
) -> None:
    who, user_id = user
    env = app_env(gatepass, api, native_client)
    # 8 s between rounds: a generous bound for the api to hear of it (within a second).
    with native_app(env, "--calls", "2", "--interval", "8") as run:
        async with httpx.AsyncClient(base_url=gatepass.url, timeout=30) as browser:
            await sign_in_through_the_browser(run, gatepass, who, browser)
            run.next_line_starting("call 1: ")
            # The user clicks "Log out everywhere" on gatepass's account page.
            page = await browser.get("/account")
            form = form_posting_to(page, "/account/logout-everywhere")
            assert form is not None, page.text
            assert (await submit(browser, page, form)).status_code == 303
        returncode, output = run.finish()
    assert returncode == 1, output
    assert "the api refused the access token (invalid_token): refreshing" in output
    assert "sign in again" in output
    assert "call 2:" not in output
    (family,) = families_of(gatepass, native_client["client_id"], user_id)
    assert family["revoked_at"] is not None


async def test_a_forged_redirect_with_another_state_is_refused_and_ignored(
    gatepass: LiveServer, api: str, native_client: dict[str, Any], user: tuple[User, str]
) -> None:
    who, _ = user
    with native_app(app_env(gatepass, api, native_client)) as run:
        url = run.next_line_starting(f"{gatepass.url}/authorize?")
        redirect_uri = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        async with httpx.AsyncClient(timeout=10) as attacker:
            forged = await attacker.get(redirect_uri, params={"code": "evil", "state": "guess"})
            assert forged.status_code == 400
            other = await attacker.get(redirect_uri.replace("/callback", "/other"))
            assert other.status_code == 404
        # The app still waits for the real redirect, and completes with it.
        run.lines.put(url)  # hand the URL line back for the sign-in helper
        await sign_in_through_the_browser(run, gatepass, who)
        returncode, output = run.finish()
    assert returncode == 0, output


async def test_a_refused_consent_ends_the_app_with_access_denied(
    gatepass: LiveServer, api: str, native_client: dict[str, Any], user: tuple[User, str]
) -> None:
    who, _ = user
    with native_app(app_env(gatepass, api, native_client)) as run:
        url = run.next_line_starting(f"{gatepass.url}/authorize?")
        redirect_uri = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        async with httpx.AsyncClient(timeout=30) as browser:
            landing = await visit(browser, url, leaving_for=redirect_uri, user=who, decision="deny")
            assert landing.params["error"] == "access_denied"
            assert (await browser.get(landing)).status_code == 200
        returncode, output = run.finish()
    assert returncode == 1
    assert "sign-in refused: access_denied" in output


def test_missing_configuration_exits_2() -> None:
    with native_app({}) as run:
        returncode, output = run.finish()
    assert returncode == 2
    assert "NATIVE_CLIENT_ID" in output
