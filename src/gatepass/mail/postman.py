"""Composing and delivering mail without ever failing the request that asked for it.

`deliver` never raises: a mail server that is down, slow or refusing is logged (the kind
and the recipient, never the message, whose links are secrets) and the person's request
still succeeds. The web layer runs it after the response is sent, so a slow server
delays no page and the answer takes the same time whether a message was sent or not
(ASVS 6.3.8).
"""

import logging
from typing import Any

import aiosmtplib

from gatepass.mail.message import OutgoingMail
from gatepass.mail.senders import MailSender
from gatepass.mail.templates import MailTemplates

log = logging.getLogger("gatepass.mail")


class Postman:
    def __init__(self, sender: MailSender, templates: MailTemplates) -> None:
        self.sender = sender
        self._templates = templates

    def compose(self, kind: str, to: str, **context: Any) -> OutgoingMail:
        return self._templates.compose(kind, to, context)

    async def deliver(self, mail: OutgoingMail) -> bool:
        """Send; True when the server took it, False (logged) when it did not."""
        try:
            await self.sender.send(mail)
        except (OSError, aiosmtplib.SMTPException, TimeoutError) as exc:
            log.error("%s mail to %s not sent: %s: %s", mail.kind, mail.to, type(exc).__name__, exc)
            return False
        return True
