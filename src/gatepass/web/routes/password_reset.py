"""Password reset by mail (ASVS 6.4.1, 6.4.3, 6.3.8; SECURITY.md AU-11, AU-18).

    GET  /forgot-password        ─► the form
    POST /forgot-password        ─► throttled per address asked and per client address;
                                    the same page whatever the address; the lookup, the
                                    link and the mail happen after the response is sent
    GET  /reset-password?token=T ─► 303, token into a sealed cookie, no-referrer, no-store
    GET  /reset-password         ─► new-password form (the link is checked, not used)
    POST /reset-password         ─► link used once; sign-up's password rules; address
                                    verified; every session, refresh family and access
                                    token of the account ended; audited; then the login page

A reset never signs the person in: they log in with the new password, second factor
included, so a mailbox alone never passes for a second factor.
"""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatepass.accounts.email import normalize_email
from gatepass.accounts.lifecycle import LinkRefused
from gatepass.accounts.links import LinkPurpose, describe_lifetime
from gatepass.audit.model import AuditEventType as Event
from gatepass.errors import ValidationError
from gatepass.throttle.limiter import Throttled
from gatepass.web.client import throttle_key
from gatepass.web.forms import parse_form
from gatepass.web.link_landing import PRIVATE, forget, invalid_link, land, landed_token
from gatepass.web.mailing import after_response, reset_mail
from gatepass.web.pages import redirect, render
from gatepass.web.sign_out import sign_out_everywhere
from gatepass.web.state import Services, services
from gatepass.web.visitor import Visitor, check_csrf, clear_session_cookie, visitor

PATH = "/reset-password"
PURPOSE = LinkPurpose.RESET_PASSWORD
DONE = "/login?notice=password-reset"


async def forgot_page(request: Request) -> Response:
    return render(request, "forgot_password.html", await visitor(request), headers=PRIVATE)


async def forgot(request: Request) -> Response:
    gp = services(request)
    form = await parse_form(request)
    who = await visitor(request)
    check_csrf(request, form, who)
    email = form.get("email", "")
    try:
        await gp.throttle.check("reset", _account_key(email), throttle_key(gp.address(request)))
    except Throttled as exc:
        message = f"Too many requests. Try again in {exc.retry_after_seconds} seconds."
        headers = {**PRIVATE, "Retry-After": str(exc.retry_after_seconds)}
        error_page = {"error": message}
        return render(
            request, "forgot_password.html", who, error_page, status_code=429, headers=headers
        )
    page: dict[str, object] = {"sent": True, "expires_in": describe_lifetime(PURPOSE)}
    response = render(request, "forgot_password.html", who, page, headers=PRIVATE)

    async def mail_if_known() -> None:
        # After the response: known and unknown addresses answer alike, in the same time.
        found = await gp.lifecycle.reset_link(email)
        if found is None:
            return
        user, issued = found
        await gp.audit_event(request, Event.PASSWORD_RESET_REQUESTED, user=user)
        await gp.postman.deliver(reset_mail(gp, user, issued))

    return after_response(response, mail_if_known)


async def reset_page(request: Request) -> Response:
    gp = services(request)
    landing = land(request, gp, PURPOSE, PATH)
    if landing is not None:
        return landing
    who = await visitor(request)
    try:
        user = await gp.lifecycle.check_reset(landed_token(request, gp, PURPOSE))
    except LinkRefused:
        return _invalid(request, who)
    return render(request, "reset_password.html", who, {"email": user.email}, headers=PRIVATE)


async def reset(request: Request) -> Response:
    gp = services(request)
    form = await parse_form(request)
    who = await visitor(request)
    check_csrf(request, form, who)
    token = landed_token(request, gp, PURPOSE)
    try:
        user = await gp.lifecycle.reset_password(token, form.get("password", ""))
    except LinkRefused:
        return _invalid(request, who)
    except ValidationError as exc:
        return await _try_again(request, gp, who, token, exc.message)
    # The old password may be known to someone else: nothing it opened stays open.
    await sign_out_everywhere(gp, user.id)
    await gp.audit_event(request, Event.PASSWORD_RESET, user=user)
    response = redirect(DONE)
    clear_session_cookie(response, gp)  # whatever session it held has ended
    return forget(response, gp, PURPOSE)


async def _try_again(
    request: Request, gp: Services, who: Visitor, token: str, error: str
) -> Response:
    try:
        user = await gp.lifecycle.check_reset(token)
    except LinkRefused:
        return _invalid(request, who)
    page = {"email": user.email, "error": error}
    return render(request, "reset_password.html", who, page, status_code=400, headers=PRIVATE)


def _account_key(email: str) -> str:
    try:
        return normalize_email(email)
    except ValidationError:
        return email.strip().lower()[:254]


def _invalid(request: Request, who: Visitor) -> Response:
    return invalid_link(request, who, "/forgot-password", "Ask for a new link")


routes = [
    Route("/forgot-password", forgot_page, methods=["GET"]),
    Route("/forgot-password", forgot, methods=["POST"]),
    Route(PATH, reset_page, methods=["GET"]),
    Route(PATH, reset, methods=["POST"]),
]
