"""E-mail verification: the link mailed at sign-up or on request, and its confirm page.

    sign-up / "send again" ─► link mailed (24 h, single use, bound to account + address)
    GET  /verify-email?token=T ─► 303, token into a sealed cookie (web/link_landing.py)
    GET  /verify-email         ─► "Verify" button (a prefetching scanner uses nothing)
    POST /verify-email         ─► CSRF checked, link used, email_verified set, audited

Sending again is throttled per account and per client address, like logins.
"""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatepass.accounts.lifecycle import LinkRefused
from gatepass.accounts.link_store import AccountLink
from gatepass.accounts.links import LinkPurpose
from gatepass.accounts.model import User
from gatepass.audit.model import AuditEventType as Event
from gatepass.throttle.limiter import Throttled
from gatepass.web.client import throttle_key
from gatepass.web.forms import parse_form
from gatepass.web.link_landing import confirm_page as link_page
from gatepass.web.link_landing import forget, invalid_link, landed_token, message_page
from gatepass.web.mailing import send_after, verification_mail
from gatepass.web.pages import redirect, signed_in_form
from gatepass.web.state import Services, services
from gatepass.web.visitor import Visitor, check_csrf, visitor

PATH = "/verify-email"
PURPOSE = LinkPurpose.VERIFY_EMAIL
NOTICES = {
    "verification-sent": "We sent a verification link to your e-mail address.",
    "verification-throttled": "A link was sent several times already; try again later.",
    "email-already-verified": "Your e-mail address is verified already.",
}


async def mail_verification_link(
    request: Request, gp: Services, user: User, response: Response
) -> Response:
    """Issue a verification link for `user` and mail it once `response` is sent."""
    issued = await gp.lifecycle.verification_link(user)
    if issued is None:
        return response
    await gp.audit_event(request, Event.EMAIL_VERIFICATION_SENT, user=user)
    return send_after(response, gp, [verification_mail(gp, user, issued)])


async def resend(request: Request) -> Response:
    gp = services(request)
    checked = await signed_in_form(request)
    if isinstance(checked, Response):
        return checked
    _, member, _ = checked
    if member.user.email_verified:
        return redirect("/account?notice=email-already-verified")
    try:
        await gp.throttle.check("verify-mail", member.user.id, throttle_key(gp.address(request)))
    except Throttled:
        return redirect("/account?notice=verification-throttled")
    response = redirect("/account?notice=verification-sent")
    return await mail_verification_link(request, gp, member.user, response)


async def verify_page(request: Request) -> Response:
    def wording(link: AccountLink) -> dict[str, str]:
        return {
            "title": "Verify your e-mail address",
            "message": f"Confirm that {link.email} is your e-mail address.",
            "button": "Verify",
        }

    return await link_page(request, PURPOSE, PATH, wording, _invalid)


async def verify(request: Request) -> Response:
    gp = services(request)
    form = await parse_form(request)
    who = await visitor(request)
    check_csrf(request, form, who)
    try:
        user = await gp.lifecycle.verify_email(landed_token(request, gp, PURPOSE))
    except LinkRefused:
        return _invalid(request, who)
    await gp.audit_event(request, Event.EMAIL_VERIFIED, user=user)
    message = f"{user.email} is verified. Thank you."
    return forget(message_page(request, who, "E-mail address verified", message), gp, PURPOSE)


def _invalid(request: Request, who: Visitor) -> Response:
    # A new link comes from the account page (signed in), never from the bare address.
    return invalid_link(request, who, "/account", "Send a new link from your account page")


routes = [
    Route(PATH, verify_page, methods=["GET"]),
    Route(PATH, verify, methods=["POST"]),
    Route("/account/verify-email/resend", resend, methods=["POST"]),
]
