"""Another gatepass as the upstream provider ("partner"): a live `gatepass serve`
(tests/federation/core_fixtures.py's `upstream`), the relying party gatepass in-process
on every backend.

gatepass's own userinfo says `email_verified: false` (it does not verify addresses yet),
so its people never get an account of their own here: they link the upstream identity
to a local account from the account page (signed in, which proves control of both), and
from then on the upstream alone signs them in.
"""

import html
import re
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from gatepass.config import ProviderSettings, Secret, Settings
from gatepass.storage.backends import Backends
from gatepass.storage.sql.tables import user_identities, users
from tests import support
from tests.federation.conftest import (
    CORP,
    CORP_NAME,
    callback_of,
    provider_settings,
    upstream_sign_in,
)
from tests.federation.core_fixtures import Upstream, upstream
from tests.interop.user_agent import User, forms_of, submit, visit
from tests.support import ISSUER, csrf_of, sign_up, web_client

__all__ = ["upstream"]  # the module's live upstream gatepass (a fixture)

PARTNER = "partner"
PARTNER_NAME = "Partner Co"
LINK = re.compile(r'href="(/login/([a-z0-9_-]+)\?link=[^"]+)"')


@dataclass
class Site:
    """gatepass in-process, the relying party, and its backends."""

    settings: Settings
    backends: Backends

    def browser(self) -> Any:
        """A new browser (cookie jar) on gatepass; it never follows redirects."""
        return web_client(self.settings, self.backends)


@pytest.fixture(scope="module")
def partner_client(upstream: Upstream) -> tuple[str, str]:
    """gatepass registered at the upstream as a confidential client: (id, secret)."""
    return upstream.register(callback_of(PARTNER))


def partner_settings(upstream: Upstream, client: tuple[str, str]) -> ProviderSettings:
    return ProviderSettings(
        name=PARTNER,
        kind="oidc",
        issuer=upstream.issuer,
        client_id=client[0],
        client_secret=Secret(client[1]),
        scopes=("openid", "email", "profile"),
        display_name=PARTNER_NAME,
    )


@pytest.fixture
async def site(
    make_settings: Callable[..., Settings], upstream: Upstream, partner_client: tuple[str, str]
) -> AsyncIterator[Site]:
    settings = make_settings(providers=(partner_settings(upstream, partner_client),))
    async with support.test_backends(settings) as backends:
        yield Site(settings, backends)


@pytest.fixture
async def person(upstream: Upstream) -> User:
    """Somebody who signed up at the upstream."""
    return await upstream.sign_up()


# --- the browser's steps ---------------------------------------------------------------


async def through_partner(
    browser: httpx.AsyncClient, start: httpx.Response, person: User
) -> httpx.Response:
    """Follow gatepass's redirect to the upstream, sign in there as `person` (login,
    consent) in a fresh upstream browser, and return gatepass's answer to the callback."""
    assert start.status_code == 303, start.text
    async with httpx.AsyncClient(timeout=30, follow_redirects=False) as upstream_browser:
        back = await visit(
            upstream_browser,
            start.headers["location"],
            leaving_for=callback_of(PARTNER),
            user=person,
        )
    return await browser.get(str(back))


async def partner_sign_in(browser: httpx.AsyncClient, person: User) -> httpx.Response:
    """ "Continue with Partner Co" on the login page's behalf."""
    start = await browser.get(f"/login/{PARTNER}", params={"next": "/account"})
    return await through_partner(browser, start, person)


def link_href(account: httpx.Response, provider: str) -> str | None:
    """The account page's "Link <provider>" address, if it offers one."""
    for match in LINK.finditer(account.text):
        if match.group(2) == provider:
            return html.unescape(match.group(1))
    return None


async def link_partner(browser: httpx.AsyncClient, person: User) -> httpx.Response:
    """Click "Link Partner Co" on the account page and sign in upstream as `person`."""
    account = await browser.get("/account")
    assert account.status_code == 200, account.text
    href = link_href(account, PARTNER)
    assert href is not None, "the account page offers no link to the partner"
    return await through_partner(browser, await browser.get(href), person)


