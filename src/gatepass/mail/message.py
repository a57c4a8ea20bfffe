"""Outgoing mail (RFC 5322 messages with a text and an HTML alternative, RFC 2046 §5.1.4)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid


@dataclass(frozen=True)
class OutgoingMail:
    """One message to one recipient; `kind` names its template (for logs, never the body)."""

    kind: str
    to: str
    subject: str
    text: str
    html: str

    def as_message(self, sender: str, at: float) -> EmailMessage:
        message = EmailMessage()
        message["From"] = sender
        message["To"] = self.to
        message["Subject"] = self.subject
        message["Date"] = format_datetime(datetime.fromtimestamp(at, UTC))
        message["Message-ID"] = make_msgid(domain=_domain_of(sender))
        # Links in these messages are secrets: ask relays and clients not to auto-reply.
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(self.text)
        message.add_alternative(self.html, subtype="html")
        return message


def _domain_of(address: str) -> str:
    domain = address.rsplit("@", 1)[-1].strip(" >")
    return domain or "localhost"
