"""Fixtures for the second-factor tests: a user row, a browser with a fixed clock, and
the steps a person takes (read the key, type a code)."""

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pyotp
import pytest

from gatepass.accounts.model import User
from gatepass.audit.log import AuditLog
from gatepass.audit.model import AuditEventType
from gatepass.clock import FixedClock, SystemClock
from gatepass.config import Settings
from gatepass.crypto.secrets import digest
from gatepass.sessions.model import Session
from gatepass.storage.backends import Backends
from tests.support import csrf_of, web_client
from tests.web.conftest import SESSION, set_cookies


async def add_user(backends: Backends, email: str = "") -> User:
    user_id = str(uuid.uuid4())
    user = User(
        id=user_id,
        email=email or f"{user_id[:8]}@example.com",
        name="",
        password_hash=None,
        disabled=False,
        created_at=1_800_000_000.0,
        updated_at=1_800_000_000.0,
    )
    await backends.users.add(user)
    return user


@pytest.fixture
async def browser(
    settings: Settings, backends: Backends, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The real app on the current backend, its time fixed (clock.advance moves it)."""
    async with web_client(settings, backends, clock=clock) as http:
        yield http


_KEY = re.compile(r'id="totp-key" data-key="([A-Z2-7]+)"')
_CODES = re.compile(r"<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code></li>")


def key_on(html: str) -> str:
    match = _KEY.search(html)
    assert match is not None, "no TOTP key on the page"
    return match.group(1)


def codes_on(html: str) -> list[str]:
    return _CODES.findall(html)


def code_now(secret: str, clock: FixedClock, offset_seconds: float = 0) -> str:
    """What an authenticator app shows (pyotp, independent of gatepass's own code)."""
    return pyotp.TOTP(secret).at(clock.now() + offset_seconds)


@dataclass(frozen=True)
class Enrolled:
    secret: str
    recovery_codes: list[str]


async def enrol_totp(http: httpx.AsyncClient, clock: FixedClock) -> Enrolled:
    """Set up TOTP from the account page, as a person would: read the key, type a code."""
    page = await http.get("/account/mfa/totp")
    assert page.status_code == 200, page.text[:300]
    secret = key_on(page.text)
    form = {"csrf_token": csrf_of(page.text), "code": code_now(secret, clock)}
    answer = await http.post("/account/mfa/totp", data=form)
    assert answer.status_code == 200, answer.text[:300]
    codes = codes_on(answer.text)
    assert len(codes) == 10
    return Enrolled(secret, codes)


async def submit_verify(http: httpx.AsyncClient, **fields: str) -> httpx.Response:
    """The /login/verify form, sent with the page's CSRF token."""
    page = await http.get("/login/verify")
    return await http.post("/login/verify", data={"csrf_token": csrf_of(page.text), **fields})


async def audit_types(backends: Backends, user_id: str) -> list[AuditEventType]:
    events = await AuditLog(backends.audit, SystemClock()).recent(user_id=user_id, limit=200)
    return [e.type for e in events]


async def session_of(
    backends: Backends, response: httpx.Response, user_id: str, clock: FixedClock
) -> Session:
    """The stored session whose cookie `response` sets."""
    cookies = set_cookies(response)
    assert SESSION in cookies, f"no session cookie in {list(cookies)}"
    wanted = digest(cookies[SESSION].value)
    sessions = await backends.sessions.list_for_user(user_id, clock.now(), 3600)
    [session] = [s for s in sessions if s.id == wanted]
    return session
