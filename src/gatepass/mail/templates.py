"""Mail templates: Jinja2, a text and an HTML part per kind, overridable file by file.

A kind `K` is `K.subject.txt` (one line), `K.txt` and `K.html`. A folder given in the
`mail_templates` setting is searched first, so an operator replaces one file and keeps
the rest. HTML is autoescaped; the text part is not (it is not HTML).
"""

from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    select_autoescape,
)

from gatepass.mail.message import OutgoingMail

VERIFY_EMAIL = "verify-email"
RESET_PASSWORD = "reset-password"  # noqa: S105 - a template name
CONFIRM_NEW_EMAIL = "confirm-new-email"
EMAIL_CHANGE_NOTICE = "email-change-notice"
KINDS = (VERIFY_EMAIL, RESET_PASSWORD, CONFIRM_NEW_EMAIL, EMAIL_CHANGE_NOTICE)


class MailTemplates:
    def __init__(self, override: Path | None = None) -> None:
        loaders: list[Any] = [FileSystemLoader(override)] if override is not None else []
        loaders.append(PackageLoader("gatepass.mail", "templates"))
        self._env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,  # a typo in an override fails loudly, not silently
            keep_trailing_newline=True,
        )

    def compose(self, kind: str, to: str, context: dict[str, Any]) -> OutgoingMail:
        values = {"to": to, **context}
        subject = self._env.get_template(f"{kind}.subject.txt").render(values)
        return OutgoingMail(
            kind=kind,
            to=to,
            # A header is one line: a template must not be able to add headers.
            subject=" ".join(subject.split()),
            text=self._env.get_template(f"{kind}.txt").render(values),
            html=self._env.get_template(f"{kind}.html").render(values),
        )
