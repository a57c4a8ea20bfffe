"""A real SMTP server (aiosmtpd) on a loopback port, and the app configured to use it.

The server runs in its own thread; each message it accepts is kept, parsed, so a test
reads what a person would find in their inbox and follows the link in it.
"""

import email
import email.policy
import re
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from gatepass.accounts.model import User
from gatepass.clock import FixedClock
from gatepass.config import Secret, Settings
from gatepass.storage.backends import Backends
from tests.support import csrf_of, web_client

_LINK = re.compile(r"http://127\.0\.0\.1:8000/[a-z-]+\?token=[A-Za-z0-9_%-]+")


@dataclass
class Inbox:
    """Every message the SMTP server accepted, in order."""

    messages: list[EmailMessage] = field(default_factory=list)
    port: int = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def last_to(self, address: str) -> EmailMessage:
        found = self.to(address)
        assert found, f"no mail to {address}; got {[m['To'] for m in self.messages]}"
        return found[-1]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content


def link_in(message: EmailMessage) -> str:
    """The one link in the message's text part, as a path with its query."""
    links = _LINK.findall(text_of(message))
    assert len(links) == 1, links
    return str(links[0]).removeprefix("http://127.0.0.1:8000")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def mail_settings(make_settings: Callable[..., Settings], inbox: Inbox) -> Settings:
    return make_settings(smtp_url=Secret(f"smtp://127.0.0.1:{inbox.port}"))


MailClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def mail_client(mail_settings: Settings, backends: Backends, clock: FixedClock) -> MailClient:
    """A browser against the app that mails through the test SMTP server, on a fixed clock."""

    def make(**kwargs: Any) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        return web_client(mail_settings, backends, clock=clock, **kwargs)

    return make


@pytest.fixture
async def browser(mail_client: MailClient) -> AsyncIterator[httpx.AsyncClient]:
    async with mail_client() as client:
        yield client


async def follow(client: httpx.AsyncClient, link: str) -> httpx.Response:
    """Open a mailed link as a browser: the landing redirect, then the page it leads to."""
    landing = await client.get(link)
    assert landing.status_code == 303, (landing.status_code, landing.text[:300])
    assert "token" not in landing.headers["location"]
    return await client.get(landing.headers["location"])


async def confirm(
    client: httpx.AsyncClient, page: httpx.Response, path: str, data: dict[str, str] | None = None
) -> httpx.Response:
    """Press the page's button: POST its form with the page's CSRF token."""
    assert page.status_code == 200, (page.status_code, page.text[:300])
    return await client.post(path, data={"csrf_token": csrf_of(page.text), **(data or {})})


async def user_named(backends: Backends, email: str) -> User:
    user = await backends.users.find_by_email(email)
    assert user is not None
    return user
