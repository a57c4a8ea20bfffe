"""Mail from the web layer: links built on the issuer, sent after the response is out.

Messages go out in a Starlette background task, which runs once the response has been
sent: a slow or broken mail server never delays or fails a page, and a page that mails
answers as fast as one that does not (ASVS 6.3.8). `Postman.deliver` logs a failure and
never raises.
"""

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.background import BackgroundTasks
from starlette.responses import Response

from gatepass.accounts.links import IssuedLink, LinkPurpose, describe_lifetime
from gatepass.accounts.model import User
from gatepass.mail import templates as kinds
from gatepass.mail.message import OutgoingMail
from gatepass.web.state import Services

# Where each kind of link lands (web/routes/): GET shows a page, only a POST uses it.
LINK_PATHS = {
    LinkPurpose.VERIFY_EMAIL: "/verify-email",
    LinkPurpose.RESET_PASSWORD: "/reset-password",
    LinkPurpose.CHANGE_EMAIL: "/confirm-email-change",
}


def link_url(gp: Services, issued: IssuedLink) -> str:
    purpose = LinkPurpose(issued.link.purpose)
    return f"{gp.settings.issuer}{LINK_PATHS[purpose]}?token={quote(issued.token)}"


def _mail(gp: Services, kind: str, user: User, issued: IssuedLink, **extra: str) -> OutgoingMail:
    purpose = LinkPurpose(issued.link.purpose)
    return gp.postman.compose(
        kind,
        issued.link.email,
        name=user.name,
        link=link_url(gp, issued),
        expires_in=describe_lifetime(purpose),
        **extra,
    )


def verification_mail(gp: Services, user: User, issued: IssuedLink) -> OutgoingMail:
    return _mail(gp, kinds.VERIFY_EMAIL, user, issued)


def reset_mail(gp: Services, user: User, issued: IssuedLink) -> OutgoingMail:
    return _mail(gp, kinds.RESET_PASSWORD, user, issued)


def email_change_mails(gp: Services, user: User, issued: IssuedLink) -> list[OutgoingMail]:
    """The confirmation link to the new address and a notice (no link) to the old one."""
    confirm = _mail(gp, kinds.CONFIRM_NEW_EMAIL, user, issued, old_email=user.email)
    notice = gp.postman.compose(
        kinds.EMAIL_CHANGE_NOTICE,
        user.email,
        name=user.name,
        new_email=issued.link.email,
        account_url=f"{gp.settings.issuer}/account",
    )
    return [confirm, notice]


def after_response(response: Response, work: Callable[[], Awaitable[object]]) -> Response:
    """Run `work` once `response` is sent, after any task the response already has."""
    tasks = BackgroundTasks()
    if response.background is not None:
        tasks.add_task(response.background)
    tasks.add_task(work)
    response.background = tasks
    return response


def send_after(response: Response, gp: Services, mails: list[OutgoingMail]) -> Response:
    async def deliver() -> None:
        for mail in mails:
            await gp.postman.deliver(mail)

    return after_response(response, deliver)
