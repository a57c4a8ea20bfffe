"""Sign-up, login, sessions and logout, clicked through in Chromium against `gatepass serve`."""

import re
import secrets

from playwright.sync_api import Page, expect

from tests.browser.support import NewDevice, Server
from tests.support import PASSWORD

LOGIN_FAILED = "Incorrect e-mail address or password."
SESSION_ROWS = "table.sessions tbody tr"


def _email() -> str:
    return f"user-{secrets.token_hex(6)}@example.com"


def _at(page: Page, server: Server, path: str) -> None:
    expect(page).to_have_url(re.compile("^" + re.escape(server.url + path) + r"(\?.*)?$"))


def _on_login_page(page: Page, server: Server) -> None:
    _at(page, server, "/login")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def _sign_up(page: Page, server: Server, email: str) -> None:
    page.goto("/signup")
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    _at(page, server, "/account")


def _log_in(page: Page, server: Server, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_sign_up_lands_on_the_account_page_with_this_session(page: Page, server: Server) -> None:
    email = _email()
    page.goto("/signup")
    password = page.get_by_label("Password")
    expect(password).to_have_attribute("autocomplete", "new-password")
    expect(page.get_by_label("E-mail")).to_have_attribute("autocomplete", "username")

    _sign_up(page, server, email)

    expect(page.get_by_role("heading", name="Your account", exact=True)).to_be_visible()
    expect(page.locator("dl")).to_contain_text(email)
    rows = page.locator(SESSION_ROWS)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("gatepass-test device-a")
    expect(rows.first).to_contain_text("(this session)")
    expect(rows.first).to_contain_text("127.0.0.1")


def test_log_out_then_account_needs_a_login_and_logging_in_again_works(
    page: Page, server: Server
) -> None:
    email = _email()
    _sign_up(page, server, email)

    page.locator("header").get_by_role("button", name="Log out").click()
    _on_login_page(page, server)
    expect(page.locator("header")).not_to_contain_text(email)

    page.goto("/account")
    _on_login_page(page, server)

    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    _at(page, server, "/account")
    expect(page.locator("dl")).to_contain_text(email)
    expect(page.locator(SESSION_ROWS)).to_have_count(1)


def test_a_wrong_password_or_unknown_email_is_refused_with_one_message(
    page: Page, server: Server
) -> None:
    email = _email()
    _sign_up(page, server, email)
    page.locator("header").get_by_role("button", name="Log out").click()
    _on_login_page(page, server)
    login_form = page.locator("form[action='/login']")
    expect(login_form.locator("input[name=password]")).to_have_attribute(
        "autocomplete", "current-password"
    )

    _log_in(page, server, email, "not the right password")
    _on_login_page(page, server)
    expect(page.get_by_role("alert")).to_have_text(LOGIN_FAILED)

    _log_in(page, server, _email())
    expect(page.get_by_role("alert")).to_have_text(LOGIN_FAILED)

    page.goto("/account")
    _on_login_page(page, server)


def test_revoking_another_device_signs_only_that_device_out(
    new_device: NewDevice, server: Server
) -> None:
    email = _email()
    device_a, device_b = new_device("device-a"), new_device("device-b")
    _sign_up(device_a, server, email)
    _log_in(device_b, server, email)
    _at(device_b, server, "/account")

    device_a.goto("/account")
    rows = device_a.locator(SESSION_ROWS)
    expect(rows).to_have_count(2)
    row_b = rows.filter(has_text="gatepass-test device-b")
    expect(row_b).to_have_count(1)
    expect(row_b).not_to_contain_text("(this session)")
    expect(rows.filter(has_text="(this session)")).to_contain_text("gatepass-test device-a")

    row_b.get_by_role("button", name="Revoke").click()
    _at(device_a, server, "/account")
    expect(device_a.get_by_role("status")).to_have_text("The session was revoked.")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("(this session)")

    device_b.goto("/account")
    _on_login_page(device_b, server)

    device_a.goto("/account")
    _at(device_a, server, "/account")
    expect(device_a.locator("dl")).to_contain_text(email)


def test_log_out_everywhere_ends_every_session(new_device: NewDevice, server: Server) -> None:
    email = _email()
    device_a, device_b = new_device("device-a"), new_device("device-b")
    _sign_up(device_a, server, email)
    _log_in(device_b, server, email)
    _at(device_b, server, "/account")
    device_a.goto("/account")
    expect(device_a.locator(SESSION_ROWS)).to_have_count(2)

    device_a.get_by_role("button", name="Log out everywhere").click()
    _on_login_page(device_a, server)

    device_b.goto("/account")
    _on_login_page(device_b, server)
    device_a.goto("/account")
    _on_login_page(device_a, server)


def test_the_session_cookie_is_not_readable_by_scripts(page: Page, server: Server) -> None:
    _sign_up(page, server, _email())
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert "gp_session" in cookies, cookies.keys()
    session = cookies["gp_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Lax"

    readable = page.evaluate("document.cookie")
    assert "gp_session" not in readable
    assert session["value"] not in readable


def test_pages_forbid_framing_by_header(page: Page, server: Server) -> None:
    for path in ("/login", "/signup"):
        response = page.goto(path)
        assert response is not None
        assert response.ok
        policy = response.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in policy, (path, policy)
        assert response.headers.get("x-frame-options") == "DENY"

    _sign_up(page, server, _email())
    response = page.goto("/account")
    assert response is not None
    assert "frame-ancestors 'none'" in response.headers.get("content-security-policy", "")
    assert response.headers.get("cache-control") == "no-store"


def test_chromium_refuses_to_show_the_login_page_in_a_frame(page: Page, server: Server) -> None:
    """A page on another origin frames the login form (clickjacking); the browser says no."""
    framer = "http://framer.test/"
    page.route(
        framer,
        lambda route: route.fulfill(
            content_type="text/html", body=f'<iframe src="{server.url}/login"></iframe>'
        ),
    )
    page.goto(framer, wait_until="load")
    frames = [frame for frame in page.frames if frame != page.main_frame]
    assert len(frames) == 1
    assert not frames[0].url.startswith(server.url), frames[0].url
    expect(page.frame_locator("iframe").get_by_role("button", name="Log in")).to_have_count(0)


def test_repeated_wrong_passwords_meet_the_throttling_message(page: Page, server: Server) -> None:
    """After the account's limit of attempts (login_account_limit, 10 by default) the
    login page says to wait, with the number of seconds, and even the right password
    is not tried until then."""
    email = _email()
    _sign_up(page, server, email)
    page.locator("header").get_by_role("button", name="Log out").click()
    for _ in range(10):
        _log_in(page, server, email, "not the right password")
        expect(page.get_by_role("alert")).to_have_text(LOGIN_FAILED)
    _log_in(page, server, email)
    expect(page.get_by_role("alert")).to_have_text(
        re.compile(r"^Too many attempts\. Try again in \d+ seconds\.$")
    )
    page.goto("/account")
    _on_login_page(page, server)
