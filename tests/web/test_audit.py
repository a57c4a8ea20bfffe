"""The audit log: who did what, when, from where, and never with a password (ASVS 16.3.1)."""

import json

import httpx
import pytest
from sqlalchemy import text

from gatepass.audit.model import AuditEventType as Event
from gatepass.config import Settings
from gatepass.crypto.secrets import digest
from gatepass.storage.backends import Backends
from tests.support import PASSWORD, log_in, post_form
from tests.web.conftest import AppClient, Cores, log_in_as, log_out, run_cli, sign_up_as

ADDRESS = "203.0.113.7"
AGENT = "AuditBrowser/2.0 (test)"
WRONG = "a wrong guess at it"
NEW_PASSWORD = "an entirely new passphrase"


async def _audit_rows(backends: Backends) -> list[str]:
    async with backends.engine.connect() as conn:
        rows = await conn.execute(text("SELECT * FROM audit_events"))
        return [str(value) for row in rows for value in row]


async def test_authentication_events_are_recorded_with_address_and_agent__asvs_16_3_1(
    settings: Settings, app_client: AppClient, services: Cores, backends: Backends
) -> None:
    async with (
        app_client(settings, address=ADDRESS) as client,
        app_client(settings, address="198.51.100.2") as phone,
    ):
        client.headers["user-agent"] = AGENT
        await sign_up_as(client, "ada@example.com")
        await log_out(client)
        assert (await log_in(client, "ada@example.com", WRONG)).status_code == 200
        await log_in_as(client, "ada@example.com")
        phone_secret = await log_in_as(phone, "ada@example.com")
        revoke = {"session_id": digest(phone_secret)}
        await post_form(client, "/account/sessions/revoke", revoke, page="/account")
        change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        await post_form(client, "/account/password", change, page="/account")
        await post_form(client, "/account/logout-everywhere", {}, page="/account")
    user = await services.accounts.find("ada@example.com")
    assert user is not None
    events = await services.audit.recent(user_id=user.id)
    mine = [e for e in events if e.address == ADDRESS]
    assert {e.type for e in mine} >= {
        Event.SIGNUP,
        Event.LOGOUT,
        Event.LOGIN_SUCCEEDED,
        Event.SESSION_REVOKED,
        Event.PASSWORD_CHANGED,
        Event.LOGOUT_EVERYWHERE,
    }
    for event in mine:
        assert event.user_agent == AGENT
        assert event.email == "ada@example.com"
        assert event.at > 0
    (failure,) = [e for e in await services.audit.recent() if e.type == Event.LOGIN_FAILED]
    assert (failure.email, failure.address, failure.user_agent) == (
        "ada@example.com",
        ADDRESS,
        AGENT,
    )
    assert any(e.type == Event.LOGIN_SUCCEEDED and e.address == "198.51.100.2" for e in events)
    stored = await _audit_rows(backends)
    for secret in (PASSWORD, WRONG, NEW_PASSWORD, phone_secret):
        assert not any(secret in value for value in stored), "a secret is in the audit log"


async def test_failed_login_for_an_unknown_address_is_recorded_without_a_user__asvs_16_3_1(
    client: httpx.AsyncClient, services: Cores
) -> None:
    response = await log_in(client, "  Nobody@Example.com ", WRONG)
    assert response.status_code == 200
    (event,) = await services.audit.recent()
    assert event.type == Event.LOGIN_FAILED
    assert event.user_id is None
    assert event.email == "nobody@example.com"
    assert event.address == "127.0.0.1"
    assert WRONG not in repr(event)


async def test_audit_log_is_listable_from_the_cli__issue_2(
    client: httpx.AsyncClient,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await sign_up_as(client, "ada@example.com")
    await log_out(client)
    capsys.readouterr()
    assert await run_cli(settings, monkeypatch, "audit", "list", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    # Newest first; a sign-up mails a verification link (docs/accounts.md).
    assert [row["type"] for row in rows] == ["logout", "email.verification.sent", "signup"]
    assert all(row["email"] == "ada@example.com" for row in rows)
    assert all(row["address"] == "127.0.0.1" for row in rows)
    assert PASSWORD not in json.dumps(rows)
