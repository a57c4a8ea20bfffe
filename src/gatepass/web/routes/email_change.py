"""Changing the account's e-mail address: the new one proves itself first (ASVS 6.4.*).

    POST /account/email            ─► CSRF, recent sign-in (ASVS 7.5.1), address free;
                                      a link to the NEW address (change-email, 24 h, bound
                                      to it), a notice without link to the OLD one; audited
    GET  /confirm-email-change?token=T ─► 303, token into a sealed cookie
    GET  /confirm-email-change     ─► "Confirm" button (GET uses nothing)
    POST /confirm-email-change     ─► link used; the address becomes the account's,
                                      verified; audited

Until the link is used the account keeps its old address, so a typo or a session left
open cannot move the account to an inbox nobody controls.
"""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatepass.accounts.lifecycle import LinkRefused
from gatepass.accounts.link_store import AccountLink
from gatepass.accounts.links import LinkPurpose
from gatepass.accounts.service import EmailTaken
from gatepass.audit.model import AuditEventType as Event
from gatepass.errors import ValidationError
from gatepass.web.forms import parse_form
from gatepass.web.link_landing import confirm_page as link_page
from gatepass.web.link_landing import forget, invalid_link, landed_token, message_page
from gatepass.web.mailing import email_change_mails, send_after
from gatepass.web.pages import redirect, signed_in_form
from gatepass.web.recent_auth import require_recent_auth
from gatepass.web.state import services
from gatepass.web.visitor import Visitor, check_csrf, visitor

PATH = "/confirm-email-change"
PURPOSE = LinkPurpose.CHANGE_EMAIL
NOTICES = {
    "email-change-sent": "We sent a link to the new address; your address changes when you "
    "open it. Your current address was told of the request.",
}


async def request_change(request: Request) -> Response:
    gp = services(request)
    checked = await signed_in_form(request)
    if isinstance(checked, Response):
        return checked
    who, member, form = checked
    if (confirm_first := require_recent_auth(gp, member.session)) is not None:
        return confirm_first
    user = member.user
    try:
        issued = await gp.lifecycle.email_change_link(user, form.get("email", ""))
    except ValidationError as exc:
        status = 409 if isinstance(exc, EmailTaken) else 400
        return message_page(
            request, who, "The address was not changed", exc.message, status_code=status
        )
    await gp.audit_event(request, Event.EMAIL_CHANGE_REQUESTED, user=user, detail=issued.link.email)
    response = redirect("/account?notice=email-change-sent")
    return send_after(response, gp, email_change_mails(gp, user, issued))


async def confirm_page(request: Request) -> Response:
    def wording(link: AccountLink) -> dict[str, str]:
        return {
            "title": "Confirm your new e-mail address",
            "message": f"Make {link.email} the e-mail address of your account.",
            "button": "Confirm",
        }

    return await link_page(request, PURPOSE, PATH, wording, _invalid)


async def confirm(request: Request) -> Response:
    gp = services(request)
    form = await parse_form(request)
    who = await visitor(request)
    check_csrf(request, form, who)
    try:
        before, after = await gp.lifecycle.change_email(landed_token(request, gp, PURPOSE))
    except LinkRefused:
        return _invalid(request, who)
    except EmailTaken as exc:
        return message_page(
            request, who, "The address was not changed", exc.message, status_code=409
        )
    detail = f"{before.email} -> {after.email}"
    await gp.audit_event(request, Event.EMAIL_CHANGED, user=after, detail=detail)
    message = f"The e-mail address of your account is now {after.email}."
    return forget(message_page(request, who, "E-mail address changed", message), gp, PURPOSE)


def _invalid(request: Request, who: Visitor) -> Response:
    return invalid_link(request, who, "/account", "Ask again from your account page")


routes = [
    Route("/account/email", request_change, methods=["POST"]),
    Route(PATH, confirm_page, methods=["GET"]),
    Route(PATH, confirm, methods=["POST"]),
]
