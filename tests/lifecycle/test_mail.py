"""The mail layer: SMTP URL, the development folder, template overrides, settings."""

import email
import email.policy
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from gatepass.clock import FixedClock
from gatepass.config import Secret, Settings, load_settings
from gatepass.errors import ConfigError
from gatepass.mail.message import OutgoingMail
from gatepass.mail.postman import Postman
from gatepass.mail.senders import FolderSender, SmtpSender, parse_smtp_url, sender_for
from gatepass.mail.templates import KINDS, MailTemplates
from gatepass.storage.backends import Backends
from tests.lifecycle.conftest import link_in
from tests.support import sign_up, web_client


@pytest.mark.parametrize(
    ("url", "host", "port", "tls", "user", "password"),
    [
        ("smtp://127.0.0.1:1025", "127.0.0.1", 1025, False, None, None),
        ("smtp://mail.example", "mail.example", 25, False, None, None),
        ("smtps://u%40x.org:p%3As%2Fw@mail.example", "mail.example", 465, True, "u@x.org", "p:s/w"),
        ("smtps://ada:secret@mail.example:2465", "mail.example", 2465, True, "ada", "secret"),
    ],
    ids=["plain-with-port", "default-port-25", "implicit-tls-encoded-credentials", "tls-port"],
)
def test_smtp_urls_are_read_with_decoded_credentials(
    url: str, host: str, port: int, tls: bool, user: str | None, password: str | None
) -> None:
    server = parse_smtp_url(Secret(url))
    assert (server.host, server.port, server.implicit_tls) == (host, port, tls)
    assert (server.username, server.password) == (user, password)


def test_the_smtp_url_is_a_secret_that_never_shows() -> None:
    settings = load_settings(environ={"GATEPASS_SMTP_URL": "smtps://ada:hunter22@mail.example"})
    assert isinstance(settings.smtp_url, Secret)
    assert "hunter22" not in repr(settings)
    assert isinstance(
        sender_for(settings.smtp_url, "a@b.example", "mail", FixedClock()), SmtpSender
    )


@pytest.mark.parametrize(
    "url",
    ["http://mail.example", "smtp://", "smtp://mail.example:port", "mail.example:25"],
    ids=["wrong-scheme", "no-host", "bad-port", "no-scheme"],
)
def test_a_malformed_smtp_url_stops_the_start_without_repeating_it(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"GATEPASS_SMTP_URL": url})
    assert "GATEPASS_SMTP_URL" in str(caught.value)


def test_every_kind_has_a_subject_a_text_and_an_html_part() -> None:
    templates = MailTemplates()
    for kind in KINDS:
        mail = templates.compose(
            kind,
            "ada@example.com",
            {
                "name": "Ada <script>",
                "link": "https://id.example/x?token=abc",
                "expires_in": "1 hour",
                "old_email": "old@example.com",
                "new_email": "new@example.com",
                "account_url": "https://id.example/account",
            },
        )
        assert mail.subject
        assert "\n" not in mail.subject
        assert "Ada <script>" in mail.text
        assert "Ada &lt;script&gt;" in mail.html  # HTML is escaped, text is not


def test_an_override_folder_replaces_single_files(tmp_path: Path) -> None:
    (tmp_path / "verify-email.subject.txt").write_text("Welcome to Example, {{ name }}\n")
    mail = MailTemplates(tmp_path).compose(
        "verify-email", "ada@example.com", {"name": "Ada", "link": "L", "expires_in": "1 hour"}
    )
    assert mail.subject == "Welcome to Example, Ada"
    assert "please confirm" in mail.text  # the built-in body stays


async def test_the_development_sender_writes_eml_files_and_logs_their_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="gatepass.mail")
    folder = tmp_path / "outbox"
    postman = Postman(FolderSender(folder, "gp <gp@example.com>", FixedClock()), MailTemplates())
    mail = OutgoingMail("verify-email", "ada@example.com", "Hi", "text part", "<p>html</p>")
    assert await postman.deliver(mail)
    [path] = folder.glob("*.eml")
    assert path.stat().st_mode & 0o077 == 0  # carries live links: the owner's only
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert parsed["To"] == "ada@example.com"
    assert parsed["From"] == "gp <gp@example.com>"
    assert str(path) in caplog.text


async def test_without_smtp_a_sign_up_writes_the_verification_mail_to_the_folder(
    make_settings: Callable[..., Settings], backends: Backends, tmp_path: Path
) -> None:
    folder = tmp_path / "dev-mail"
    settings = make_settings(mail_folder=str(folder))
    async with web_client(settings, backends) as browser:
        assert (await sign_up(browser, "ada@example.com")).status_code == 303
    [path] = folder.glob("*-verify-email-*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    assert link_in(message).startswith("/verify-email?token=")
