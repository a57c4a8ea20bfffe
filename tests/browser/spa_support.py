"""What the spa browser tests share: the running apps, the sign-in clicked through
gatepass, and recorders of what the browser sent (the token the page really used)."""

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from playwright.sync_api import Page, Request, expect

from tests.support import PASSWORD

# How long the api may take to hear of a revocation through gatepass's feed. The feed
# delivers within about a second (gatepass polls its log every 0.25 s); the bound is wider
# so a loaded CI machine does not fail the test, which waits only as long as it must.
REVOCATION_DEADLINE_SECONDS = 5.0
POLL_SECONDS = 0.05
REFRESH_COOKIE = "spa_refresh"


@dataclass(frozen=True)
class Spa:
    """The running spa (BFF + page) and the api it calls, with the BFF's client."""

    url: str
    api_url: str
    issuer: str
    client: dict[str, Any]


@dataclass(frozen=True)
class Sent:
    """One request as the page sent it."""

    method: str
    url: str
    authorization: str | None


@dataclass
class Traffic:
    """Every request the page sent, in order, noted as it left the browser."""

    spa: Spa
    sent: list[Sent] = field(default_factory=list)

    @classmethod
    def of(cls, page: Page, spa: Spa) -> "Traffic":
        traffic = cls(spa)
        page.on("request", traffic.note)
        return traffic

    def note(self, request: Request) -> None:
        # `headers` holds what the page's script set, Authorization included.
        self.sent.append(Sent(request.method, request.url, request.headers.get("authorization")))

    def clear(self) -> None:
        self.sent.clear()

    def to_issuer(self) -> list[str]:
        return [s.url for s in self.sent if s.url.startswith(self.spa.issuer + "/")]

    def api_tokens(self) -> list[str]:
        """The bearer tokens of the page's api calls (a preflight carries none)."""
        tokens = []
        for sent in self.sent:
            if sent.url.startswith(self.spa.api_url + "/") and sent.method != "OPTIONS":
                scheme, _, token = (sent.authorization or "").partition(" ")
                assert scheme == "Bearer", f"{sent.method} {sent.url} without a token"
                tokens.append(token)
        return tokens

    def last_api_token(self) -> str:
        tokens = self.api_tokens()
        assert tokens, "the page called the api with no token"
        return tokens[-1]


def new_email() -> str:
    return f"spa-{secrets.token_hex(6)}@example.com"


def sign_up_through_spa(page: Page, spa: Spa, consent: str = "Allow") -> str:
    """From the spa's "Sign in" to gatepass's login page, its sign-up form, the consent
    page (`consent`: Allow or Deny) and back to the spa; the new user's e-mail."""
    email = new_email()
    page.goto(spa.url)
    page.get_by_role("link", name="Sign in with gatepass").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Allow")).to_be_visible()
    page.get_by_role("button", name=consent, exact=True).click()
    expect(page).to_have_url(spa.url + "/")
    return email


def add_note(page: Page, text: str) -> None:
    page.get_by_label("New note").fill(text)
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#notes li").filter(has_text=text)).to_have_count(1)


def refresh_cookie(page: Page) -> dict[str, Any] | None:
    for cookie in page.context.cookies():
        if cookie.get("name") == REFRESH_COOKIE:
            return dict(cookie)
    return None


def api_status_once_refused(api_url: str, token: str) -> int:
    """GET /me with `token` until the api refuses it or the deadline passes; the last
    status (200 means the revocation never arrived)."""
    deadline = time.monotonic() + REVOCATION_DEADLINE_SECONDS
    while True:
        status = httpx.get(
            f"{api_url}/me", headers={"Authorization": f"Bearer {token}"}, timeout=5
        ).status_code
        if status != 200 or time.monotonic() > deadline:
            return status
        time.sleep(POLL_SECONDS)
