"""`gatepass user verify-email | reset-password | set-password`, run as the installed command."""

import asyncio
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from gatepass.audit.model import AuditEventType as Event
from gatepass.clock import FixedClock
from gatepass.config import Settings
from gatepass.storage.backends import Backends
from tests.cli.conftest import assert_one_line_error, env_for, run_gatepass
from tests.lifecycle.conftest import Inbox, MailClient, confirm, follow, link_in, user_named
from tests.support import PASSWORD, log_in, sign_up
from tests.web.conftest import is_signed_in

EMAIL = "ada@example.com"
NEW_PASSWORD = "the operator's new passphrase"


@pytest.fixture(autouse=True)
def _clock_now(clock: FixedClock) -> None:
    """The command runs on the system clock: the app's fixed clock starts at the same time."""
    clock.at = time.time()


@pytest.fixture(params=("sqlite", "postgres"))
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


async def _gatepass(
    settings: Settings, tmp_path: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = env_for(settings)
    if settings.smtp_url is not None:
        env["GATEPASS_SMTP_URL"] = settings.smtp_url.reveal()
    env["GATEPASS_MAIL_FOLDER"] = str(tmp_path / "cli-mail")
    return await asyncio.to_thread(run_gatepass, *args, cwd=tmp_path, env=env, stdin=stdin)


async def _audited(backends: Backends, event: Event) -> list[str | None]:
    async with backends.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT detail FROM audit_events WHERE type = :t"), {"t": str(event)}
        )
        return [row[0] for row in rows]


async def _account(mail_client: MailClient) -> None:
    async with mail_client() as browser:
        assert (await sign_up(browser, EMAIL)).status_code == 303


async def test_verify_email_marks_the_address_verified_and_is_audited(
    mail_client: MailClient, mail_settings: Settings, backends: Backends, tmp_path: Path
) -> None:
    await _account(mail_client)
    result = await _gatepass(mail_settings, tmp_path, "user", "verify-email", EMAIL)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"verified {EMAIL}"
    assert (await user_named(backends, EMAIL)).email_verified
    assert await _audited(backends, Event.EMAIL_VERIFIED) == ["cli"]


async def test_reset_password_prints_a_link_that_works_once(
    mail_client: MailClient, mail_settings: Settings, tmp_path: Path, inbox: Inbox
) -> None:
    await _account(mail_client)
    result = await _gatepass(mail_settings, tmp_path, "user", "reset-password", EMAIL)
    assert result.returncode == 0, result.stderr
    [url] = result.stdout.split()
    assert url.startswith(f"{mail_settings.issuer}/reset-password?token=")
    assert len(inbox.to(EMAIL)) == 1  # printed, not mailed: only the sign-up's message
    link = url.removeprefix(mail_settings.issuer)
    async with mail_client() as browser:
        page = await follow(browser, link)
        done = await confirm(browser, page, "/reset-password", {"password": NEW_PASSWORD})
        assert done.status_code == 303
        assert (await log_in(browser, EMAIL, NEW_PASSWORD)).status_code == 303
        assert (await follow(browser, link)).status_code == 400


async def test_reset_password_with_send_mails_the_link(
    mail_client: MailClient, mail_settings: Settings, tmp_path: Path, inbox: Inbox
) -> None:
    await _account(mail_client)
    result = await _gatepass(mail_settings, tmp_path, "user", "reset-password", EMAIL, "--send")
    assert result.returncode == 0, result.stderr
    assert "token" not in result.stdout
    message = inbox.last_to(EMAIL)
    assert message["Subject"] == "Reset your password"
    assert link_in(message).startswith("/reset-password?token=")


async def test_set_password_applies_the_rules_and_signs_out_everywhere(
    mail_client: MailClient, mail_settings: Settings, backends: Backends, tmp_path: Path
) -> None:
    async with mail_client() as browser:
        assert (await sign_up(browser, EMAIL)).status_code == 303
        weak = await _gatepass(
            mail_settings, tmp_path, "user", "set-password", EMAIL, "--password-stdin",
            stdin="password1234\n",
        )  # fmt: skip
        assert_one_line_error(weak, "too common")
        assert await is_signed_in(browser)

        result = await _gatepass(
            mail_settings, tmp_path, "user", "set-password", EMAIL, "--password-stdin",
            stdin=NEW_PASSWORD + "\n",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "ended 1 session(s)" in result.stdout
        assert not await is_signed_in(browser)
        assert (await log_in(browser, EMAIL, PASSWORD)).status_code == 200
        assert (await log_in(browser, EMAIL, NEW_PASSWORD)).status_code == 303
    assert await _audited(backends, Event.PASSWORD_RESET) == ["cli"]


@pytest.mark.parametrize("command", ["verify-email", "reset-password", "set-password"])
async def test_an_unknown_user_is_one_line(
    command: str, mail_settings: Settings, backends: Backends, tmp_path: Path
) -> None:
    extra = ("--password-stdin",) if command == "set-password" else ()
    result = await _gatepass(
        mail_settings, tmp_path, "user", command, "nobody@example.com", *extra,
        stdin=NEW_PASSWORD + "\n",
    )  # fmt: skip
    assert_one_line_error(result, "no user")