async def unlink(browser: httpx.AsyncClient, provider: str) -> httpx.Response:
    """Click Unlink on the account page's row for `provider`; the page it lands on."""
    account = await browser.get("/account")
    form = next(
        (
            f
            for f in forms_of(account.text)
            if f.action == "/account/identities/unlink" and f.fields.get("provider") == provider
        ),
        None,
    )
    assert form is not None, f"no Unlink button for {provider}"
    answer = await submit(browser, account, form)
    assert answer.status_code == 303, answer.text
    return await browser.get(answer.headers["location"])


async def log_out(browser: httpx.AsyncClient) -> None:
    account = await browser.get("/account")
    answer = await browser.post(
        "/logout", data={"csrf_token": csrf_of(account.text)}, headers={"Origin": ISSUER}
    )
    assert answer.status_code == 303, answer.text
    assert (await browser.get("/account")).status_code == 303  # signed out


@asynccontextmanager
async def local_account(site: Site, email: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in to a local account (password) made through /signup."""
    async with site.browser() as browser:
        assert (await sign_up(browser, email, name="Local Person")).status_code == 303
        yield browser


# --- the database ----------------------------------------------------------------------


async def user_count(site: Site) -> int:
    async with site.backends.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(users))).scalar_one())


async def identities(site: Site) -> list[tuple[str, str, str]]:
    """(provider, user_id, email) of every linked identity."""
    query = select(user_identities.c.provider, user_identities.c.user_id, user_identities.c.email)
    async with site.backends.engine.connect() as conn:
        return [(r.provider, r.user_id, r.email) for r in await conn.execute(query)]


async def user_id(site: Site, email: str) -> str:
    user = await site.backends.users.find_by_email(email)
    assert user is not None
    return user.id


# --- the tests -------------------------------------------------------------------------


async def test_a_new_upstream_person_with_an_unverified_address_gets_no_account(
    site: Site, person: User
) -> None:
    async with site.browser() as browser:
        back = await partner_sign_in(browser, person)
        assert back.status_code == 403
        assert f"{person.email} is not verified" in back.text
        assert f"Verify it at {PARTNER_NAME}" in back.text
        assert f'href="/login/{PARTNER}?next=/account"' in back.text
        assert (await browser.get("/account")).status_code == 303
    assert await user_count(site) == 0
    assert await identities(site) == []


async def test_a_signed_in_user_links_the_upstream_from_the_account_page(
    site: Site, person: User
) -> None:
    async with local_account(site, "linker@example.com") as browser:
        linked = await link_partner(browser, person)
        assert linked.status_code == 303, linked.text
        assert linked.headers["location"] == "/account?notice=identity-linked"
        account = await browser.get(linked.headers["location"])
    assert "The account was linked: you can now sign in with it." in account.text
    assert PARTNER_NAME in account.text
    assert person.email in account.text  # the upstream account, as the provider named it
    assert link_href(account, PARTNER) is None  # linked: no second Link button
    owner = await user_id(site, "linker@example.com")
    assert await identities(site) == [(PARTNER, owner, person.email)]
    assert await user_count(site) == 1  # linked to the account, not a new one


async def test_once_linked_the_upstream_alone_signs_the_user_in(site: Site, person: User) -> None:
    async with local_account(site, "returning@example.com") as browser:
        assert (await link_partner(browser, person)).status_code == 303
        await log_out(browser)
        back = await partner_sign_in(browser, person)
        assert back.status_code == 303, back.text
        assert back.headers["location"] == "/account"
        account = await browser.get("/account")
    assert account.status_code == 200
    assert "returning@example.com" in account.text
    assert await user_count(site) == 1


async def test_a_user_with_a_password_unlinks_the_upstream(site: Site, person: User) -> None:
    async with local_account(site, "unlinker@example.com") as browser:
        assert (await link_partner(browser, person)).status_code == 303
        account = await unlink(browser, PARTNER)
        assert "The account was unlinked." in account.text
        assert link_href(account, PARTNER) is not None  # may link it again
        assert await identities(site) == []
        await log_out(browser)
        # Unlinked, the upstream identity is a stranger again (and an unverified one).
        back = await partner_sign_in(browser, person)
        assert back.status_code == 403
    assert await user_count(site) == 1


async def test_an_identity_linked_to_one_user_cannot_be_linked_by_another(
    site: Site, person: User
) -> None:
    async with local_account(site, "first@example.com") as first:
        assert (await link_partner(first, person)).status_code == 303
    async with local_account(site, "second@example.com") as second:
        refused = await link_partner(second, person)
        assert refused.status_code == 409
        assert "linked to another account already" in refused.text
        account = await second.get("/account")
        assert link_href(account, PARTNER) is not None  # still not linked to them
    owner = await user_id(site, "first@example.com")
    assert await identities(site) == [(PARTNER, owner, person.email)]


async def test_a_link_with_a_forged_token_goes_nowhere(site: Site) -> None:
    async with local_account(site, "forged@example.com") as browser:
        refused = await browser.get(f"/login/{PARTNER}", params={"link": "not-the-csrf-token"})
        assert refused.status_code == 400
        assert "This link has expired" in refused.text
    assert await identities(site) == []


async def test_linking_needs_a_signed_in_user(site: Site) -> None:
    async with site.browser() as browser:
        answer = await browser.get(f"/login/{PARTNER}", params={"link": "anything"})
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


# --- a passwordless account: its last identity stays -----------------------------------


@pytest.fixture
async def two_providers(
    make_settings: Callable[..., Settings],
    upstream: Upstream,
    partner_client: tuple[str, str],
    corp: str,
    corp_secret: str,
) -> AsyncIterator[Site]:
    """The partner gatepass and the oidc-provider "corp" (whose alice is verified)."""
    providers = (
        provider_settings(CORP, corp, corp_secret),
        partner_settings(upstream, partner_client),
    )
    settings = make_settings(providers=providers)
    async with support.test_backends(settings) as backends:
        yield Site(settings, backends)


async def test_a_passwordless_user_cannot_unlink_the_last_way_to_sign_in(
    two_providers: Site, person: User
) -> None:
    site = two_providers
    async with site.browser() as browser:
        created = await upstream_sign_in(browser, "alice")  # a new account, no password
        assert created.status_code == 303, created.text
        alice = await user_id(site, "alice@example.com")
        kept = await unlink(browser, CORP)
        assert "That is your only way to sign in, so it stays linked." in kept.text
        assert await identities(site) == [(CORP, alice, "alice@example.com")]
        # With a second identity, the first may go; then the second is the last.
        assert (await link_partner(browser, person)).status_code == 303
        assert "The account was unlinked." in (await unlink(browser, CORP)).text
        assert await identities(site) == [(PARTNER, alice, person.email)]
        last = await unlink(browser, PARTNER)
        assert "That is your only way to sign in, so it stays linked." in last.text
        assert CORP_NAME in last.text  # offered again as a Link button
    assert await identities(site) == [(PARTNER, alice, person.email)]
    user = await site.backends.users.get(alice)
    assert user is not None
    assert user.password_hash is None


async def test_an_unlink_without_the_sessions_csrf_token_is_refused(
    site: Site, person: User
) -> None:
    async with local_account(site, "csrf@example.com") as browser:
        assert (await link_partner(browser, person)).status_code == 303
        account = await browser.get("/account")
        form = next(f for f in forms_of(account.text) if f.action == "/account/identities/unlink")
        forged = {**form.fields, "csrf_token": secrets.token_urlsafe(32)}
        refused = await browser.post(
            "/account/identities/unlink", data=forged, headers={"Origin": ISSUER}
        )
        assert refused.status_code == 403
        assert "Traceback" not in refused.text
    owner = await user_id(site, "csrf@example.com")
    assert await identities(site) == [(PARTNER, owner, person.email)]
