"""Mail senders: SMTP (RFC 5321; STARTTLS RFC 3207, implicit TLS RFC 8314) or a folder.

    smtp://host:25                   plain, upgraded by STARTTLS when the server offers it
    smtps://user:password@host:465   TLS from the first byte (RFC 8314 §3.3)

User and password are URL-decoded. Without an SMTP URL, the development sender writes
each message as an `.eml` file into a folder and logs its path: nothing leaves the host.
"""

import asyncio
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from gatepass.clock import Clock
from gatepass.config import Secret
from gatepass.mail.message import OutgoingMail

log = logging.getLogger("gatepass.mail")
SMTP_TIMEOUT_SECONDS = 15
DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


class MailSender(Protocol):
    """Hands one message on; raises OSError or aiosmtplib.SMTPException when it cannot."""

    async def send(self, mail: OutgoingMail) -> None: ...


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None


def parse_smtp_url(url: Secret) -> SmtpServer:
    """The server an `smtp://` or `smtps://` URL names (config.py has checked its shape)."""
    parts = urlsplit(url.reveal())
    return SmtpServer(
        host=parts.hostname or "localhost",
        port=parts.port or DEFAULT_PORTS.get(parts.scheme, 25),
        implicit_tls=parts.scheme == "smtps",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


class SmtpSender:
    def __init__(self, server: SmtpServer, mail_from: str, clock: Clock) -> None:
        self._server = server
        self._from = mail_from
        self._clock = clock

    async def send(self, mail: OutgoingMail) -> None:
        server = self._server
        await aiosmtplib.send(
            mail.as_message(self._from, self._clock.now()),
            hostname=server.host,
            port=server.port,
            username=server.username,
            password=server.password,
            use_tls=server.implicit_tls,
            # None: STARTTLS when offered; with implicit TLS the channel is already secure.
            start_tls=False if server.implicit_tls else None,
            timeout=SMTP_TIMEOUT_SECONDS,
        )


class FolderSender:
    """Development: each message becomes `<folder>/<time>-<kind>-<random>.eml`."""

    def __init__(self, folder: Path, mail_from: str, clock: Clock) -> None:
        self._folder = folder
        self._from = mail_from
        self._clock = clock

    async def send(self, mail: OutgoingMail) -> None:
        now = self._clock.now()
        path = self._folder / f"{int(now)}-{mail.kind}-{uuid.uuid4().hex[:12]}.eml"
        data = mail.as_message(self._from, now).as_bytes()
        await asyncio.to_thread(self._write, path, data)
        # Development only: the path is what the developer opens to follow the link.
        log.warning("mail to %s written to %s (no smtp_url set)", mail.to, path)
        print(f"gatepass: mail to {mail.to} written to {path}", flush=True)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Messages carry live links: readable by the owner only.
        with path.open("xb") as handle:
            path.chmod(0o600)
            handle.write(data)


def sender_for(smtp_url: Secret | None, mail_from: str, folder: str, clock: Clock) -> MailSender:
    if smtp_url is None:
        return FolderSender(Path(folder), mail_from, clock)
    return SmtpSender(parse_smtp_url(smtp_url), mail_from, clock)
